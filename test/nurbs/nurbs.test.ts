import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import {
  clampedUniformKnots,
  validateKnots,
  bsplineBasis,
  rationalBasis,
  rationalBasisDerivative,
  rationalBasisWeightJacobian,
  curvePoint,
  curveDerivative,
  bezierSpec,
  lineSpec,
  polychainSpec,
  nurbsSpec,
  NurbsError,
  findSpan,
  basisFunctions,
  basisFunctionDerivatives,
  bsplineBasisDerivative,
} from '../../src/nurbs/index.js';
import { DomainError } from '../../src/errors.js';
import { makeRng } from '../../src/util/rng.js';

// verb-nurbs (test-only oracle) is a browser build that expects a global `window`.
(globalThis as { window?: unknown }).window = globalThis;
const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const verb: any = require('verb-nurbs');

const tsGrid = Array.from({ length: 41 }, (_, i) => i / 40);

describe('B-spline and rational basis', () => {
  it('The NURBS Book Ex. 2.3: U = {0,0,0,1,2,3,4,4,5,5,5}/5, p = 2, at u = 5/2: N2 = 1/8, N3 = 6/8, N4 = 1/8', () => {
    const U = [0, 0, 0, 1, 2, 3, 4, 4, 5, 5, 5].map((u) => u / 5);
    const N = bsplineBasis(0.5, U, 2, 8);
    expect(N[2]).toBeCloseTo(1 / 8, 14);
    expect(N[3]).toBeCloseTo(6 / 8, 14);
    expect(N[4]).toBeCloseTo(1 / 8, 14);
    expect(N[0] + N[1] + N[5] + N[6] + N[7]).toBe(0);
  });

  it('The NURBS Book Ex. 2.4 (derivatives of Ex. 2.3): dN/du at u = 5/2 is −1/2, 0, 1/2 (×5 after rescaling to [0,1])', () => {
    const U = [0, 0, 0, 1, 2, 3, 4, 4, 5, 5, 5].map((u) => u / 5);
    const span = findSpan(0.5, U, 2, 8);
    expect(span).toBe(4);
    const ders = basisFunctionDerivatives(span, 0.5, U, 2, 2);
    expect(Array.from(ders[0])).toEqual(Array.from(basisFunctions(span, 0.5, U, 2)));
    // N2 = (3−u)²/2, N3 = −11/2 + 5u − u², N4 = (u−2)²/2 on [2,3]; d/dt = 5 d/du, d²/dt² = 25 d²/du²
    [-1 / 2, 0, 1 / 2].forEach((v, j) => expect(ders[1][j]).toBeCloseTo(5 * v, 13));
    [1, -2, 1].forEach((v, j) => expect(ders[2][j]).toBeCloseTo(25 * v, 11));
    const full = bsplineBasisDerivative(0.5, U, 2, 8);
    expect(Array.from(full)).toEqual([0, 0, ders[1][0], ders[1][1], ders[1][2], 0, 0, 0]);
  });

  it('findSpan closes the last non-empty span on the right and skips empty spans', () => {
    const U = [0, 0, 0, 0.2, 0.4, 0.6, 0.8, 0.8, 1, 1, 1];
    expect(findSpan(0, U, 2, 8)).toBe(2);
    expect(findSpan(0.2, U, 2, 8)).toBe(3);
    expect(findSpan(0.79, U, 2, 8)).toBe(5);
    expect(findSpan(0.8, U, 2, 8)).toBe(7);
    expect(findSpan(1, U, 2, 8)).toBe(7);
  });

  it('partition of unity, non-negativity and local support, t = 0 and t = 1 included', () => {
    for (const [n, p] of [[4, 3], [7, 3], [5, 2], [3, 2], [6, 1], [9, 4]]) {
      const U = clampedUniformKnots(n, p);
      for (const t of tsGrid) {
        const N = bsplineBasis(t, U, p, n);
        expect(N.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 13);
        N.forEach((v, i) => {
          expect(v).toBeGreaterThanOrEqual(0);
          // local support: N_{i,p} vanishes outside [u_i, u_{i+p+1}]
          if (t < U[i] || t > U[i + p + 1]) expect(v).toBe(0);
        });
        const w = Array.from({ length: n }, (_, i) => 0.3 + i * 0.4);
        const R = rationalBasis(t, U, p, w);
        expect(R.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 13);
      }
      expect(bsplineBasis(1, U, p, n)[n - 1]).toBe(1);
      expect(bsplineBasis(0, U, p, n)[0]).toBe(1);
    }
  });

  it('Bézier basis equals the Bernstein polynomials; line is (1−t)P0 + tP1; polychain is piecewise linear', () => {
    const s = bezierSpec(4);
    const binom = [1, 3, 3, 1];
    for (const t of tsGrid) {
      const N = bsplineBasis(t, s.knots, s.degree, 4);
      N.forEach((v, i) => expect(v).toBeCloseTo(binom[i] * t ** i * (1 - t) ** (3 - i), 13));
      const l = lineSpec();
      const c = curvePoint(t, [[1, -2], [3, 5]], l.weights, l.knots, l.degree);
      expect(c[0]).toBeCloseTo(1 + 2 * t, 14);
      expect(c[1]).toBeCloseTo(-2 + 7 * t, 14);
    }
    const pc = polychainSpec(3);
    expect(pc.knots).toEqual([0, 0, 0.5, 1, 1]);
    const mid = curvePoint(0.25, [[0], [10], [4]], pc.weights, pc.knots, 1);
    expect(mid[0]).toBeCloseTo(5, 14);
    expect(curvePoint(0.5, [[0], [10], [4]], pc.weights, pc.knots, 1)[0]).toBeCloseTo(10, 14);
  });

  it('Bézier basis of degrees 1..6 equals the Bernstein polynomials', () => {
    const choose = (n: number, k: number): number => (k === 0 ? 1 : (choose(n, k - 1) * (n - k + 1)) / k);
    for (let p = 1; p <= 6; p++) {
      const s = bezierSpec(p + 1);
      expect(s.degree).toBe(p);
      for (const t of tsGrid) {
        const N = bsplineBasis(t, s.knots, p, p + 1);
        N.forEach((v, i) => expect(v).toBeCloseTo(choose(p, i) * t ** i * (1 - t) ** (p - i), 13));
      }
    }
  });

  it('dR/dt sums to zero and each column of dR/dω sums to zero (R stays a partition of unity)', () => {
    const s = nurbsSpec(7, 3);
    const w = [0.3, 1.9, 1, 0.8, 2.5, 0.6, 1.4];
    for (const t of tsGrid) {
      expect(rationalBasisDerivative(t, s.knots, 3, w).reduce((a, b) => a + b, 0)).toBeCloseTo(0, 11);
      const J = rationalBasisWeightJacobian(t, s.knots, 3, w);
      for (let j = 0; j < 7; j++) expect(J.reduce((a, row) => a + row[j], 0)).toBeCloseTo(0, 13);
    }
  });

  it('lowers the NURBS degree when there are too few control points (the basis still sums to one)', () => {
    const s = nurbsSpec(3, 3);
    expect(s.degree).toBe(2);
    expect(bsplineBasis(0.37, s.knots, s.degree, 3).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
  });
});

describe('curves', () => {
  it('endpoint interpolation: C(0) = P0 and C(1) = Pn exactly', () => {
    const rng = makeRng(1);
    const P = Array.from({ length: 5 }, () => Array.from({ length: 7 }, () => rng.normal()));
    const s = nurbsSpec(5, 3);
    const w = [0.5, 2, 1.3, 0.7, 3];
    expect(Array.from(curvePoint(0, P, w, s.knots, 3))).toEqual(P[0]);
    expect(Array.from(curvePoint(1, P, w, s.knots, 3))).toEqual(P[4]);
  });

  it('dC/dt and dR/dω agree with central finite differences', () => {
    const rng = makeRng(2);
    const P = Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => rng.normal()));
    const s = nurbsSpec(6, 3);
    const w = [1, 0.4, 2.2, 1.7, 0.6, 1.1];
    const h = 1e-6;
    for (const t of [0.05, 0.31, 0.5, 0.77, 0.93]) {
      const d = curveDerivative(t, P, w, s.knots, 3);
      const a = curvePoint(t + h, P, w, s.knots, 3);
      const b = curvePoint(t - h, P, w, s.knots, 3);
      d.forEach((v, q) => expect(v).toBeCloseTo((a[q] - b[q]) / (2 * h), 5));
      const dR = rationalBasisDerivative(t, s.knots, 3, w);
      const Ra = rationalBasis(t + h, s.knots, 3, w);
      const Rb = rationalBasis(t - h, s.knots, 3, w);
      dR.forEach((v, i) => expect(v).toBeCloseTo((Ra[i] - Rb[i]) / (2 * h), 5));
      const J = rationalBasisWeightJacobian(t, s.knots, 3, w);
      for (let j = 0; j < 6; j++) {
        const wp = [...w];
        const wm = [...w];
        wp[j] += h;
        wm[j] -= h;
        const Rp = rationalBasis(t, s.knots, 3, wp);
        const Rm = rationalBasis(t, s.knots, 3, wm);
        for (let i = 0; i < 6; i++) expect(J[i][j]).toBeCloseTo((Rp[i] - Rm[i]) / (2 * h), 6);
      }
    }
  });

  it('agrees with verb-nurbs on point and dC/dt for non-uniform knots (dimension 1000)', () => {
    const rng = makeRng(4);
    const dim = 1000;
    for (const [n, p] of [[5, 2], [8, 3]]) {
      const interior = Array.from({ length: n - p - 1 }, () => rng.next()).sort((a, b) => a - b);
      const U = [...Array(p + 1).fill(0), ...interior, ...Array(p + 1).fill(1)];
      const P = Array.from({ length: n }, () => Float64Array.from({ length: dim }, () => rng.normal()));
      const w = Array.from({ length: n }, () => 0.1 + 3 * rng.next());
      const data = new verb.core.NurbsCurveData(p, U, verb.eval.Eval.homogenize1d(P.map((x) => Array.from(x)), w));
      for (const t of [0, 0.2, 0.61, 1]) {
        const [c, dc]: number[][] = verb.eval.Eval.rationalCurveDerivatives(data, t, 1);
        const ours = curvePoint(t, P, w, U, p);
        const dOurs = curveDerivative(t, P, w, U, p);
        let err = 0;
        let dErr = 0;
        for (let q = 0; q < dim; q++) {
          err = Math.max(err, Math.abs(ours[q] - c[q]));
          dErr = Math.max(dErr, Math.abs(dOurs[q] - dc[q]) / (1 + Math.abs(dc[q])));
        }
        expect(err).toBeLessThan(1e-9);
        expect(dErr).toBeLessThan(1e-9);
      }
    }
  });

  it('agrees with verb-nurbs on random rational curves of dimension 1200 within 1e-9', () => {
    const rng = makeRng(3);
    const dim = 1200;
    for (const [n, p] of [[4, 3], [6, 2], [7, 3]]) {
      const P = Array.from({ length: n }, () => Array.from({ length: dim }, () => rng.normal()));
      const w = Array.from({ length: n }, () => 0.2 + 2 * rng.next());
      const U = clampedUniformKnots(n, p);
      const data = new verb.core.NurbsCurveData(p, U, verb.eval.Eval.homogenize1d(P, w));
      for (const t of [0, 0.123, 0.5, 0.871, 1]) {
        const ours = curvePoint(t, P, w, U, p);
        const theirs: number[] = verb.eval.Eval.rationalCurvePoint(data, t);
        let maxErr = 0;
        for (let q = 0; q < dim; q++) maxErr = Math.max(maxErr, Math.abs(ours[q] - theirs[q]));
        expect(maxErr).toBeLessThan(1e-9);
      }
    }
  });
});

describe('bad input is a typed error naming the problem', () => {
  const U = clampedUniformKnots(4, 3);
  const cases: [string, () => unknown, RegExp][] = [
    ['non-monotone knots', () => validateKnots([0, 0, 0, 0, 0.6, 0.4, 1, 1, 1, 1].slice(0, 9), 5, 3), /non-decreasing|domain/],
    ['wrong knot count', () => validateKnots([0, 0, 1, 1, 1], 4, 3), /wrong knot count/],
    ['n < p', () => clampedUniformKnots(3, 3), /n < p/],
    ['non-positive weight', () => rationalBasis(0.5, U, 3, [1, 0, 1, 1]), /weight 1/],
    ['negative weight', () => rationalBasis(0.5, U, 3, [1, -2, 1, 1]), /weight 1/],
    ['t outside [0,1]', () => bsplineBasis(1.2, U, 3, 4), /outside \[0, 1\]/],
    ['NaN t', () => bsplineBasis(NaN, U, 3, 4), /not a number/],
    ['NaN knot', () => validateKnots([0, 0, 0, 0, NaN, 1, 1, 1, 1], 5, 3), /not a finite/],
    ['NaN weight', () => rationalBasis(0.5, U, 3, [1, NaN, 1, 1]), /weight 1/],
    ['infinite weight', () => rationalBasisWeightJacobian(0.5, U, 3, [1, 1, Infinity, 1]), /weight 2/],
    ['weight count', () => curvePoint(0.5, [[0], [1], [2], [3]], [1, 1, 1], U, 3), /control points/],
    ['infinite t', () => rationalBasisDerivative(Infinity, U, 3, [1, 1, 1, 1]), /outside \[0, 1\]/],
    ['negative t', () => curveDerivative(-1e-12, [[0], [1], [2], [3]], [1, 1, 1, 1], U, 3), /outside \[0, 1\]/],
    ['domain not [0,1]', () => validateKnots([0, 0, 0, 0, 2, 2, 2, 2], 4, 3), /domain/],
    ['degree 0', () => clampedUniformKnots(4, 0), /degree/],
    ['interior knot multiplicity > p', () => validateKnots([0, 0, 0.5, 0.5, 0.5, 1, 1], 5, 1), /multiplicity/],
    ['no control points', () => curvePoint(0.5, [], [], U, 3), /control points/],
    ['mixed dimensions', () => curvePoint(0.5, [[0], [1, 2], [2], [3]], [1, 1, 1, 1], U, 3), /dimension/],
    ['one-point Bézier', () => bezierSpec(1), /at least 2/],
  ];
  for (const [name, fn, re] of cases) {
    it(name, () => {
      expect(fn).toThrow(NurbsError);
      expect(fn).toThrow(DomainError);
      expect(fn).toThrow(re);
    });
  }
  it('non-monotone interior knots are named', () => {
    expect(() => validateKnots([0, 0, 0, 0, 0.7, 0.3, 1, 1, 1, 1], 6, 3)).toThrow(/non-decreasing/);
  });
});
