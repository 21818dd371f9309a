import * as tf from '@tensorflow/tfjs';
import { curvePoint, tGrid } from '../curves/index.js';
import type { MultiTaskDataset } from '../data/index.js';
import type { FunctionalModel } from '../models/index.js';
import type { OpenedCurve } from './curve.js';
import { recomputeStatistics, targetVariance } from '../train/index.js';

/** A per-sample task's prediction: the true label, the predicted one and its probability (a regression: target, value, no confidence). */
export interface LabelPrediction {
  label: number;
  predicted: number;
  confidence: number | null;
}

/**
 * A per-pixel task's prediction of one example: the predicted and true maps, flat row-major (seg: a class
 * per pixel, −1 = ignored; depth: a value per pixel, 0 = unmeasured; normal: xyz per pixel), and one
 * number for the example (seg: the share of valid pixels right; depth: the mean absolute error; normal:
 * the mean angle in degrees).
 */
export interface PixelPrediction {
  kind: 'seg' | 'depth' | 'normal';
  height: number;
  width: number;
  predicted: number[];
  target: number[];
  score: number;
}

/** One example's prediction for every task at a point of the curve. */
export interface ExamplePrediction {
  index: number;
  tasks: (LabelPrediction | PixelPrediction)[];
}

const isPixelKind = (k: string): k is PixelPrediction['kind'] => k === 'seg' || k === 'depth' || k === 'normal';

/** One example's per-pixel prediction from the model's output rows (per pixel: C values). */
function pixelPrediction(kind: PixelPrediction['kind'], out: Float32Array, target: ArrayLike<number>, h: number, w: number): PixelPrediction {
  const C = out.length / (h * w);
  const predicted: number[] = [];
  let score = 0;
  let valid = 0;
  for (let p = 0; p < h * w; p++) {
    const row = out.subarray(p * C, (p + 1) * C);
    if (kind === 'seg') {
      let best = 0;
      for (let c = 1; c < C; c++) if (row[c] > row[best]) best = c;
      predicted.push(best);
      if (target[p] >= 0) (valid++, (score += best === target[p] ? 1 : 0));
    } else if (kind === 'depth') {
      predicted.push(row[0]);
      if (target[p] !== 0) (valid++, (score += Math.abs(row[0] - target[p])));
    } else {
      const n = Math.hypot(row[0], row[1], row[2]) || 1;
      const v = [row[0] / n, row[1] / n, row[2] / n];
      predicted.push(...v);
      const g = [target[3 * p], target[3 * p + 1], target[3 * p + 2]];
      if (g[0] || g[1] || g[2]) (valid++, (score += (Math.acos(Math.max(-1, Math.min(1, v[0] * g[0] + v[1] * g[1] + v[2] * g[2]))) * 180) / Math.PI));
    }
  }
  return { kind, height: h, width: w, predicted, target: Array.from(target), score: valid ? score / valid : 0 };
}

/** Predictions of the model at t on the given test examples (softmax probabilities, argmax; per-pixel maps). */
export function predictionsAt(model: FunctionalModel, c: OpenedCurve, ds: MultiTaskDataset, t: number, indices: readonly number[]): ExamplePrediction[] {
  const pixels = model.spec.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(indices.length * pixels);
  indices.forEach((idx, r) => x.set(ds.test.x.subarray(idx * pixels, (idx + 1) * pixels), r * pixels));
  const params = curvePoint(c.curve, c.trainable, t);
  const statistics = recomputeStatistics(model, params, ds.train);
  // class probabilities: softmax over classes, or [1 − p, p] from a binary task's one sigmoid logit;
  // a regression's one output as it is; a per-pixel task's raw output rows
  const outs: { rows: number[][] | null; flat: Float32Array | null; shape: number[] }[] = [];
  tf.tidy(() => {
    model.forward(params, tf.tensor(x, [indices.length, ...model.spec.inputShape]), statistics).forEach((o, k) => {
      const kind = model.losses[k];
      if (isPixelKind(kind)) outs.push({ rows: null, flat: o.dataSync() as Float32Array, shape: o.shape });
      else if (kind === 'mse') outs.push({ rows: o.arraySync() as number[][], flat: null, shape: o.shape });
      else if (kind !== 'bce') outs.push({ rows: tf.softmax(o).arraySync() as number[][], flat: null, shape: o.shape });
      else {
        const p = tf.sigmoid(o);
        outs.push({ rows: tf.concat([tf.sub(1, p), p], 1).arraySync() as number[][], flat: null, shape: o.shape });
      }
    });
  });
  tf.dispose([...params, ...statistics]);
  return indices.map((index, r) => ({
    index,
    tasks: outs.map((o, k): LabelPrediction | PixelPrediction => {
      const kind = model.losses[k];
      if (o.flat && isPixelKind(kind)) {
        const [h, w] = [o.shape[1], o.shape[2]];
        const per = o.flat.length / indices.length;
        const size = model.labelShapes[k].reduce((a, b) => a * b, 1);
        return pixelPrediction(kind, o.flat.subarray(r * per, (r + 1) * per), ds.test.y[k].subarray(index * size, (index + 1) * size), h, w);
      }
      const row = o.rows![r];
      if (kind === 'mse') return { label: ds.test.y[k][index], predicted: row[0], confidence: null };
      const predicted = row.indexOf(Math.max(...row));
      return { label: ds.test.y[k][index], predicted, confidence: row[predicted] };
    }),
  }));
}

/** How much a task's prediction of one example changes between two points: a label change (0/1), a regression's change in target spreads, a per-pixel task's share of pixels whose class changes (depth: mean change in spreads; normal: mean angle change / 180°). */
function change(before: LabelPrediction | PixelPrediction, after: LabelPrediction | PixelPrediction, spread: number): number {
  if ('kind' in after && 'kind' in before) {
    const [a, b] = [before.predicted, after.predicted];
    let s = 0;
    if (after.kind === 'seg') for (let i = 0; i < a.length; i++) s += a[i] !== b[i] ? 1 : 0;
    else if (after.kind === 'depth') for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]) / spread;
    else for (let i = 0; i < a.length; i += 3) s += Math.acos(Math.max(-1, Math.min(1, a[i] * b[i] + a[i + 1] * b[i + 1] + a[i + 2] * b[i + 2]))) / Math.PI;
    return s / (after.height * after.width);
  }
  if ('kind' in after || 'kind' in before) return 0;
  return before.confidence === null ? Math.abs(after.predicted - before.predicted) / spread : after.predicted !== before.predicted ? 1 : 0;
}

/**
 * The test examples whose predictions change most along the curve: predictions at `points` values of t
 * on the first `pool` test examples, ranked by their change between consecutive t (summed over tasks:
 * a label change counts 1, a regression its prediction's total variation in units of the targets'
 * standard deviation, a per-pixel task the share of its pixels whose class changes); the `count` most
 * changing ones.
 */
export function disagreementExamples(model: FunctionalModel, c: OpenedCurve, ds: MultiTaskDataset, count = 8, pool = 400, points = 11): number[] {
  const dense = model.losses.some(isPixelKind);
  const idx = Array.from({ length: Math.min(dense ? 100 : pool, ds.test.n) }, (_, i) => i);
  const along = tGrid(points).map((t) => predictionsAt(model, c, ds, t, idx));
  const spread = ds.test.y.map((l) => Math.sqrt(targetVariance(l)) || 1);
  const changes = idx.map((_, r) => {
    let n = 0;
    for (let s = 1; s < along.length; s++) along[s][r].tasks.forEach((p, k) => (n += change(along[s - 1][r].tasks[k], p, spread[k])));
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
