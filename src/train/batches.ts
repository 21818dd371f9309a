import * as tf from '@tensorflow/tfjs';
import { makeRng, permutation, deriveSeed } from '../util/rng.js';
import type { Labels } from '../data/types.js';

/** What the trainer needs of a split: flat inputs and one label array per task. */
export interface LabelledSplit {
  x: Float32Array;
  y: Labels[];
  n: number;
  /** per task, the labels' shape per sample ([] or absent: one label per sample; [H,W] or [H,W,3] per pixel) */
  labelShapes?: number[][];
}

/** Values per sample of each task's labels. */
export function labelSizes(split: { y: unknown[]; labelShapes?: number[][] }): number[] {
  return split.y.map((_, k) => (split.labelShapes?.[k] ?? []).reduce((a, b) => a * b, 1));
}

export interface Batch {
  x: tf.Tensor;
  /** per task: [B] for a per-sample task, [B, ...labelShape] for a per-pixel one */
  y: tf.Tensor[];
  size: number;
  /** the same rows as plain arrays (what data-parallel workers receive) */
  raw?: { x: Float32Array; y: Labels[] };
}

/** Deterministic per-epoch order: a permutation seeded by (seed, epoch). */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  return permutation(n, makeRng(deriveSeed(seed, `batches/${epoch}`)));
}

/** Copy the rows `idx` into a batch tensor; the caller disposes it. */
export function gatherBatch(split: LabelledSplit, inputShape: number[], idx: ArrayLike<number>): Batch {
  const d = inputShape.reduce((a, b) => a * b, 1);
  const b = idx.length;
  const xs = new Float32Array(b * d);
  const sizes = labelSizes(split);
  const ys = split.y.map((l, k) => (l instanceof Float32Array ? new Float32Array(b * sizes[k]) : new Int32Array(b * sizes[k])));
  for (let i = 0; i < b; i++) {
    const r = idx[i];
    xs.set(split.x.subarray(r * d, (r + 1) * d), i * d);
    for (let k = 0; k < ys.length; k++) {
      if (sizes[k] === 1) ys[k][i] = split.y[k][r];
      else ys[k].set(split.y[k].subarray(r * sizes[k], (r + 1) * sizes[k]), i * sizes[k]);
    }
  }
  return {
    x: tf.tensor(xs, [b, ...inputShape]),
    y: ys.map((y, k) => tf.tensor(y, [b, ...(split.labelShapes?.[k] ?? [])], y instanceof Float32Array ? 'float32' : 'int32')),
    size: b,
    raw: { x: xs, y: ys },
  };
}

/** Number of optimizer steps per epoch; the last short batch is dropped only if it is tiny. */
export function batchesPerEpoch(n: number, batchSize: number): number {
  const full = Math.floor(n / batchSize);
  const rest = n - full * batchSize;
  return full + (rest >= Math.max(2, batchSize / 4) || full === 0 ? 1 : 0);
}

export function* epochBatches(
  split: LabelledSplit,
  inputShape: number[],
  batchSize: number,
  seed: number,
  epoch: number,
): Generator<Batch> {
  const order = epochOrder(split.n, seed, epoch);
  const steps = batchesPerEpoch(split.n, batchSize);
  for (let s = 0; s < steps; s++) {
    const idx = order.subarray(s * batchSize, Math.min(split.n, (s + 1) * batchSize));
    yield gatherBatch(split, inputShape, idx);
  }
}

/** Contiguous batches in data order (evaluation). */
export function* sequentialBatches(split: LabelledSplit, inputShape: number[], batchSize: number): Generator<Batch> {
  for (let s = 0; s < split.n; s += batchSize) {
    const e = Math.min(split.n, s + batchSize);
    const idx = new Int32Array(e - s);
    for (let i = 0; i < idx.length; i++) idx[i] = s + i;
    yield gatherBatch(split, inputShape, idx);
  }
}

export function disposeBatch(b: Batch): void {
  b.x.dispose();
  b.y.forEach((t) => t.dispose());
}
