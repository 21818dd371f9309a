import * as tf from '@tensorflow/tfjs';
import type { TaskKindEntry, TaskMetrics } from './types.js';

/** Mean squared error of one real output per row against float targets. */
export function meanSquaredError(outputs: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(outputs.reshape([-1]), targets))) as tf.Scalar);
}

/** Sum of absolute errors (a plain number) of one real output per row: the MAE's numerator. */
export function absoluteErrorSum(outputs: tf.Tensor, targets: tf.Tensor): number {
  return tf.tidy(() => tf.sum(tf.abs(tf.sub(outputs.reshape([-1]), targets))).dataSync()[0]);
}

/** The population variance of a task's targets: the MSE of always predicting their mean. */
export function targetVariance(y: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i] / y.length;
  let v = 0;
  for (let i = 0; i < y.length; i++) v += (y[i] - mean) ** 2 / y.length;
  return v;
}

/** mse: one real target per sample; the fit is the mean absolute error; it has no error rate. */
export const mseKind: TaskKindEntry = {
  name: 'mse',
  description: 'squared error of one real output (a real target per sample)',
  perPixel: false,
  labelDtype: 'float32',
  keepActivation: true,
  checkOutput: (s) => (s.length === 1 && s[0] === 1 ? null : `a regression output must be one unit; it is [${s.join(',')}]`),
  labelShape: () => [],
  loss: (out, labels) => meanSquaredError(out, labels),
  accumulator: () => {
    let lossSum = 0;
    let absSum = 0;
    let n = 0;
    return {
      add(out, labels) {
        const rows = labels.shape[0];
        lossSum += tf.tidy(() => meanSquaredError(out, labels).dataSync()[0]) * rows;
        absSum += absoluteErrorSum(out, labels);
        n += rows;
      },
      result: (): TaskMetrics => ({ loss: lossSum / Math.max(1, n), mae: absSum / Math.max(1, n) }),
    };
  },
  error: () => null,
  // the squared error of always predicting the targets' mean: a point counts only where it beats that
  lossReference: (y) => targetVariance(y) || 1,
};
