import * as tf from '@tensorflow/tfjs';
import type { FunctionalModel } from '../models/index.js';
import { sequentialBatches, disposeBatch, type LabelledSplit } from './batches.js';
import { taskKind } from '../tasks/index.js';
import { recomputeStatistics } from './statistics.js';
import type { TaskMetrics } from './metrics.js';

export type { TaskMetrics } from './metrics.js';

/**
 * Each task's metrics over a whole split, by its kind's accumulator (src/tasks): the mean loss and
 * accuracy (classification), MAE (regression), or the per-pixel metrics, each summed over all samples or
 * valid pixels of the split, so the result does not depend on the batch size.
 */
export function evaluateSplit(
  model: FunctionalModel,
  params: readonly tf.Tensor[],
  split: LabelledSplit,
  batchSize = 1000,
  statistics?: readonly tf.Tensor[],
): TaskMetrics[] {
  if (model.statistics.length && (!statistics || statistics.length !== model.statistics.length)) throw new Error('a model with BatchNormalization is evaluated with its statistics');
  const accumulators = model.losses.map((kind, k) => taskKind(kind).accumulator({ classes: model.spec.numClasses[k] }));
  // a per-pixel split evaluates in smaller batches: its outputs are H·W times larger
  const pixels = Math.max(1, ...(split.labelShapes ?? []).map((s) => s.reduce((a, b) => a * b, 1)));
  const rows = Math.max(1, Math.min(batchSize, Math.floor(262_144 / pixels)));
  for (const b of sequentialBatches(split, model.spec.inputShape, rows)) {
    tf.tidy(() => {
      const outs = model.forward(params, b.x, statistics);
      accumulators.forEach((acc, k) => acc.add(outs[k], b.y[k]));
    });
    disposeBatch(b);
  }
  return accumulators.map((acc) => acc.result());
}

/**
 * Metrics of one point on several splits; a model with BatchNormalization first gets its statistics
 * at `params` from `train` (src/train/statistics.ts).
 */
export function evaluateSplits(model: FunctionalModel, params: readonly tf.Tensor[], splits: LabelledSplit[], train?: LabelledSplit, batchSize = 1000): TaskMetrics[][] {
  const statistics = recomputeStatistics(model, params, train);
  try {
    return splits.map((s) => evaluateSplit(model, params, s, batchSize, statistics));
  } finally {
    tf.dispose(statistics);
  }
}

/** Per-task metrics keyed by task name (the form stored in metrics.json / profile.json). */
export function byTaskName(names: string[], metrics: TaskMetrics[]): Record<string, TaskMetrics> {
  const out: Record<string, TaskMetrics> = {};
  names.forEach((n, k) => (out[n] = metrics[k]));
  return out;
}
