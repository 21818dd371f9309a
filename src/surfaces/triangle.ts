import { DomainError } from '../errors.js';

/**
 * Triangular Bézier patches over the 2-simplex (pure math). A point is barycentric (u, v, w),
 * u + v + w = 1, u, v, w ≥ 0; corner 0 is u = 1, corner 1 is v = 1, corner 2 is w = 1. Control
 * points P_ijk with i + j + k = n; basis B_ijk = n!/(i! j! k!) uⁱ vʲ wᵏ (Farin, "Triangular
 * Bernstein–Bézier patches", 1986).
 */
export type Bary = [number, number, number];

/** Multi-indices (i, j, k), i + j + k = n, in a fixed order: i descending, then j descending. */
export function triangleIndices(n: number): [number, number, number][] {
  if (!Number.isInteger(n) || n < 1) throw new DomainError(`triangular patch degree must be an integer ≥ 1, got ${n}`);
  const out: [number, number, number][] = [];
  for (let i = n; i >= 0; i--) for (let j = n - i; j >= 0; j--) out.push([i, j, n - i - j]);
  return out;
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

export function checkBary(b: readonly number[]): Bary {
  if (b.length !== 3 || b.some((x) => !Number.isFinite(x) || x < -1e-12)) throw new DomainError(`barycentric coordinates must be 3 non-negative numbers, got [${b.join(', ')}]`);
  const s = b[0] + b[1] + b[2];
  if (Math.abs(s - 1) > 1e-9) throw new DomainError(`barycentric coordinates must sum to 1, got ${s}`);
  return [Math.max(0, b[0]), Math.max(0, b[1]), Math.max(0, b[2])];
}

/** All Bernstein basis values at b, in triangleIndices order; they sum to 1. */
export function triangleBasis(n: number, bary: readonly number[]): Float64Array {
  const [u, v, w] = checkBary(bary);
  const idx = triangleIndices(n);
  const nf = factorial(n);
  return Float64Array.from(idx.map(([i, j, k]) => (nf / (factorial(i) * factorial(j) * factorial(k))) * u ** i * v ** j * w ** k));
}

/** Index of the corner control points (n,0,0), (0,n,0), (0,0,n) in triangleIndices order. */
export function cornerIndices(n: number): [number, number, number] {
  const idx = triangleIndices(n);
  const find = (t: [number, number, number]) => idx.findIndex((x) => x[0] === t[0] && x[1] === t[1] && x[2] === t[2]);
  return [find([n, 0, 0]), find([0, n, 0]), find([0, 0, n])];
}

/** Barycentric position of control point (i, j, k): (i, j, k)/n (where linear precision places it). */
export function controlBary(n: number): Bary[] {
  return triangleIndices(n).map(([i, j, k]) => [i / n, j / n, k / n]);
}

/** Regular grid on the simplex with `resolution` steps per edge: (r+1)(r+2)/2 points, corners included. */
export function simplexGrid(resolution: number): Bary[] {
  const out: Bary[] = [];
  for (let i = resolution; i >= 0; i--) for (let j = resolution - i; j >= 0; j--) out.push([i / resolution, j / resolution, (resolution - i - j) / resolution]);
  return out;
}

/** Uniform sample on the simplex (sorted-uniforms construction, i.e. Dirichlet(1,1,1)). */
export function sampleSimplex(u1: number, u2: number): Bary {
  const [a, b] = u1 < u2 ? [u1, u2] : [u2, u1];
  return [a, b - a, 1 - b];
}
