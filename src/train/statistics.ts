import * as tf from '@tensorflow/tfjs';
import { ExtraInputError } from '../errors.js';
import type { FunctionalModel } from '../models/index.js';
import type { LabelledSplit } from './batches.js';

/**
 * BatchNormalization statistics of a point in weight space. The moving averages an endpoint kept are
 * not those of a point C(t) between endpoints (nor of a point of a plane), so, as the
 * mode-connectivity literature does (Garipov et al. 2018, `update_bn`), they are recomputed for every
 * point that is evaluated, queried or exported: a training-mode forward over the first
 * STATISTICS_ROWS training rows in batches of STATISTICS_BATCH, each BatchNormalization's batch mean
 * and (biased, as Keras) variance averaged over the batches. Deterministic: same rows, same order.
 */
export const STATISTICS_ROWS = 4096;
export const STATISTICS_BATCH = 256;

export function describeStatistics(model: FunctionalModel, train: LabelledSplit): string | null {
  if (!model.statistics.length) return null;
  const rows = Math.min(train.n, STATISTICS_ROWS);
  return `BatchNormalization statistics recomputed at every point: mean of batch moments over the first ${rows} training rows (batches of ${STATISTICS_BATCH})`;
}

/** The statistics at `params` (empty for a model without BatchNormalization). */
export function recomputeStatistics(model: FunctionalModel, params: readonly tf.Tensor[], train: LabelledSplit | undefined): tf.Tensor[] {
  if (!model.statistics.length) return [];
  if (!model.batchStatistics) throw new Error('a model with statistics must report its batch statistics');
  if (!train || train.n < 2) throw new ExtraInputError('a model with BatchNormalization needs training rows to recompute its statistics');
  const rows = Math.min(train.n, STATISTICS_ROWS);
  const d = model.spec.inputShape.reduce((a, b) => a * b, 1);
  const sums = model.statistics.map((s) => tf.zeros(s.shape));
  let batches = 0;
  for (let lo = 0; lo < rows; lo += STATISTICS_BATCH) {
    const hi = Math.min(rows, lo + STATISTICS_BATCH);
    // a last batch of one row has no variance; it is left out
    if (hi - lo < 2) break;
    tf.tidy(() => {
      const x = tf.tensor(train.x.subarray(lo * d, hi * d), [hi - lo, ...model.spec.inputShape]);
      const s = model.batchStatistics!(params, x);
      s.forEach((v, i) => {
        const next = tf.keep(tf.add(sums[i], v));
        sums[i].dispose();
        sums[i] = next;
      });
    });
    batches++;
  }
  return sums.map((s) => {
    const mean = tf.div(s, batches);
    s.dispose();
    return mean;
  });
}

/** The training rows recomputeStatistics reads (what evaluation workers need of the training split). */
export function statisticsRows(train: LabelledSplit | undefined): LabelledSplit | undefined {
  if (!train) return undefined;
  const n = Math.min(train.n, STATISTICS_ROWS);
  const d = train.n ? train.x.length / train.n : 0;
  return { x: train.x.subarray(0, n * d), y: [], n };
}
