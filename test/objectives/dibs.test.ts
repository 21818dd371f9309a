import { describe, it, expect } from 'vitest';
import { dibsWeights, getObjective, type GradientObjective } from '../../src/objectives/index.js';

function gradientObjective(name: string): GradientObjective {
  const o = getObjective(name);
  if (!o.needsGradients) throw new Error(`${name} needs no gradients`);
  return o;
}
import { makeRng } from '../../src/util/rng.js';

const dibs = gradientObjective('dibs-mtl');
const lsDirection = (G: Float64Array[], r: number[]) => G[0].map((_, i) => G.reduce((s, g, k) => s + r[k] * g[i], 0));
const unit = (d: Float64Array) => {
  const n = Math.sqrt(d.reduce((a, v) => a + v * v, 0));
  return d.map((v) => v / n);
};
const cos = (a: Float64Array, b: Float64Array) => unit(a).reduce((s, v, i) => s + v * unit(b)[i], 0);
function randomGrads(seed: number, K: number, n: number): Float64Array[] {
  const r = makeRng(seed);
  return Array.from({ length: K }, () => Float64Array.from({ length: n }, () => 2 * r.next() - 1));
}
const run = (G: Float64Array[], pref: number[]) => dibs.aggregate({ losses: G.map(() => 1), grads: G, preference: pref, state: {}, step: 0 }, { maxNorm: 0 }).direction!;

describe('DiBS-MTL', () => {
  it('one step from δ = 0: β_k = s·r·ρ_k, so the update is s·r·Σ_k ρ_k û_k (closed form)', () => {
    const G = [Float64Array.from([3, 0, 0]), Float64Array.from([0, 0.5, 0])];
    const w = dibsWeights(G, [0.7, 0.3], { radius: 1, stepSize: 0.2, steps: 1 });
    expect(w[0]).toBeCloseTo((0.2 * 1 * 1.4) / 3, 12);
    expect(w[1]).toBeCloseTo((0.2 * 1 * 0.6) / 0.5, 12);
  });

  it('the bargaining steps favour the task farther from δ: two tasks, the second step weights by d_k = ‖δ + r·û_k‖', () => {
    // û_0 = e0, û_1 = e1, uniform: δ1 = −0.2(e0 + e1); d_0 = d_1 = ‖(0.8, −0.2)‖ — symmetric; then check by hand
    const G = [Float64Array.from([2, 0]), Float64Array.from([0, 5])];
    const w = dibsWeights(G, [0.5, 0.5], { radius: 1, stepSize: 0.2, steps: 2 });
    const d2 = Math.hypot(0.8, -0.2);
    expect(w[0] * 2).toBeCloseTo(0.2 * 1 + 0.2 * d2, 12);
    expect(w[1] * 5).toBeCloseTo(0.2 * 1 + 0.2 * d2, 12);
  });

  it('is invariant to monotone non-affine loss transformations (exp L, L², 10·L + 3 on one task); linear scalarization is not', () => {
    for (const K of [2, 3]) {
      const G = randomGrads(K, K, 40);
      const L = [0.7, 1.9, 0.4].slice(0, K);
      const pref = Array(K).fill(1 / K);
      // replacing L_0 by f(L_0) multiplies g_0 by f'(L_0)
      for (const [name, dfdl] of [['exp', Math.exp(L[0])], ['square', 2 * L[0]], ['10L+3', 10]] as const) {
        const T = G.map((g, k) => (k === 0 ? g.map((v) => v * dfdl) : g));
        expect(cos(run(T, pref), run(G, pref)), `dibs ${name}`).toBeCloseTo(1, 10);
        expect(cos(lsDirection(T, pref), lsDirection(G, pref)), `ls ${name}`).toBeLessThan(0.999);
      }
    }
  });

  it('a uniform preference is the authors’ method; a preference tilts the update toward its task', () => {
    const G = [Float64Array.from([1, 0]), Float64Array.from([0, 1])];
    const d = run(G, [0.8, 0.2]);
    expect(d[0]).toBeGreaterThan(d[1]);
    const u = run(G, [0.5, 0.5]);
    expect(u[0]).toBeCloseTo(u[1], 12);
    // the update is clipped to maxNorm by default
    const big = dibs.aggregate({ losses: [1, 1], grads: G.map((g) => g.map((v) => v * 1e-6)), preference: [0.5, 0.5], state: {}, step: 0 }).direction!;
    expect(Math.hypot(...big)).toBeLessThanOrEqual(1 + 1e-12);
  });

  it('a task with a zero gradient gets no weight instead of a division by zero', () => {
    const w = dibsWeights([Float64Array.from([0, 0]), Float64Array.from([1, 2])], [0.5, 0.5]);
    expect(w[0]).toBe(0);
    expect(Number.isFinite(w[1])).toBe(true);
  });
});
