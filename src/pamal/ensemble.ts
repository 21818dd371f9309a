import * as tf from '@tensorflow/tfjs';
import { initParamValues, type FunctionalModel, type ParamSpec } from '../models/index.js';
import { deriveSeed } from '../util/rng.js';

/**
 * A Pareto-manifold ensemble (PaMaL, Dimitriadis et al., "Pareto Manifold Learning", ICLR 2023; code
 * nik-dim/pamal): one full copy of the model's parameters per task, each initialised independently;
 * the model at a preference α on the simplex is θ(α) = Σ_m α_m θ_m (the segment between two members for
 * two tasks, the triangle for three), fed to the same `forward(params, x)` a curve's C(t) is.
 */

/** The members' parameters, member by member: `members.m.<name>` in the model's own order. */
export function pamalParamSpecs(model: FunctionalModel, members: number): ParamSpec[] {
  return Array.from({ length: members }, (_, m) => model.params.map((p) => ({ ...p, name: `members.${m}.${p.name}` }))).flat();
}

/** Every member initialised as the model is, each from its own seed (the authors' reinit_flag). */
export function initPamal(model: FunctionalModel, seed: number, members: number): Float32Array[] {
  return Array.from({ length: members }, (_, m) => initParamValues(model.params, deriveSeed(seed, `pamal/member/${m}`))).flat();
}

/** θ(α) = Σ_m α_m θ_m, parameter by parameter (α has one entry per member). */
export function pamalForward(model: FunctionalModel, tensors: readonly tf.Tensor[], alpha: readonly number[]): tf.Tensor[] {
  const P = model.params.length;
  if (tensors.length !== P * alpha.length) throw new Error(`PaMaL: ${tensors.length} tensors for ${alpha.length} members of ${P} parameters`);
  return model.params.map((_, i) => tf.addN(alpha.map((a, m) => tf.mul(tensors[m * P + i], a))));
}
