import { combine, clipNorm } from './linalg.js';
import type { GradientObjective } from './types.js';

/**
 * DiBS-MTL (Murthy et al., "Transformation-Invariant Multitask Learning with Direction Oracles"): the
 * direction-based bargaining solution. Each task only reports the direction of its gradient, û_k =
 * g_k/‖g_k‖, and its preferred state −r·û_k on a ball of radius r around the current parameters; the
 * bargaining step starts at δ = 0 and moves δ ← δ − s·Σ_k d_k û_k, where d_k = ‖δ + r·û_k‖ is how far δ
 * still is from task k's preferred state, for `steps` steps or until ‖δ‖ > r (the authors' multi-step
 * variant). The update is Σ_k β_k û_k with β_k = s·Σ_steps d_k, i.e. task weights w_k = β_k/‖g_k‖, and is
 * clipped to maxNorm as in their code.
 *
 * Because only directions enter, replacing L_k by any increasing transformation f(L_k) (which multiplies
 * g_k by f'(L_k) > 0) leaves the update unchanged: the method is invariant to monotone, non-affine loss
 * transformations, where linear scalarization is not. Preferences: the distances are weighted by
 * ρ_k = K·preference_k (a uniform preference is the authors' method), so endpoints can favour a side.
 * r = 1 and s = r/5 mirror the authors' choice step_size = learning_rate/5 with radius = learning_rate.
 */
export function dibsWeights(grads: readonly Float64Array[], preference: readonly number[], opts: { radius?: number; stepSize?: number; steps?: number } = {}): number[] {
  const K = grads.length;
  const r = opts.radius ?? 1;
  const s = opts.stepSize ?? r / 5;
  const steps = opts.steps ?? 5;
  const norms = grads.map((g) => Math.sqrt(g.reduce((a, v) => a + v * v, 0)));
  const unit = grads.map((g, k) => (norms[k] > 0 ? g.map((v) => v / norms[k]) : new Float64Array(g.length)));
  const rho = preference.map((p) => p * K);
  const n = grads[0]?.length ?? 0;
  let delta = new Float64Array(n);
  const beta = new Array<number>(K).fill(0);
  for (let it = 0; it < steps; it++) {
    const d = unit.map((u) => {
      let q = 0;
      for (let i = 0; i < n; i++) q += (delta[i] + r * u[i]) ** 2;
      return Math.sqrt(q);
    });
    d.forEach((dk, k) => (beta[k] += s * rho[k] * dk));
    const next = delta.slice();
    unit.forEach((u, k) => {
      for (let i = 0; i < n; i++) next[i] -= s * rho[k] * d[k] * u[i];
    });
    let nn = 0;
    for (let i = 0; i < n; i++) nn += next[i] * next[i];
    if (Math.sqrt(nn) > r) break;
    delta = next;
  }
  // a task with a zero gradient has no direction to bargain for: it gets no weight
  return beta.map((b, k) => (norms[k] > 0 ? b / norms[k] : 0));
}

export const dibsMtl: GradientObjective = {
  name: 'dibs-mtl',
  description: 'DiBS-MTL: direction-based bargaining on unit task gradients (invariant to monotone loss transformations), clipped to maxNorm; distances weighted by K·preference',
  needsGradients: true,
  defaults: { radius: 1, stepSize: 0.2, steps: 5, maxNorm: 1 },
  aggregate({ grads, preference }, options = {}) {
    const w = dibsWeights(grads, preference, { radius: options.radius, stepSize: options.stepSize, steps: options.steps });
    return { taskWeights: w, direction: clipNorm(combine(grads, w), options.maxNorm ?? 1) };
  },
};
