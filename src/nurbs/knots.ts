import { NurbsError } from './errors.js';

/**
 * Clamped uniform knot vector on [0, 1] for `nControl` control points of degree `degree`:
 * degree+1 zeros, uniform interior knots, degree+1 ones (length nControl + degree + 1).
 */
export function clampedUniformKnots(nControl: number, degree: number): number[] {
  checkDegree(nControl, degree);
  const n = nControl - 1;
  const interior = n - degree; // number of interior knots
  const knots: number[] = [];
  for (let i = 0; i <= degree; i++) knots.push(0);
  for (let j = 1; j <= interior; j++) knots.push(j / (interior + 1));
  for (let i = 0; i <= degree; i++) knots.push(1);
  return knots;
}

function checkDegree(nControl: number, degree: number): void {
  if (!Number.isInteger(degree) || degree < 1) throw new NurbsError(`degree must be an integer ≥ 1, got ${degree}`);
  if (!Number.isInteger(nControl) || nControl < 2) throw new NurbsError(`need at least 2 control points, got ${nControl}`);
  if (nControl - 1 < degree) {
    throw new NurbsError(`n < p: ${nControl} control points cannot carry degree ${degree} (need at least ${degree + 1}; lower the degree)`);
  }
}

/**
 * Validate a knot vector for `nControl` control points of degree p: length n+p+2, finite,
 * non-decreasing, domain [u_p, u_{n+1}] = [0, 1], no interior knot of multiplicity > p.
 */
export function validateKnots(knots: ArrayLike<number>, nControl: number, degree: number): void {
  checkDegree(nControl, degree);
  const expected = nControl + degree + 1;
  if (knots.length !== expected) {
    throw new NurbsError(`wrong knot count: ${nControl} control points of degree ${degree} need ${expected} knots, got ${knots.length}`);
  }
  for (let i = 0; i < knots.length; i++) {
    if (!Number.isFinite(knots[i])) throw new NurbsError(`knot ${i} is not a finite number (${knots[i]})`);
    if (i > 0 && knots[i] < knots[i - 1]) throw new NurbsError(`knots are not non-decreasing: u_${i} = ${knots[i]} < u_${i - 1} = ${knots[i - 1]}`);
  }
  if (knots[degree] !== 0 || knots[nControl] !== 1) {
    throw new NurbsError(`knot domain must be [0, 1]: u_${degree} = ${knots[degree]}, u_${nControl} = ${knots[nControl]}`);
  }
  for (let i = degree + 1; i < nControl; i++) {
    let mult = 1;
    while (i + mult < nControl && knots[i + mult] === knots[i]) mult++;
    if (mult > degree) throw new NurbsError(`interior knot ${knots[i]} has multiplicity ${mult} > degree ${degree} (the curve would break)`);
  }
}

/**
 * Knot span index i with u_i ≤ t < u_{i+1} (The NURBS Book A2.1); t = 1 maps to the last non-empty
 * span, closing the domain on the right.
 */
export function findSpan(t: number, knots: ArrayLike<number>, degree: number, nControl: number): number {
  checkT(t);
  const n = nControl - 1;
  if (t >= knots[n + 1]) {
    let s = n;
    while (s > degree && knots[s] === knots[s + 1]) s--;
    return s;
  }
  if (t <= knots[degree]) {
    let s = degree;
    while (s < n && knots[s + 1] <= t) s++;
    return s;
  }
  let lo = degree;
  let hi = n + 1;
  let mid = (lo + hi) >> 1;
  while (t < knots[mid] || t >= knots[mid + 1]) {
    if (t < knots[mid]) hi = mid;
    else lo = mid;
    mid = (lo + hi) >> 1;
  }
  return mid;
}

export function checkT(t: number): void {
  if (typeof t !== 'number' || Number.isNaN(t)) throw new NurbsError(`t is not a number (${t})`);
  if (!(t >= 0 && t <= 1)) throw new NurbsError(`t = ${t} is outside [0, 1]`);
}
