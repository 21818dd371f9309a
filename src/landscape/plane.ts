import { ExtraInputError } from '../errors.js';

/**
 * Planes in weight space (Garipov et al.'s loss-surface plots): an orthonormal basis of the plane
 * through three weight vectors (Gram–Schmidt on w1 − w0 and w2 − w0), coordinates of any weight vector
 * in it and its distance from it, and the grid of models over it. Weight vectors are parameter lists
 * (one Float32Array per tensor); sums run in float64.
 */
export type Weights = readonly Float32Array[];

function dot(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    for (let q = 0; q < x.length; q++) s += x[q] * y[q];
  }
  return s;
}

function combine(terms: [number, Weights][], like: Weights): Float64Array[] {
  const out = like.map((t) => new Float64Array(t.length));
  for (const [c, w] of terms) {
    if (c === 0) continue;
    w.forEach((x, i) => {
      const o = out[i];
      for (let q = 0; q < x.length; q++) o[q] += c * x[q];
    });
  }
  return out;
}

const toF32 = (w: Float64Array[]): Float32Array[] => w.map((x) => Float32Array.from(x));
const norm64 = (w: Float64Array[]) => Math.sqrt(w.reduce((s, x) => s + x.reduce((a, v) => a + v * v, 0), 0));

export interface PlaneBasis {
  origin: Float32Array[];
  /** unit vector along w1 − w0 */
  u: Float32Array[];
  /** unit vector along the part of w2 − w0 orthogonal to u */
  v: Float32Array[];
}

/** The plane through w0, w1, w2; refuses three (nearly) collinear points, which span no plane. */
export function planeBasis(w0: Weights, w1: Weights, w2: Weights): PlaneBasis {
  const d1 = combine([[1, w1], [-1, w0]], w0);
  const n1 = norm64(d1);
  if (!(n1 > 0)) throw new ExtraInputError('the first two points of the plane are the same weights');
  const u = d1.map((x) => x.map((v) => v / n1));
  const d2 = combine([[1, w2], [-1, w0]], w0);
  let proj = 0;
  d2.forEach((x, i) => x.forEach((v, q) => (proj += v * u[i][q])));
  const r = d2.map((x, i) => x.map((v, q) => v - proj * u[i][q]));
  const n2 = norm64(r);
  if (!(n2 > 1e-6 * Math.max(n1, norm64(d2)))) throw new ExtraInputError('the three points of the plane are (nearly) on one line; choose other --points');
  return { origin: w0.map((x) => Float32Array.from(x)), u: toF32(u), v: toF32(r.map((x) => x.map((v) => v / n2))) };
}

/** (a, b) of w's projection onto the plane, and how far w is from it (the residual norm). */
export function planeCoordinates(basis: PlaneBasis, w: Weights): { a: number; b: number; residual: number } {
  const d = combine([[1, w], [-1, basis.origin]], w);
  const a = dot(d, basis.u);
  const b = dot(d, basis.v);
  const r = d.map((x, i) => x.map((v, q) => v - a * basis.u[i][q] - b * basis.v[i][q]));
  return { a, b, residual: norm64(r) };
}

/** origin + a·u + b·v, rounded once to float32. */
export function planePoint(origin: Weights, u: Weights, v: Weights, a: number, b: number): Float32Array[] {
  return toF32(combine([[1, origin], [a, u], [b, v]], origin));
}

/** Grid coordinates covering `points` plus `margin` × their extent on every side (n nodes per axis). */
export function planeGrid(points: readonly { a: number; b: number }[], n: number, margin: number): { as: number[]; bs: number[] } {
  if (!Number.isInteger(n) || n < 2) throw new ExtraInputError(`a plane grid needs at least 2 nodes per axis, got ${n}`);
  if (!(margin >= 0 && Number.isFinite(margin))) throw new ExtraInputError(`the plane margin must be a non-negative number, got ${margin}`);
  const axis = (xs: number[]) => {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const pad = margin * (hi - lo || 1);
    return Array.from({ length: n }, (_, i) => lo - pad + ((hi - lo + 2 * pad) * i) / (n - 1));
  };
  return { as: axis(points.map((p) => p.a)), bs: axis(points.map((p) => p.b)) };
}

/**
 * The mode-connectivity barrier of a path with losses L at ts (0 and 1 included): the largest excess of
 * L(t) over the straight interpolation (1 − t)·L(0) + t·L(1) of its end losses.
 */
export function barrier(ts: readonly number[], losses: readonly number[]): number {
  if (ts.length !== losses.length || ts.length < 2 || ts[0] !== 0 || ts[ts.length - 1] !== 1) throw new ExtraInputError('a barrier needs losses on a t grid from 0 to 1');
  const l0 = losses[0];
  const l1 = losses[losses.length - 1];
  return Math.max(...ts.map((t, i) => losses[i] - ((1 - t) * l0 + t * l1)));
}
