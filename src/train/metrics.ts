import { taskKinds, fitMetricNames, type TaskMetrics } from '../tasks/index.js';

export type { TaskMetrics } from '../tasks/index.js';
export { targetVariance } from '../tasks/index.js';

/** A task's fit as a person reads it: "81.20%" or "MAE 0.1234". */
export function fitText(m: TaskMetrics, digits = 2): string {
  if (m.accuracy !== undefined) return `${(100 * m.accuracy).toFixed(digits)}%`;
  if (m.mae !== undefined) return `MAE ${m.mae.toFixed(digits + 2)}`;
  if (m.miou !== undefined) return `mIoU ${(100 * m.miou).toFixed(digits)}%, pixel acc ${(100 * (m.pixelAccuracy ?? 0)).toFixed(digits)}%`;
  if (m.absErr !== undefined) return `abs err ${m.absErr.toFixed(digits + 2)}, rel err ${(m.relErr ?? 0).toFixed(digits + 2)}`;
  if (m.meanAngle !== undefined) return `mean angle ${m.meanAngle.toFixed(digits)}°, median ${(m.medianAngle ?? 0).toFixed(digits)}°, <11.25° ${(100 * (m.within11_25 ?? 0)).toFixed(1)}%`;
  return '—';
}

/** The one number a figure or a short line shows for a task: accuracy, MAE, mIoU, absolute depth error or mean angle. */
export function headlineFit(m: TaskMetrics | undefined): { name: string; value: number } {
  if (m?.accuracy !== undefined) return { name: 'accuracy', value: m.accuracy };
  if (m?.mae !== undefined) return { name: 'MAE', value: m.mae };
  if (m?.miou !== undefined) return { name: 'mIoU', value: m.miou };
  if (m?.absErr !== undefined) return { name: 'abs err', value: m.absErr };
  if (m?.meanAngle !== undefined) return { name: 'mean angle', value: m.meanAngle };
  return { name: 'accuracy', value: NaN };
}

/** The same with its name: "accuracy 81.20%" or "MAE 0.1234". */
export function fitPhrase(m: TaskMetrics, digits = 2): string {
  return m.accuracy !== undefined ? `accuracy ${fitText(m, digits)}` : fitText(m, digits);
}

/**
 * A task's error for the error hypervolume (its kind's, src/tasks: 1 − accuracy, 1 − mIoU, the relative
 * depth error, the mean angle / 180°), or null when it has none (a per-sample regression).
 */
export function taskError(m: TaskMetrics): number | null {
  for (const kind of Object.values(taskKinds)) {
    const e = kind.error(m);
    if (e !== null) return e;
  }
  return null;
}

/** Errors of a row of metrics, or null when some task has none (a per-sample regression). */
export function errorRates(metrics: readonly TaskMetrics[]): number[] | null {
  const e = metrics.map(taskError);
  return e.every((v) => v !== null) ? (e as number[]) : null;
}

/**
 * The weighted mean of several tasks' (or points') metrics: the loss always; each fit metric only
 * where every term has one (a group mixing classification and regression has neither).
 */
export function meanMetrics(terms: readonly TaskMetrics[], weights: readonly number[] = terms.map(() => 1 / terms.length)): TaskMetrics {
  const mean = (get: (m: TaskMetrics) => number | undefined): number | undefined =>
    terms.every((m) => get(m) !== undefined) ? terms.reduce((s, m, i) => s + weights[i] * get(m)!, 0) : undefined;
  const out: TaskMetrics = { loss: mean((m) => m.loss)! };
  for (const name of fitMetricNames) {
    const v = mean((m) => m[name]);
    if (v !== undefined) out[name] = v;
  }
  return out;
}
