import * as tf from '@tensorflow/tfjs';
import type { TaskKindEntry, TaskMetrics } from './types.js';
import { classMask, maskedMean, perPixelOutputProblem } from './valid.js';

/**
 * Per-pixel softmax cross-entropy of logits [B,H,W,C] against class labels [B,H,W] (−1 = ignored):
 * the sum over valid pixels divided by their count (LibMTL's CrossEntropyLoss(ignore_index=−1)), and
 * the per-pixel values (0 at ignored pixels) for the sums of an evaluation.
 */
export function pixelCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): { perPixel: tf.Tensor; mask: tf.Tensor } {
  const C = logits.shape[logits.rank - 1];
  const mask = classMask(labels);
  // −1 is clipped to class 0, then masked out: the loss of an ignored pixel is exactly 0
  const onehot = tf.mul(tf.oneHot(tf.cast(tf.maximum(labels, 0), 'int32'), C), tf.expandDims(mask, -1));
  return { perPixel: tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), -1)), mask };
}

/** mIoU of a C×C confusion matrix (rows: target, columns: prediction); classes absent from both are left out. */
export function meanIoU(confusion: Float64Array, C: number): number {
  let sum = 0;
  let present = 0;
  for (let c = 0; c < C; c++) {
    let row = 0;
    let col = 0;
    for (let j = 0; j < C; j++) {
      row += confusion[c * C + j];
      col += confusion[j * C + c];
    }
    const tp = confusion[c * C + c];
    const union = row + col - tp;
    if (union > 0) {
      sum += tp / union;
      present++;
    }
  }
  return present ? sum / present : 0;
}

/** seg: a class per pixel (the NYUv2 / CityScapes segmentation task). */
export const segKind: TaskKindEntry = {
  name: 'seg',
  description: 'per-pixel softmax cross-entropy over classes (−1 = ignored pixel); mIoU and pixel accuracy',
  perPixel: true,
  labelDtype: 'int32',
  keepActivation: false,
  checkOutput: (s, { classes }) => perPixelOutputProblem(s, classes, 'segmentation'),
  labelShape: (s) => [s[0], s[1]],
  loss: (out, labels) =>
    tf.tidy(() => {
      const { perPixel, mask } = pixelCrossEntropy(out, labels);
      return maskedMean(perPixel, mask);
    }),
  accumulator: ({ classes: C }) => {
    const confusion = new Float64Array(C * C);
    let lossSum = 0;
    let valid = 0;
    return {
      add(out, labels) {
        const [loss, predicted] = tf.tidy(() => [tf.sum(pixelCrossEntropy(out, labels).perPixel), tf.argMax(out, -1)]);
        lossSum += loss.dataSync()[0];
        const p = predicted.dataSync();
        tf.dispose([loss, predicted]);
        const y = labels.dataSync();
        for (let i = 0; i < y.length; i++) {
          if (y[i] < 0) continue;
          confusion[y[i] * C + p[i]]++;
          valid++;
        }
      },
      result(): TaskMetrics {
        let correct = 0;
        for (let c = 0; c < C; c++) correct += confusion[c * C + c];
        return { loss: lossSum / Math.max(1, valid), miou: meanIoU(confusion, C), pixelAccuracy: correct / Math.max(1, valid) };
      },
    };
  },
  error: (m) => (m.miou === undefined ? null : 1 - m.miou),
  // the loss of a uniform guess over the classes
  lossReference: (_y, { classes }) => Math.log(classes),
};
