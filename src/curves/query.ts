import { ExtraInputError } from '../errors.js';
import type { ProfilePoint } from './profile.js';
import { meanMetrics, type TaskMetrics } from '../train/metrics.js';

export type QueryMethod = 'chebyshev' | 'ls' | 'ray';
export const queryMethods: readonly QueryMethod[] = ['chebyshev', 'ls', 'ray'];

/** Scale of the sweep: ideal point z (best loss per task) and spread s (max − min, > 0). */
export interface LossScale {
  z: number[];
  s: number[];
}

export function lossScale(lossRows: number[][]): LossScale {
  const K = lossRows[0].length;
  const z = Array.from({ length: K }, (_, k) => Math.min(...lossRows.map((r) => r[k])));
  const s = Array.from({ length: K }, (_, k) => Math.max(Math.max(...lossRows.map((r) => r[k])) - z[k], 1e-12));
  return { z, s };
}

/**
 * Scalar criterion (smaller is better) of a loss vector under a normalized preference r (docs/design.md
 * §4), on losses normalized by the sweep's ideal point and spread so that the answer does not
 * depend on the tasks' loss scales.
 *  - chebyshev: max_k r_k ℓ_k
 *  - ls:        Σ_k r_k ℓ_k
 *  - ray:       angle between ℓ and the ray u_k ∝ 1/r_k — the direction on which r_k ℓ_k is equal
 *               for all k, i.e. where the Chebyshev optimum of a continuous front lies (a larger
 *               r_k asks for a smaller ℓ_k in every method).
 */
export function queryCriterion(method: QueryMethod, r: number[], losses: number[], scale: LossScale): number {
  const l = losses.map((v, k) => (v - scale.z[k]) / scale.s[k]);
  switch (method) {
    case 'chebyshev':
      return Math.max(...l.map((v, k) => r[k] * v));
    case 'ls':
      return l.reduce((a, v, k) => a + r[k] * v, 0);
    case 'ray': {
      const zeros = r.filter((v) => v === 0).length;
      const u = r.map((v) => (zeros > 0 ? (v === 0 ? 1 : 0) : 1 / v));
      // shift so every normalized loss is strictly positive (the ideal point itself has no direction)
      const lp = l.map((v) => v + 1e-6);
      const dot = lp.reduce((a, v, k) => a + v * u[k], 0);
      const nl = Math.hypot(...lp);
      const nu = Math.hypot(...u);
      return Math.acos(Math.max(-1, Math.min(1, dot / (nl * nu))));
    }
    default:
      throw new ExtraInputError(`unknown query method '${method as string}' (known: ${queryMethods.join(', ')})`);
  }
}

export interface QueryAnswer {
  t: number;
  method: QueryMethod;
  preference: number[];
  criterion: number;
  /** grid index of the best sweep point and whether golden-section refinement ran */
  gridIndex: number;
  refined: boolean;
}

/**
 * Best t on the sweep, then golden-section search on real evaluations between the grid neighbours
 * of the best point (when `evaluate` is given). Uses validation losses: the test set stays untouched
 * by the choice.
 */
export async function preferenceToT(
  points: ProfilePoint[],
  preference: number[],
  method: QueryMethod = 'chebyshev',
  evaluate?: (t: number) => Promise<number[]> | number[],
  iterations = 8,
): Promise<QueryAnswer> {
  if (!queryMethods.includes(method)) throw new ExtraInputError(`unknown query method '${method}' (known: ${queryMethods.join(', ')})`);
  const rows = points.map((p) => p.val.map((m) => m.loss));
  const scale = lossScale(rows);
  const crit = rows.map((l) => queryCriterion(method, preference, l, scale));
  let best = 0;
  crit.forEach((c, i) => {
    if (c < crit[best]) best = i;
  });
  let t = points[best].t;
  let value = crit[best];
  if (!evaluate || points.length < 2) return { t, method, preference, criterion: value, gridIndex: best, refined: false };
  const f = async (x: number): Promise<number> => queryCriterion(method, preference, await evaluate(x), scale);
  let lo = points[Math.max(0, best - 1)].t;
  let hi = points[Math.min(points.length - 1, best + 1)].t;
  const phi = (Math.sqrt(5) - 1) / 2;
  let c = hi - phi * (hi - lo);
  let d = lo + phi * (hi - lo);
  let fc = await f(c);
  let fd = await f(d);
  for (let i = 0; i < iterations; i++) {
    if (fc < fd) {
      hi = d;
      d = c;
      fd = fc;
      c = hi - phi * (hi - lo);
      fc = await f(c);
    } else {
      lo = c;
      c = d;
      fc = fd;
      d = lo + phi * (hi - lo);
      fd = await f(d);
    }
  }
  const [tc, vc] = fc < fd ? [c, fc] : [d, fd];
  // keep the grid point if refinement did not improve on it (the criterion need not be unimodal)
  if (vc < value) {
    t = tc;
    value = vc;
  }
  return { t, method, preference, criterion: value, gridIndex: best, refined: true };
}

/**
 * Refinement without evaluations: near the best grid point, every objective's validation loss is
 * interpolated by the parabola through the three nearest grid points, and the criterion is minimised
 * on a dense grid of the bracket [t_{i−1}, t_{i+1}]. The caller checks the candidate with one real
 * evaluation (golden section needs ~10, each a pass over the validation set).
 */
export function interpolatedOptimum(points: ProfilePoint[], preference: number[], method: QueryMethod, best: number, samples = 201): { t: number; criterion: number } {
  const rows = points.map((p) => p.val.map((m) => m.loss));
  const scale = lossScale(rows);
  if (points.length < 3) return { t: points[best].t, criterion: queryCriterion(method, preference, rows[best], scale) };
  const i0 = Math.min(Math.max(best - 1, 0), points.length - 3);
  const [ta, tb, tc] = [points[i0].t, points[i0 + 1].t, points[i0 + 2].t];
  const lagrange = (t: number, k: number): number =>
    (rows[i0][k] * (t - tb) * (t - tc)) / ((ta - tb) * (ta - tc)) +
    (rows[i0 + 1][k] * (t - ta) * (t - tc)) / ((tb - ta) * (tb - tc)) +
    (rows[i0 + 2][k] * (t - ta) * (t - tb)) / ((tc - ta) * (tc - tb));
  const lo = points[Math.max(0, best - 1)].t;
  const hi = points[Math.min(points.length - 1, best + 1)].t;
  let bestT = points[best].t;
  let bestC = queryCriterion(method, preference, rows[best], scale);
  for (let q = 0; q < samples; q++) {
    const t = lo + ((hi - lo) * q) / (samples - 1);
    const c = queryCriterion(method, preference, rows[0].map((_, k) => lagrange(t, k)), scale);
    if (c < bestC) {
      bestC = c;
      bestT = t;
    }
  }
  return { t: bestT, criterion: bestC };
}

/** The criterion of a loss vector under the scale of a sweep (to compare an evaluation with the grid). */
export function criterionOnSweep(points: ProfilePoint[], preference: number[], method: QueryMethod, losses: number[]): number {
  return queryCriterion(method, preference, losses, lossScale(points.map((p) => p.val.map((m) => m.loss))));
}

/** Linear interpolation of the sweep's numbers at t (the prediction when no evaluation is run). */
export function interpolateProfile(points: ProfilePoint[], t: number): ProfilePoint {
  // extrapolating past the profile's own grid would invent numbers for models never evaluated
  if (!points.length || !(t >= points[0].t && t <= points[points.length - 1].t)) {
    throw new ExtraInputError(`t = ${t} is outside the profile's grid [${points[0]?.t ?? NaN}, ${points[points.length - 1]?.t ?? NaN}]`);
  }
  let i = 0;
  while (i < points.length - 2 && points[i + 1].t < t) i++;
  const a = points[i];
  const b = points[Math.min(i + 1, points.length - 1)];
  const w = b.t === a.t ? 0 : (t - a.t) / (b.t - a.t);
  const mix = (x: TaskMetrics[], y: TaskMetrics[]) => x.map((m, k) => meanMetrics([m, y[k]], [1 - w, w]));
  return { t, val: mix(a.val, b.val), test: mix(a.test, b.test) };
}
