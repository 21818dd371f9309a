import { NurbsError } from './errors.js';
import { rationalBasis, rationalBasisDerivative } from './basis.js';
import { clampedUniformKnots } from './knots.js';

/** The name of a spec's shape (nurbs, bezier, polychain, line); curve kinds are tabled in src/curves/kinds. */
export type NurbsKind = string;

/** Everything but the control points: kind, degree, knots and weights. */
export interface NurbsSpec {
  kind: NurbsKind;
  degree: number;
  knots: number[];
  weights: number[];
}

function checkPoints(points: ArrayLike<number>[], n: number): number {
  if (points.length === 0) throw new NurbsError('a curve needs control points, got none');
  if (points.length !== n) throw new NurbsError(`need ${n} control points, got ${points.length}`);
  const d = points[0].length;
  for (let i = 1; i < n; i++) if (points[i].length !== d) throw new NurbsError(`control point ${i} has dimension ${points[i].length}, expected ${d}`);
  return d;
}

function combine(R: Float64Array, points: ArrayLike<number>[]): Float64Array {
  const d = points[0].length;
  const out = new Float64Array(d);
  for (let i = 0; i < R.length; i++) {
    const r = R[i];
    if (r === 0) continue;
    const P = points[i];
    for (let q = 0; q < d; q++) out[q] += r * P[q];
  }
  return out;
}

/** C(t) = Σ_i R_i(t) P_i for control points of any dimension. */
export function curvePoint(t: number, points: ArrayLike<number>[], weights: ArrayLike<number>, knots: ArrayLike<number>, degree: number): Float64Array {
  checkPoints(points, weights.length);
  return combine(rationalBasis(t, knots, degree, weights), points);
}

/** dC/dt = Σ_i R_i'(t) P_i. */
export function curveDerivative(t: number, points: ArrayLike<number>[], weights: ArrayLike<number>, knots: ArrayLike<number>, degree: number): Float64Array {
  checkPoints(points, weights.length);
  return combine(rationalBasisDerivative(t, knots, degree, weights), points);
}

/** The straight line between two points: degree 1, knots (0,0,1,1). */
export function lineSpec(): NurbsSpec {
  return { kind: 'line', degree: 1, knots: [0, 0, 1, 1], weights: [1, 1] };
}

/** Bézier curve of nControl points: degree nControl−1, no interior knots, unit weights. */
export function bezierSpec(nControl: number): NurbsSpec {
  if (!Number.isInteger(nControl) || nControl < 2) throw new NurbsError(`a Bézier curve needs at least 2 control points, got ${nControl}`);
  const p = nControl - 1;
  return { kind: 'bezier', degree: p, knots: [...Array(p + 1).fill(0), ...Array(p + 1).fill(1)], weights: Array(nControl).fill(1) };
}

/** PolyChain (Garipov et al.): degree 1 through nControl points, uniform knots at the bends. */
export function polychainSpec(nControl: number): NurbsSpec {
  return { kind: 'polychain', degree: 1, knots: clampedUniformKnots(nControl, 1), weights: Array(nControl).fill(1) };
}

/**
 * NURBS with clamped uniform knots and unit initial weights. With fewer control points than
 * degree+1 the degree is lowered to nControl−1 (the paper's code kept degree 3 with 3 control
 * points, whose basis then does not sum to one).
 */
export function nurbsSpec(nControl: number, degree = 3): NurbsSpec {
  if (!Number.isInteger(nControl) || nControl < 2) throw new NurbsError(`a NURBS curve needs at least 2 control points, got ${nControl}`);
  const p = Math.min(degree, nControl - 1);
  return { kind: 'nurbs', degree: p, knots: clampedUniformKnots(nControl, p), weights: Array(nControl).fill(1) };
}
