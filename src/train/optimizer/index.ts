import * as tf from '@tensorflow/tfjs';
import { ExtraInputError } from '../../errors.js';
import { addDecayedWeights } from './add-decayed-weights.js';
import { fusedHostAdam } from './fused-host-adam.js';
import { scaleByAdam, type AdamHyper } from './scale-by-adam.js';
import { scaleByLearningRate } from './scale-by-learning-rate.js';
import { trace } from './trace.js';
import { applyUpdates, chain, type GradientTransformation, type Slots, type StepContext } from './transform.js';

export { chain, applyUpdates, type GradientTransformation, type StepContext } from './transform.js';
export { addDecayedWeights, scaleByAdam, scaleByLearningRate, trace, fusedHostAdam };

/**
 * The optimizers `--optimizer` names, each a chain of gradient transformations (one file each) —
 * written here rather than using tf.train.* because we need their state as named tensors we can
 * checkpoint and restore exactly (interrupted training resumes bit-for-bit), and because curves
 * train a set of tensors (control points, weight logits) without tfjs Variables.
 */
export type OptimizerName = 'adam' | 'sgd';

export interface OptimizerConfig {
  name: OptimizerName;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  momentum?: number;
  weightDecay?: number;
}

export interface OptimizerState {
  step: number;
  /** named slot tensors, e.g. m/0, v/0 for Adam, mom/0 for SGD with momentum */
  slots: Map<string, tf.Tensor>;
}

const adamHyper = (cfg: OptimizerConfig): AdamHyper => ({ beta1: cfg.beta1 ?? 0.9, beta2: cfg.beta2 ?? 0.999, epsilon: cfg.epsilon ?? 1e-8 });

/** An optimizer: its chain, and optionally the same chain fused for host-memory backends. */
interface OptimizerEntry {
  chain(cfg: OptimizerConfig): GradientTransformation;
  fusedOnHost?(cfg: OptimizerConfig, slots: Slots, params: readonly tf.Tensor[], grads: readonly tf.Tensor[], ctx: StepContext): { params: tf.Tensor[]; slots: Map<string, tf.Tensor> };
}

/** The optimizer table: a new one is one entry (and its transforms, one file each). */
const optimizers: Record<OptimizerName, OptimizerEntry> = {
  adam: { chain: (cfg) => chain(addDecayedWeights(cfg.weightDecay ?? 0), scaleByAdam(adamHyper(cfg)), scaleByLearningRate()), fusedOnHost: (cfg, ...rest) => fusedHostAdam(adamHyper(cfg), cfg.weightDecay ?? 0, ...rest) },
  sgd: { chain: (cfg) => chain(addDecayedWeights(cfg.weightDecay ?? 0), trace(cfg.momentum ?? 0), scaleByLearningRate()) },
};

function entryOf(cfg: OptimizerConfig): OptimizerEntry {
  const e = Object.hasOwn(optimizers, cfg.name) ? optimizers[cfg.name] : undefined;
  if (!e) throw new ExtraInputError(`unknown optimizer '${cfg.name}' (known: ${Object.keys(optimizers).join(', ')})`);
  return e;
}

export function optimizerInit(cfg: OptimizerConfig, params: readonly tf.Tensor[]): OptimizerState {
  return { step: 0, slots: entryOf(cfg).chain(cfg).init(params) };
}

/**
 * One update: new parameter tensors and a new state. The given state is consumed — its slot tensors
 * are disposed (tensor memory is not garbage-collected), so only the returned state may be used
 * afterwards; the caller owns and disposes the old parameters. On tfjs-node(-gpu) the chain's tensor
 * ops run, so parameters need not leave the device; `plain` forces them anywhere (tests).
 */
export function optimizerStep(
  cfg: OptimizerConfig,
  state: OptimizerState,
  params: readonly tf.Tensor[],
  grads: readonly tf.Tensor[],
  lr: number,
  lrScale?: readonly number[],
  plain = false,
): { params: tf.Tensor[]; state: OptimizerState } {
  const entry = entryOf(cfg);
  const ctx: StepContext = { step: state.step + 1, lr, ...(lrScale ? { lrScale } : {}) };
  const hostMemory = tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu';
  let out: { params: tf.Tensor[]; slots: Map<string, tf.Tensor> };
  if (entry.fusedOnHost && hostMemory && !plain) out = entry.fusedOnHost(cfg, state.slots, params, grads, ctx);
  else {
    const transform = entry.chain(cfg);
    out = { params: [], slots: new Map() };
    const kept = out;
    tf.tidy(() => {
      const r = transform.update(grads, state.slots, params, ctx);
      kept.params = applyUpdates(params, r.updates).map((p) => tf.keep(p));
      for (const [k, v] of r.slots) kept.slots.set(k, tf.keep(v));
    });
  }
  for (const t of state.slots.values()) t.dispose();
  return { params: out.params, state: { step: ctx.step, slots: out.slots } };
}

export function disposeOptimizer(state: OptimizerState): void {
  for (const t of state.slots.values()) t.dispose();
  state.slots.clear();
}
