import { describe, it, expect } from 'vitest';
import { interpolateProfile, type ProfilePoint } from '../../src/curves/index.js';
import type { TaskMetrics } from '../../src/train/metrics.js';
import { ExtraInputError } from '../../src/errors.js';

/**
 * interpolateProfile (src/curves/query.ts): the sweep's numbers at t by linear interpolation between
 * the two grid points around t; exactly the grid numbers at a grid point.
 */

const m = (loss: number, accuracy: number) => ({ loss, accuracy });
// a non-uniform grid, two tasks, different numbers on val and test
const points: ProfilePoint[] = [
  { t: 0, val: [m(1.0, 0.5), m(3.0, 0.1)], test: [m(1.1, 0.45), m(3.3, 0.12)] },
  { t: 0.25, val: [m(2.0, 0.6), m(2.0, 0.3)], test: [m(2.2, 0.55), m(2.1, 0.33)] },
  { t: 0.5, val: [m(2.5, 0.7), m(1.0, 0.5)], test: [m(2.4, 0.66), m(0.9, 0.52)] },
  { t: 1, val: [m(4.5, 0.9), m(0.2, 0.9)], test: [m(4.1, 0.88), m(0.3, 0.86)] },
];

function expectMetrics(got: TaskMetrics[], want: [number, number][]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, k) => {
    expect(g.loss).toBeCloseTo(want[k][0], 12);
    expect(g.accuracy).toBeCloseTo(want[k][1], 12);
  });
}

describe('interpolateProfile', () => {
  it('at a grid point: exactly that point’s numbers', () => {
    for (const p of points) {
      const q = interpolateProfile(points, p.t);
      expect(q.t).toBe(p.t);
      expect(q.val).toEqual(p.val);
      expect(q.test).toEqual(p.test);
    }
  });

  it('between grid points: the linear interpolation of the two neighbours (hand-computed)', () => {
    // t = 0.1 in [0, 0.25]: weight 0.4 on the right point
    let q = interpolateProfile(points, 0.1);
    expect(q.t).toBe(0.1);
    expectMetrics(q.val, [
      [1.0 + 0.4 * (2.0 - 1.0), 0.5 + 0.4 * (0.6 - 0.5)], // 1.4, 0.54
      [3.0 + 0.4 * (2.0 - 3.0), 0.1 + 0.4 * (0.3 - 0.1)], // 2.6, 0.18
    ]);
    expectMetrics(q.test, [
      [1.1 + 0.4 * 1.1, 0.45 + 0.4 * 0.1], // 1.54, 0.49
      [3.3 - 0.4 * 1.2, 0.12 + 0.4 * 0.21], // 2.82, 0.204
    ]);
    // t = 0.4 in [0.25, 0.5]: weight 0.6 on the right point
    q = interpolateProfile(points, 0.4);
    expectMetrics(q.val, [
      [2.3, 0.66],
      [1.4, 0.42],
    ]);
    expectMetrics(q.test, [
      [2.2 + 0.6 * 0.2, 0.55 + 0.6 * 0.11], // 2.32, 0.616
      [2.1 - 0.6 * 1.2, 0.33 + 0.6 * 0.19], // 1.38, 0.444
    ]);
    // t = 0.8 in the long last interval [0.5, 1]: weight 0.6 on the right point
    q = interpolateProfile(points, 0.8);
    expectMetrics(q.val, [
      [2.5 + 0.6 * 2.0, 0.7 + 0.6 * 0.2], // 3.7, 0.82
      [1.0 - 0.6 * 0.8, 0.5 + 0.6 * 0.4], // 0.52, 0.74
    ]);
    expectMetrics(q.test, [
      [2.4 + 0.6 * 1.7, 0.66 + 0.6 * 0.22], // 3.42, 0.792
      [0.9 - 0.6 * 0.6, 0.52 + 0.6 * 0.34], // 0.54, 0.724
    ]);
  });

  it('just inside a grid interval stays continuous with the grid values (no jump at the knots)', () => {
    for (let i = 1; i < points.length - 1; i++) {
      const t = points[i].t;
      for (const e of [-1e-9, 1e-9]) {
        const q = interpolateProfile(points, t + e);
        q.val.forEach((v, k) => expect(Math.abs(v.loss - points[i].val[k].loss)).toBeLessThan(1e-6));
      }
    }
  });

  it('t outside the profile grid is refused, not extrapolated', () => {
    for (const t of [-0.01, 1.01, NaN, Infinity]) expect(() => interpolateProfile(points, t), String(t)).toThrow(ExtraInputError);
  });
});
