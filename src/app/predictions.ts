import * as tf from '@tensorflow/tfjs';
import { curvePoint, tGrid } from '../curves/index.js';
import type { MultiTaskDataset } from '../data/index.js';
import type { FunctionalModel } from '../models/index.js';
import type { OpenedCurve } from './curve.js';
import { recomputeStatistics, targetVariance } from '../train/index.js';

/** One example's prediction for every task at a point of the curve. */
export interface ExamplePrediction {
  index: number;
  /**
   * per task: true label, predicted label and its probability; for a regression task the target,
   * the predicted value and no confidence (null)
   */
  tasks: { label: number; predicted: number; confidence: number | null }[];
}

/** Predictions of the model at t on the given test examples (softmax probabilities, argmax). */
export function predictionsAt(model: FunctionalModel, c: OpenedCurve, ds: MultiTaskDataset, t: number, indices: readonly number[]): ExamplePrediction[] {
  const pixels = model.spec.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(indices.length * pixels);
  indices.forEach((idx, r) => x.set(ds.test.x.subarray(idx * pixels, (idx + 1) * pixels), r * pixels));
  const params = curvePoint(c.curve, c.trainable, t);
  const statistics = recomputeStatistics(model, params, ds.train);
  // class probabilities: softmax over classes, or [1 − p, p] from a binary task's one sigmoid logit;
  // a regression's one output as it is
  const probs = tf.tidy(() =>
    model.forward(params, tf.tensor(x, [indices.length, ...model.spec.inputShape]), statistics).map((o, k) => {
      if (model.losses[k] === 'mse') return o.arraySync() as number[][];
      if (model.losses[k] !== 'bce') return tf.softmax(o).arraySync() as number[][];
      const p = tf.sigmoid(o);
      return tf.concat([tf.sub(1, p), p], 1).arraySync() as number[][];
    }),
  );
  tf.dispose([...params, ...statistics]);
  return indices.map((index, r) => ({
    index,
    tasks: probs.map((p, k) => {
      const row = p[r];
      if (model.losses[k] === 'mse') return { label: ds.test.y[k][index], predicted: row[0], confidence: null };
      const predicted = row.indexOf(Math.max(...row));
      return { label: ds.test.y[k][index], predicted, confidence: row[predicted] };
    }),
  }));
}

/**
 * The test examples whose predicted labels change most along the curve: predictions at `points` values
 * of t on the first `pool` test examples, ranked by the number of label changes between consecutive t
 * (summed over tasks; a regression task adds its prediction's total variation in units of the
 * targets' standard deviation); the `count` most changing ones.
 */
export function disagreementExamples(model: FunctionalModel, c: OpenedCurve, ds: MultiTaskDataset, count = 8, pool = 400, points = 11): number[] {
  const idx = Array.from({ length: Math.min(pool, ds.test.n) }, (_, i) => i);
  const along = tGrid(points).map((t) => predictionsAt(model, c, ds, t, idx));
  const spread = ds.test.y.map((l) => Math.sqrt(targetVariance(l)) || 1);
  const changes = idx.map((_, r) => {
    let n = 0;
    for (let s = 1; s < along.length; s++) {
      along[s][r].tasks.forEach((p, k) => {
        const before = along[s - 1][r].tasks[k].predicted;
        n += model.losses[k] === 'mse' ? Math.abs(p.predicted - before) / spread[k] : p.predicted !== before ? 1 : 0;
      });
    }
    return n;
  });
  return idx.sort((a, b) => changes[b] - changes[a] || a - b).slice(0, count);
}

/** An example's image as rows of 0..255 grey values (first channel), for the explorer's strip. */
export function exampleImage(model: FunctionalModel, ds: MultiTaskDataset, index: number): number[][] {
  const [h, w, ch] = model.spec.inputShape.length === 3 ? model.spec.inputShape : [1, model.spec.inputShape[0], 1];
  const base = index * h * w * ch;
  return Array.from({ length: h }, (_, i) => Array.from({ length: w }, (_, j) => Math.round(255 * ds.test.x[base + (i * w + j) * ch])));
}
