/**
 * A task's metrics on a split: its mean loss, and the fit — accuracy for a classification task
 * (ce, bce), mean absolute error for a regression (mse, where `loss` is the mean squared error).
 */
export interface TaskMetrics {
  loss: number;
  accuracy?: number;
  mae?: number;
}

/** A task's fit as a person reads it: "81.20%" or "MAE 0.1234". */
export function fitText(m: TaskMetrics, digits = 2): string {
  if (m.accuracy !== undefined) return `${(100 * m.accuracy).toFixed(digits)}%`;
  return m.mae !== undefined ? `MAE ${m.mae.toFixed(digits + 2)}` : '—';
}

/** The same with its name: "accuracy 81.20%" or "MAE 0.1234". */
export function fitPhrase(m: TaskMetrics, digits = 2): string {
  return m.accuracy !== undefined ? `accuracy ${fitText(m, digits)}` : fitText(m, digits);
}

/** Error rates of a row of metrics, or null when some task is a regression (it has no error rate). */
export function errorRates(metrics: readonly TaskMetrics[]): number[] | null {
  return metrics.every((m) => m.accuracy !== undefined) ? metrics.map((m) => 1 - m.accuracy!) : null;
}

/** The population variance of a task's targets: the MSE of always predicting their mean. */
export function targetVariance(y: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i] / y.length;
  let v = 0;
  for (let i = 0; i < y.length; i++) v += (y[i] - mean) ** 2 / y.length;
  return v;
}

/**
 * The weighted mean of several tasks' (or points') metrics: the loss always; accuracy and MAE only
 * where every term has one (a group mixing classification and regression has neither).
 */
export function meanMetrics(terms: readonly TaskMetrics[], weights: readonly number[] = terms.map(() => 1 / terms.length)): TaskMetrics {
  const mean = (get: (m: TaskMetrics) => number | undefined): number | undefined =>
    terms.every((m) => get(m) !== undefined) ? terms.reduce((s, m, i) => s + weights[i] * get(m)!, 0) : undefined;
  const out: TaskMetrics = { loss: mean((m) => m.loss)! };
  const accuracy = mean((m) => m.accuracy);
  const mae = mean((m) => m.mae);
  if (accuracy !== undefined) out.accuracy = accuracy;
  if (mae !== undefined) out.mae = mae;
  return out;
}
