import { describe, it, expect } from 'vitest';
import { curveKindTable, curveKinds, getCurveKind, makeGeometry } from '../../src/curves/index.js';
import { curvePoint } from '../../src/nurbs/index.js';
import { ExtraInputError } from '../../src/errors.js';

// every kind of the table, so a new kind is checked without a new test
describe.each(Object.values(curveKindTable))('curve kind $name', (kind) => {
  const n = kind.defaultControls;
  const g = makeGeometry(kind.name);
  // control points in R^2: P_i = (i, i²), so C(t) is checkable by hand at the ends
  const P = Array.from({ length: g.nControls }, (_, i) => [i, i * i]);

  it('is named by its table key and has its default control-point count', () => {
    expect(curveKindTable[kind.name]).toBe(kind);
    expect(g.kind).toBe(kind.name);
    expect(g.nControls).toBe(n);
    expect(g.trainWeights).toBe(kind.trainWeights);
  });

  it('interpolates its endpoints and stays in the convex hull (a partition of unity)', () => {
    expect(Array.from(curvePoint(0, P, g.weights, g.knots, g.degree))).toEqual([0, 0]);
    const end = Array.from(curvePoint(1, P, g.weights, g.knots, g.degree));
    expect(end[0]).toBeCloseTo(n - 1, 12);
    expect(end[1]).toBeCloseTo((n - 1) ** 2, 12);
    // with P_i = (1, i) the first coordinate is Σ R_i(t) = 1 for every t
    const ones = P.map((_, i) => [1, i]);
    for (const t of [0.1, 0.37, 0.5, 0.93]) expect(curvePoint(t, ones, g.weights, g.knots, g.degree)[0]).toBeCloseTo(1, 12);
  });
});

describe('curve kind table', () => {
  it('lists the four kinds of the paper and refuses others by name', () => {
    expect([...curveKinds].sort()).toEqual(['bezier', 'line', 'nurbs', 'polychain']);
    expect(() => getCurveKind('spiral')).toThrow(ExtraInputError);
    expect(() => getCurveKind('toString')).toThrow(/unknown curve kind 'toString'/);
  });

  it('a line has exactly its two endpoints as control points', () => {
    expect(() => makeGeometry('line', 4)).toThrow(/2 control points/);
  });
});
