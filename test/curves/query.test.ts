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

/**
 * L0(t) = t², L1(t) = 3(1 − t)² + 2 on the grid t = i/10. The sweep's ideal point is (0, 2) and its
 * spread (1, 3), so the normalized losses are ℓ0 = t², ℓ1 = (1 − t)² and, for a preference r,
 *   Chebyshev max(r0 t², r1 (1 − t)²) is smallest where r0 t² = r1 (1 − t)²: t* = √r1 / (√r0 + √r1),
 *   LS        r0 t² + r1 (1 − t)² is smallest at t* = r1 / (r0 + r1).
 */
describe('preference → t with a known answer (quadratic losses)', () => {
  const f = (t: number) => [t * t, 3 * (1 - t) ** 2 + 2];
  const pts: ProfilePoint[] = Array.from({ length: 11 }, (_, i) => {
    const t = i / 10;
    return { t, val: f(t).map((loss) => ({ loss, accuracy: 0 })), test: f(t).map(() => ({ loss: 0, accuracy: 0 })) };
  });

  const cases: { method: 'chebyshev' | 'ls'; r: [number, number]; index: number; criterion: number; tStar: number }[] = [
    // r = (0.3, 0.7): grid values max(0.3 t², 0.7 (1−t)²): t=0.5 → 0.175, t=0.6 → max(0.108, 0.112) = 0.112, t=0.7 → 0.147
    { method: 'chebyshev', r: [0.3, 0.7], index: 6, criterion: 0.112, tStar: Math.sqrt(0.7) / (Math.sqrt(0.3) + Math.sqrt(0.7)) },
    // r = (0.8, 0.2): t=0.2 → max(0.032, 0.128) = 0.128, t=0.3 → max(0.072, 0.098) = 0.098, t=0.4 → 0.128; t* = 1/3
    { method: 'chebyshev', r: [0.8, 0.2], index: 3, criterion: 0.098, tStar: 1 / 3 },
    // r = (0.38, 0.62): t=0.5 → 0.25, t=0.6 → 0.1368 + 0.0992 = 0.236, t=0.7 → 0.1862 + 0.0558 = 0.242; t* = 0.62
    { method: 'ls', r: [0.38, 0.62], index: 6, criterion: 0.236, tStar: 0.62 },
    // r = (0.83, 0.17): t=0.1 → 0.0083 + 0.1377 = 0.146, t=0.2 → 0.0332 + 0.1088 = 0.142, t=0.3 → 0.0747 + 0.0833 = 0.158; t* = 0.17
    { method: 'ls', r: [0.83, 0.17], index: 2, criterion: 0.142, tStar: 0.17 },
  ];

  for (const c of cases) {
    it(`${c.method} r = (${c.r.join(', ')}): grid index ${c.index}, refined to t* = ${c.tStar.toFixed(4)}`, async () => {
      const grid = await preferenceToT(pts, c.r, c.method);
      expect(grid.gridIndex).toBe(c.index);
      expect(grid.t).toBe(c.index / 10);
      expect(grid.criterion).toBeCloseTo(c.criterion, 12);
      expect(grid.refined).toBe(false);
      // parabolas through the neighbours interpolate quadratics exactly: only the sampling step is left
      const coarse = interpolatedOptimum(pts, c.r, c.method, grid.gridIndex);
      expect(Math.abs(coarse.t - c.tStar)).toBeLessThanOrEqual(0.2 / 200 / 2 + 1e-12);
      const fine = interpolatedOptimum(pts, c.r, c.method, grid.gridIndex, 4001);
      expect(Math.abs(fine.t - c.tStar)).toBeLessThan(1e-4);
      expect(fine.criterion).toBeLessThan(grid.criterion);
      // golden section on the exact losses converges to the same analytic optimum
      const golden = await preferenceToT(pts, c.r, c.method, f, 40);
      expect(golden.refined).toBe(true);
      expect(golden.gridIndex).toBe(c.index);
      expect(Math.abs(golden.t - c.tStar)).toBeLessThan(1e-5);
    });
  }
});
