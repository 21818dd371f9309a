import * as tf from '@tensorflow/tfjs';
import type { FunctionalModel } from '../models/index.js';
import { sequentialBatches, disposeBatch, type LabelledSplit } from './batches.js';
import { taskLoss, correctCount, absoluteErrorSum } from './losses.js';
import { recomputeStatistics } from './statistics.js';
import type { TaskMetrics } from './metrics.js';

export type { TaskMetrics } from './metrics.js';

/** Mean loss and accuracy (classification) or MAE (regression) per task over a whole split. */
export function evaluateSplit(
  model: FunctionalModel,
  params: readonly tf.Tensor[],
  split: LabelledSplit,
  batchSize = 1000,
  statistics?: readonly tf.Tensor[],
): TaskMetrics[] {
  if (model.statistics.length && (!statistics || statistics.length !== model.statistics.length)) throw new Error('a model with BatchNormalization is evaluated with its statistics');
  const K = model.spec.numClasses.length;
  const lossSum = new Float64Array(K);
  // correct predictions (classification) or the sum of absolute errors (regression)
  const correct = new Float64Array(K);
  for (const b of sequentialBatches(split, model.spec.inputShape, batchSize)) {
    tf.tidy(() => {
      const outs = model.forward(params, b.x, statistics);
      for (let k = 0; k < K; k++) {
        lossSum[k] += taskLoss(model.losses[k], outs[k], b.y[k]).dataSync()[0] * b.size;
        correct[k] += model.losses[k] === 'mse' ? absoluteErrorSum(outs[k], b.y[k]) : correctCount(outs[k], b.y[k], model.losses[k]);
      }
    });
    disposeBatch(b);
  }
  return Array.from({ length: K }, (_, k) => (model.losses[k] === 'mse' ? { loss: lossSum[k] / split.n, mae: correct[k] / split.n } : { loss: lossSum[k] / split.n, accuracy: correct[k] / split.n }));
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
