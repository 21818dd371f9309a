import type * as tf from '@tensorflow/tfjs';

/**
 * A task's metrics on a split: its mean loss and its fit. A per-sample classification (ce, bce) has an
 * accuracy, a regression (mse) a mean absolute error; a per-pixel task has the NYUv2 metrics of its
 * kind, every one accumulated over all valid pixels of the split (pixel-weighted, so independent of the
 * batch size): seg `miou` and `pixelAccuracy`; depth `absErr` and `relErr`; normal `meanAngle` and
 * `medianAngle` (degrees) and the shares of pixels `within11_25`, `within22_5`, `within30` degrees.
 */
export interface TaskMetrics {
  loss: number;
  accuracy?: number;
  mae?: number;
  miou?: number;
  pixelAccuracy?: number;
  absErr?: number;
  relErr?: number;
  meanAngle?: number;
  medianAngle?: number;
  within11_25?: number;
  within22_5?: number;
  within30?: number;
}

/** The fit fields of TaskMetrics besides the loss, in the order tables print them. */
export const fitMetricNames = ['accuracy', 'mae', 'miou', 'pixelAccuracy', 'absErr', 'relErr', 'meanAngle', 'medianAngle', 'within11_25', 'within22_5', 'within30'] as const;
export type FitMetricName = (typeof fitMetricNames)[number];

/** Whether a larger value of a metric is better (Δm's sign, a table's ranking). */
export const higherIsBetter: Readonly<Record<FitMetricName, boolean>> = {
  accuracy: true,
  mae: false,
  miou: true,
  pixelAccuracy: true,
  absErr: false,
  relErr: false,
  meanAngle: false,
  medianAngle: false,
  within11_25: true,
  within22_5: true,
  within30: true,
};

/** Sums a kind's metrics over the batches of a split, then gives them (pixel-weighted, not a mean of batch means). */
export interface MetricAccumulator {
  /** one batch: the task's outputs (logits, or values for a regression) and its labels */
  add(out: tf.Tensor, labels: tf.Tensor): void;
  result(): TaskMetrics;
}

/** Options a loss or metric takes from the run (none today besides the class count). */
export interface TaskContext {
  /** classes of a classification or segmentation task; 1 for a regression, 3 for normals */
  classes: number;
}

/**
 * One kind of task: its loss, its metrics, what its labels look like, and what it contributes to the
 * error hypervolume and the loss hypervolume's reference. A new kind is one file and one line in
 * src/tasks/registry.ts.
 */
export interface TaskKindEntry {
  name: string;
  description: string;
  /** per pixel: the output is [H,W,C] and the labels [H,W] (or [H,W,3]) per sample */
  perPixel: boolean;
  labelDtype: 'int32' | 'float32';
  /** the loss compares the output itself (a regression), so the forward keeps a final activation */
  keepActivation: boolean;
  /** why an output of this shape (batch excluded) cannot answer the task; null when it can */
  checkOutput(outShape: readonly number[], ctx: TaskContext): string | null;
  /** the labels' shape per sample for an output of this shape */
  labelShape(outShape: readonly number[]): number[];
  /** the mean loss of a batch, what training minimizes (a per-pixel kind: the mean over the batch's valid pixels) */
  loss(out: tf.Tensor, labels: tf.Tensor, ctx: TaskContext): tf.Scalar;
  accumulator(ctx: TaskContext): MetricAccumulator;
  /** the error of a split's metrics for the error hypervolume (reference 1), null when the kind has none */
  error(m: TaskMetrics): number | null;
  /** the loss hypervolume's reference for this task: the loss of a trivial predictor, from the test labels */
  lossReference(labels: ArrayLike<number>, ctx: TaskContext): number;
}
