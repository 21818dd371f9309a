/** The few statistics the benchmarks report: medians of timings, means ± sample std over seeds. */

/** The middle value (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Mean and sample standard deviation (0 for a single value). */
export function meanSd(xs: readonly number[]): { m: number; sd: number } {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { m, sd };
}

/** `mean ± sd` with `d` decimals. */
export function meanPm(xs: readonly number[], d = 4): string {
  const { m, sd } = meanSd(xs);
  return `${m.toFixed(d)} ± ${sd.toFixed(d)}`;
}

/** A difference: `+mean ± sd` or `−mean ± sd` (typographic minus) with `d` decimals. */
export function signedMeanPm(xs: readonly number[], d = 4): string {
  const { m, sd } = meanSd(xs);
  return `${m >= 0 ? '+' : '−'}${Math.abs(m).toFixed(d)} ± ${sd.toFixed(d)}`;
}
