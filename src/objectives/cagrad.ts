import { gram, matVec, projectSimplex, combine } from './linalg.js';
import type { GradientObjective } from './types.js';

/**
 * CAGrad (Liu et al. 2021). With g0 the mean gradient and radius c‖g0‖, the dual is
 *   min_{w ∈ Δ} F(w) = g_wᵀ g0 + c‖g0‖ ‖g_w‖,   g_w = Σ w_k g_k,
 * and the direction is d = g0 + (c‖g0‖/‖g_w‖) g_w, divided by (1 + c²) (the paper's rescaling).
 * F is convex in w; we minimize it by projected gradient descent on the Gram matrix.
 * With a preference b, g0 = Σ_k b_k g_k (the preference-weighted mean; uniform b is the paper's CAGrad),
 * which is what lets CAGrad endpoints favour one side of the trade-off (EXTRA-C).
 */
export function cagradWeights(M: number[][], c: number, preference?: readonly number[], iterations = 2000): number[] {
  const K = M.length;
  const b = preference ? [...preference] : new Array<number>(K).fill(1 / K);
  const Mb = matVec(M, b);
  const g0norm = Math.sqrt(Math.max(0, b.reduce((a, v, k) => a + v * Mb[k], 0)));
  const phi = c * g0norm;
  const F = (w: number[]) => {
    const Mw = matVec(M, w);
    return w.reduce((a, v, k) => a + v * Mb[k], 0) + phi * Math.sqrt(Math.max(1e-20, w.reduce((a, v, k) => a + v * Mw[k], 0)));
  };
  const trace = M.reduce((a, row, k) => a + row[k], 0) || 1;
  let w = [...b];
  let fw = F(w);
  let step = 1 / trace;
  for (let it = 0; it < iterations && step > 1e-14 / trace; it++) {
    const Mw = matVec(M, w);
    const norm = Math.sqrt(Math.max(1e-20, w.reduce((a, v, k) => a + v * Mw[k], 0)));
    const grad = Mb.map((v, k) => v + (phi * Mw[k]) / norm);
    const next = projectSimplex(w.map((v, k) => v - step * grad[k]));
    const fn = F(next);
    if (fn <= fw) {
      w = next;
      fw = fn;
      step *= 1.2;
    } else {
      step *= 0.5;
    }
  }
  return w;
}

export const cagrad: GradientObjective = {
  name: 'cagrad',
  description: 'CAGrad: conflict-averse direction within radius c‖g0‖ of the preference-weighted mean gradient g0',
  needsGradients: true,
  defaults: { c: 0.4 },
  aggregate({ grads, preference }, options = {}) {
    const c = options.c ?? 0.4;
    const M = gram(grads);
    const b = preference;
    const g0 = combine(grads, b);
    if (c === 0) return { taskWeights: [...b], direction: g0 };
    const w = cagradWeights(M, c, b);
    const gw = combine(grads, w);
    const Mb = matVec(M, b);
    const g0norm = Math.sqrt(Math.max(0, Mb.reduce((a, v, k) => a + v * b[k], 0)));
    let gwn = 0;
    for (let i = 0; i < gw.length; i++) gwn += gw[i] * gw[i];
    const lambda = (c * g0norm) / (Math.sqrt(gwn) + 1e-12);
    const d = new Float64Array(g0.length);
    for (let i = 0; i < d.length; i++) d[i] = (g0[i] + lambda * gw[i]) / (1 + c * c);
    const taskWeights = w.map((wk, k) => (b[k] + lambda * wk) / (1 + c * c));
    return { taskWeights, direction: d };
  },
};
