import { DomainError } from '../errors.js';

/** Ranks 1..n with ties given their average rank. */
export function ranks(x: readonly number[]): number[] {
  const idx = x.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(x.length);
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let q = i; q <= j; q++) r[idx[q][1]] = avg;
    i = j + 1;
  }
  return r;
}

/** Pearson correlation; NaN when either input is constant (or empty). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new DomainError(`pearson: ${x.length} x values but ${y.length} y values`);
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/**
 * Spearman rank correlation (Pearson correlation of the average ranks). NaN in either input (a
 * diverged loss, say) gives NaN rather than a correlation of an arbitrary ordering.
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new DomainError(`spearman: ${x.length} x values but ${y.length} y values`);
  if (x.some(Number.isNaN) || y.some(Number.isNaN)) return NaN;
  return pearson(ranks(x), ranks(y));
}

/**
 * Angle (radians) between a loss vector and the direction a preference asks for. Convention: a larger
 * r_k asks for a smaller loss on task k, and the matching direction is u_k ∝ 1/r_k (where r_k ℓ_k is
 * equal for all k, the Chebyshev optimum); zero entries of r point along their own axes.
 */
export function preferenceAlignmentAngle(loss: readonly number[], preference: readonly number[]): number {
  if (loss.length !== preference.length) throw new DomainError(`loss has ${loss.length} entries, preference ${preference.length}`);
  preference.forEach((v, k) => {
    if (!Number.isFinite(v) || v < 0) throw new DomainError(`preference entry ${k} must be a finite non-negative number, got ${v}`);
  });
  if (preference.every((v) => v === 0)) throw new DomainError('preference is all zeros');
  loss.forEach((v, k) => {
    if (!Number.isFinite(v)) throw new DomainError(`loss entry ${k} is not finite (${v})`);
  });
  if (loss.every((v) => v === 0)) throw new DomainError('loss vector is zero: its angle to the preference ray is undefined');
  const zeros = preference.filter((v) => v === 0).length;
  const u = preference.map((v) => (zeros > 0 ? (v === 0 ? 1 : 0) : 1 / v));
  const dot = loss.reduce((a, v, k) => a + v * u[k], 0);
  const c = dot / (Math.hypot(...loss) * Math.hypot(...u));
  return Math.acos(Math.max(-1, Math.min(1, c)));
}

/**
 * Δm% (Maninis et al. 2019): mean over metrics of the signed relative change against single-task
 * baselines, sign flipped for metrics where higher is better, in percent (lower is better).
 */
export function deltaM(metrics: readonly number[], baselines: readonly number[], higherIsBetter: readonly boolean[]): number {
  if (metrics.length !== baselines.length || metrics.length !== higherIsBetter.length) throw new DomainError('deltaM: metrics, baselines and directions differ in length');
  baselines.forEach((b, i) => {
    if (!Number.isFinite(b) || b === 0) throw new DomainError(`deltaM: baseline ${i} must be finite and non-zero, got ${b}`);
  });
  const terms = metrics.map((m, i) => ((higherIsBetter[i] ? -1 : 1) * (m - baselines[i])) / baselines[i]);
  return (100 * terms.reduce((a, b) => a + b, 0)) / terms.length;
}
