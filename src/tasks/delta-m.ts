import { deltaM } from '../pareto/index.js';
import { fitMetricNames, higherIsBetter, type FitMetricName, type TaskMetrics } from './types.js';

/** Single-task ("Independent") numbers per task name: the metrics Δm compares against. */
export type BaselineNumbers = Record<string, Partial<Record<FitMetricName, number>>>;

/** The (task, metric) pairs a point and a baseline both have, in task then metric order. */
function sharedMetrics(taskNames: readonly string[], metrics: readonly TaskMetrics[], baseline: BaselineNumbers): { value: number; base: number; higher: boolean }[] {
  return taskNames.flatMap((name, k) =>
    fitMetricNames.flatMap((m) => {
      const value = metrics[k]?.[m];
      const base = baseline[name]?.[m];
      return value !== undefined && base !== undefined ? [{ value, base, higher: higherIsBetter[m] }] : [];
    }),
  );
}

/**
 * Δm% (Maninis et al. 2019; the EXTRA paper's Eq. 8) of a point's per-task metrics against the baseline:
 * the mean over every metric both have of the relative change, signed so that lower is better. Every
 * metric counts once (NYUv2's nine: mIoU, pixel accuracy, two depth errors, five angle numbers), null
 * when the two share none.
 */
export function deltaMPercent(taskNames: readonly string[], metrics: readonly TaskMetrics[], baseline: BaselineNumbers): number | null {
  const shared = sharedMetrics(taskNames, metrics, baseline).filter((s) => s.base !== 0);
  if (!shared.length) return null;
  return deltaM(shared.map((s) => s.value), shared.map((s) => s.base), shared.map((s) => s.higher));
}

/**
 * The mean rank of each row (a method or a point) over every metric all rows have: rank 1 is the best
 * value of a metric, ties share the mean of their ranks. The paper's "MR" column.
 */
export function meanRanks(taskNames: readonly string[], rows: readonly (readonly TaskMetrics[])[]): number[] {
  const sums = rows.map(() => 0);
  let count = 0;
  taskNames.forEach((_, k) => {
    for (const m of fitMetricNames) {
      const values = rows.map((r) => r[k]?.[m]);
      if (values.some((v) => v === undefined)) continue;
      const v = values as number[];
      const better = (a: number, b: number) => (higherIsBetter[m] ? a > b : a < b);
      v.forEach((x, i) => {
        const ahead = v.filter((y) => better(y, x)).length;
        const tied = v.filter((y) => y === x).length;
        sums[i] += ahead + (tied + 1) / 2;
      });
      count++;
    }
  });
  return sums.map((s) => (count ? s / count : NaN));
}

/** A task's baseline numbers from its metrics: the fit metrics it has (the loss is not one). */
export function baselineOf(m: TaskMetrics): Partial<Record<FitMetricName, number>> {
  const out: Partial<Record<FitMetricName, number>> = {};
  for (const name of fitMetricNames) if (m[name] !== undefined) out[name] = m[name];
  return out;
}
