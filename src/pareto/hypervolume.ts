import { DomainError } from '../errors.js';

/** Indices of the non-dominated points (minimization). Of identical points the first is kept. */
export function nonDominated(points: readonly (readonly number[])[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < points.length; i++) {
    let dominated = false;
    for (let j = 0; j < points.length && !dominated; j++) {
      if (i === j) continue;
      if (dominates(points[j], points[i]) || (j < i && equal(points[j], points[i]))) dominated = true;
    }
    if (!dominated) out.push(i);
  }
  return out;
}

/** a dominates b: a ≤ b everywhere and a < b somewhere (minimization). */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strict = false;
  for (let k = 0; k < a.length; k++) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) strict = true;
  }
  return strict;
}

function equal(a: readonly number[], b: readonly number[]): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

function validate(points: readonly (readonly number[])[], ref: readonly number[]): void {
  if (ref.length === 0) throw new DomainError('hypervolume reference point is empty');
  ref.forEach((r, k) => {
    if (!Number.isFinite(r)) throw new DomainError(`hypervolume reference point entry ${k} is not finite (${r})`);
  });
  points.forEach((p, i) => {
    if (p.length !== ref.length) throw new DomainError(`point ${i} has ${p.length} objectives but the reference point has ${ref.length}`);
    p.forEach((v, k) => {
      if (!Number.isFinite(v)) throw new DomainError(`point ${i} objective ${k} is not finite (${v})`);
    });
  });
}

/** Points that strictly dominate the reference point (others add no volume). */
function inside(points: readonly (readonly number[])[], ref: readonly number[]): number[][] {
  return points.filter((p) => p.every((v, k) => v < ref[k])).map((p) => [...p]);
}

/** Exact 2-D hypervolume: sort by the first objective, sweep. */
export function hypervolume2d(points: readonly (readonly number[])[], ref: readonly number[]): number {
  validate(points, ref);
  const pts = inside(points, ref).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let hv = 0;
  let bestY = ref[1];
  for (const [x, y] of pts) {
    if (y < bestY) {
      hv += (ref[0] - x) * (bestY - y);
      bestY = y;
    }
  }
  return hv;
}

/**
 * Exact 3-D hypervolume: sweep along the third objective; between consecutive z levels the
 * dominated region is the 2-D hypervolume of the points seen so far. O(n² log n), plenty for fronts
 * of a few hundred points.
 */
export function hypervolume3d(points: readonly (readonly number[])[], ref: readonly number[]): number {
  validate(points, ref);
  const pts = inside(points, ref).sort((a, b) => a[2] - b[2]);
  let hv = 0;
  const active: number[][] = [];
  for (let i = 0; i < pts.length; i++) {
    active.push([pts[i][0], pts[i][1]]);
    const zNext = i + 1 < pts.length ? pts[i + 1][2] : ref[2];
    const dz = zNext - pts[i][2];
    if (dz > 0) hv += hypervolume2d(active, [ref[0], ref[1]]) * dz;
  }
  return hv;
}

/**
 * Exact hypervolume in any dimension by the WFG algorithm (While, Bradstreet & Barone 2012):
 * hv(S) = Σ_i exclusive volume of s_i w.r.t. the points after it, computed recursively on the
 * "limited" sets. Points are sorted by the last objective to keep the limited sets small.
 */
export function hypervolumeWfg(points: readonly (readonly number[])[], ref: readonly number[]): number {
  validate(points, ref);
  const pts = inside(points, ref);
  const d = ref.length;
  return wfg(pts.sort((a, b) => b[d - 1] - a[d - 1]), ref);
}

function wfg(pts: number[][], ref: readonly number[]): number {
  let hv = 0;
  for (let i = 0; i < pts.length; i++) hv += exclusive(pts, i, ref);
  return hv;
}

function inclusive(p: readonly number[], ref: readonly number[]): number {
  let v = 1;
  for (let k = 0; k < p.length; k++) v *= ref[k] - p[k];
  return v;
}

function exclusive(pts: number[][], i: number, ref: readonly number[]): number {
  const p = pts[i];
  const limited: number[][] = [];
  for (let j = i + 1; j < pts.length; j++) limited.push(p.map((v, k) => Math.max(v, pts[j][k])));
  const nd = nonDominated(limited).map((j) => limited[j]);
  const d = ref.length;
  nd.sort((a, b) => b[d - 1] - a[d - 1]);
  return inclusive(p, ref) - (nd.length === 0 ? 0 : nd.length === 1 ? inclusive(nd[0], ref) : d === 2 ? hypervolume2d(nd, ref) : wfg(nd, ref));
}

/** Exact hypervolume of a set of objective vectors (minimization) w.r.t. a reference point. */
export function hypervolume(points: readonly (readonly number[])[], ref: readonly number[]): number {
  validate(points, ref);
  switch (ref.length) {
    case 1: {
      let m = ref[0];
      for (const p of points) m = Math.min(m, p[0]);
      return ref[0] - m;
    }
    case 2:
      return hypervolume2d(points, ref);
    case 3:
      return hypervolume3d(points, ref);
    default:
      return hypervolumeWfg(points, ref);
  }
}
