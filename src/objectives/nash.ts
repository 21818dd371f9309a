import { gram, combine, clipNorm } from './linalg.js';
import { fairgradWeights } from './fairgrad.js';
import type { GradientObjective } from './types.js';

/**
 * Nash-MTL (Navon et al., ICML 2022): the Nash bargaining weights solve (GᵀG α)_k = 1/α_k, α > 0, and
 * the update is Σ_k α_k g_k. That system is FairGrad's α-fair condition at α = 1 (proportional
 * fairness), so the same damped Newton solves it exactly (the authors iterate convex approximations
 * with cvxpy/ECOS to a residual of 1e-3). As in their code, GᵀG is divided by its Frobenius norm first
 * and the shared-parameter update is clipped to norm ≤ maxNorm (0 turns clipping off).
 *
 * With task priorities ρ = K·preference the weighted bargaining solution solves (GᵀG α)_k = ρ_k/α_k
 * (a uniform preference is plain Nash-MTL), so Nash-MTL endpoints can favour either side.
 * Scale invariance: multiplying task k's loss by c divides α_k by c, so α_k g_k (and the direction, up
 * to the global normalization) does not change.
 */
export function nashWeights(M: number[][], priority?: readonly number[]): number[] {
  const fro = Math.sqrt(M.reduce((s, row) => s + row.reduce((a, v) => a + v * v, 0), 0));
  const scale = fro > 0 ? fro : 1;
  return fairgradWeights(
    M.map((row) => row.map((v) => v / scale)),
    1,
    priority,
  );
}

export const nashMtl: GradientObjective = {
  name: 'nash-mtl',
  description: 'Nash-MTL: bargaining weights (GᵀG α)_k = ρ_k/α_k on the normalized Gram matrix, update clipped to maxNorm; ρ = K·preference',
  needsGradients: true,
  defaults: { maxNorm: 1 },
  aggregate({ grads, preference }, options = {}) {
    const K = grads.length;
    const w = nashWeights(gram(grads), preference.map((r) => r * K));
    return { taskWeights: w, direction: clipNorm(combine(grads, w), options.maxNorm ?? 1) };
  },
};
