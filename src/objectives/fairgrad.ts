import { gram, matVec, solve, combine } from './linalg.js';
import type { GradientObjective } from './types.js';

/**
 * FairGrad (Ban & Ji 2024): α-fair weights solve (GᵀG w)_k = w_k^{−1/α}, w > 0. The system is the
 * stationarity condition of the strictly convex φ(w) = ½ wᵀMw − Σ_k h(w_k) with h'(w) = w^{−1/α},
 * so damped Newton with a positivity-keeping line search finds its unique root.
 *
 * With task priorities ρ (the preference times K, so a uniform preference is plain FairGrad) the
 * utility is Σ_k ρ_k u_α(g_kᵀd); its KKT condition gives (GᵀG w)_k = ρ_k^{1/α} w_k^{−1/α}. The paper's
 * FairGrad has no preference; this weighting is what lets FairGrad endpoints favour one side of the
 * trade-off (EXTRA-F needs two different endpoints).
 */
export function fairgradWeights(M: number[][], alpha: number, priority?: readonly number[], iterations = 100, tol = 1e-12): number[] {
  const K = M.length;
  const p = -1 / alpha;
  // a zero preference entry would drop the task's utility and push w_k to the boundary 0
  const c = Array.from({ length: K }, (_, k) => Math.pow(Math.max(priority?.[k] ?? 1, 1e-6), 1 / alpha));
  const F = (w: number[]) => {
    const Mw = matVec(M, w);
    return Mw.map((v, k) => v - c[k] * Math.pow(w[k], p));
  };
  const norm = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  const scale = Math.max(1e-12, ...M.map((r, k) => r[k]));
  let w = new Array<number>(K).fill(1 / Math.sqrt(scale));
  let f = F(w);
  for (let it = 0; it < iterations && norm(f) > tol * (1 + scale); it++) {
    const J = M.map((row, i) => row.map((v, j) => v + (i === j ? (c[i] / alpha) * Math.pow(w[i], p - 1) : 0)));
    const dx = solve(J, f.map((v) => -v));
    let s = 1;
    // stay positive, then backtrack on the residual norm
    for (let k = 0; k < K; k++) if (w[k] + s * dx[k] <= 0) s = Math.min(s, (0.9 * w[k]) / -dx[k]);
    let next = w.map((v, k) => v + s * dx[k]);
    let fn = F(next);
    while (norm(fn) > norm(f) && s > 1e-12) {
      s *= 0.5;
      next = w.map((v, k) => v + s * dx[k]);
      fn = F(next);
    }
    w = next;
    f = fn;
  }
  return w;
}

export const fairgrad: GradientObjective = {
  name: 'fairgrad',
  description: 'FairGrad: α-fair utility weights, (GᵀG w)_k = ρ_k^(1/α) w_k^(−1/α), ρ = K·preference',
  needsGradients: true,
  defaults: { alpha: 2 },
  aggregate({ grads, preference }, options = {}) {
    const K = grads.length;
    const w = fairgradWeights(gram(grads), options.alpha ?? 2, preference.map((r) => r * K));
    return { taskWeights: w, direction: combine(grads, w) };
  },
};
