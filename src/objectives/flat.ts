import { combine } from './linalg.js';
import type { AggregationInput, GradientObjective, Objective } from './types.js';

/**
 * Flat-region MTL (Phan et al., "Beyond Losses Reweighting: Empowering Multi-Task Learning via the
 * Generalization Perspective", arXiv 2211.13723): each task's shared parameters are perturbed
 * sharpness-aware, ε_k = ρ·g_k/‖g_k‖, and its gradient there gives the flatness gradient
 * h_k = ∇L_k(θ + ε_k) − g_k; the loss gradients {g_k} and the flatness gradients {h_k} are each combined
 * by a base aggregator and the two directions added (the authors' code does this for PCGrad, MGDA,
 * CAGrad, IMTL). Task heads get their own task's gradient at their SAM-perturbed point. The trainer
 * computes h: one more forward/backward per task per step (a flat-<base> step costs about twice the base
 * method's). `--pref` steers the result as it steers the base.
 */
function baseDirection(base: Objective, input: AggregationInput & { grads: Float64Array[] }, G: Float64Array[], options?: Record<string, number>): { direction: Float64Array; taskWeights: number[] } {
  if (base.needsGradients) {
    const r = base.aggregate({ ...input, grads: G }, options);
    return { direction: r.direction ?? combine(G, r.taskWeights), taskWeights: r.taskWeights };
  }
  const w = base.aggregate(input, options).taskWeights;
  return { direction: combine(G, w), taskWeights: w };
}

export function flatRegion(base: Objective): GradientObjective {
  return {
    name: `flat-${base.name}`,
    description: `flat-region MTL over ${base.name}: ${base.name}(loss gradients) + ${base.name}(flatness gradients at radius rho); one more forward/backward per task`,
    needsGradients: true,
    flatness: true,
    defaults: { ...base.defaults, rho: 0.05 },
    aggregate(input, options) {
      if (!input.flat) throw new Error(`flat-${base.name} needs the flatness gradients from the trainer`);
      const g = baseDirection(base, input, input.grads, options);
      const h = baseDirection(base, input, input.flat, options);
      const d = g.direction.map((v, i) => v + h.direction[i]);
      return { taskWeights: g.taskWeights, direction: d };
    },
  };
}
