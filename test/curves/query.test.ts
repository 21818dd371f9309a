import { describe, it, expect } from 'vitest';
import { interpolatedOptimum, preferenceToT, type ProfilePoint } from '../../src/curves/index.js';

/** A sweep whose task losses are exact parabolas in t: (t − 0.2)² + 0.3 and 2(t − 0.8)² + 0.1. */
function parabolaSweep(n: number): ProfilePoint[] {
  return Array.from({ length: n }, (_, i) => {
    const t = i / (n - 1);
    const m = (loss: number) => ({ loss, accuracy: 1 - loss });
    return { t, val: [m((t - 0.2) ** 2 + 0.3), m(2 * (t - 0.8) ** 2 + 0.1)], test: [m(0), m(0)] };
  });
}

describe('query refinement by interpolation', () => {
  it('finds the analytic minimizer of the LS criterion between grid points (parabolas are interpolated exactly)', async () => {
    const pts = parabolaSweep(11);
    const rows = pts.map((p) => p.val.map((m) => m.loss));
    const s = [0, 1].map((k) => Math.max(...rows.map((r) => r[k])) - Math.min(...rows.map((r) => r[k])));
    for (const r of [[0.5, 0.5], [0.3, 0.7], [0.9, 0.1]]) {
      // Σ_k r_k ℓ_k / s_k is minimized where Σ_k (r_k/s_k) a_k (t − c_k) = 0
      const w = [(r[0] / s[0]) * 1, (r[1] / s[1]) * 2];
      const tStar = (w[0] * 0.2 + w[1] * 0.8) / (w[0] + w[1]);
      const grid = await preferenceToT(pts, r, 'ls');
      const ans = interpolatedOptimum(pts, r, 'ls', grid.gridIndex, 2001);
      expect(Math.abs(ans.t - tStar)).toBeLessThan(2e-4);
      expect(ans.criterion).toBeLessThanOrEqual(grid.criterion);
    }
  });

  it('keeps the grid point when the interpolant offers nothing better, and copes with tiny sweeps', async () => {
    const pts = parabolaSweep(2);
    const ans = interpolatedOptimum(pts, [0.5, 0.5], 'chebyshev', 0);
    expect(ans.t).toBe(0);
    const three = parabolaSweep(3);
    const g = await preferenceToT(three, [0.5, 0.5], 'chebyshev');
    const a = interpolatedOptimum(three, [0.5, 0.5], 'chebyshev', g.gridIndex);
    expect(a.t).toBeGreaterThanOrEqual(0);
    expect(a.t).toBeLessThanOrEqual(1);
    expect(a.criterion).toBeLessThanOrEqual(g.criterion);
  });
});
