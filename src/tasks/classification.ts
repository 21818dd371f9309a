import * as tf from '@tensorflow/tfjs';
import type { MetricAccumulator, TaskKindEntry, TaskMetrics } from './types.js';

/*
 * The per-sample classification kinds: one label per sample, an accuracy as the fit, 1 − accuracy as
 * the error. ce: softmax cross-entropy over the classes; bce: sigmoid cross-entropy of one logit.
 */

/** Mean softmax cross-entropy of integer labels, computed stably via logSoftmax. */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(labels as tf.Tensor1D, logits.shape[1]!);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), 1))) as tf.Scalar;
  });
}

/**
 * Mean sigmoid binary cross-entropy of one logit z per row against 0/1 labels y, in the stable form
 * max(z, 0) − z·y + log(1 + e^(−|z|)).
 */
export function sigmoidCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const z = logits.reshape([-1]);
    const y = tf.cast(labels, 'float32');
    return tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))) as tf.Scalar;
  });
}

/** Number of correct predictions (a plain number): argmax for ce, logit > 0 for bce. */
export function correctCount(logits: tf.Tensor, labels: tf.Tensor, kind: 'ce' | 'bce' = 'ce'): number {
  return tf.tidy(() => {
    const predicted = kind === 'bce' ? tf.cast(tf.greater(logits.reshape([-1]), 0), 'int32') : tf.argMax(logits, 1);
    return tf.sum(tf.cast(tf.equal(predicted, labels), 'int32')).dataSync()[0];
  });
}

function accuracyAccumulator(loss: (o: tf.Tensor, y: tf.Tensor) => tf.Scalar, kind: 'ce' | 'bce'): MetricAccumulator {
  let lossSum = 0;
  let correct = 0;
  let n = 0;
  return {
    add(out, labels) {
      const rows = labels.shape[0];
      lossSum += tf.tidy(() => loss(out, labels).dataSync()[0]) * rows;
      correct += correctCount(out, labels, kind);
      n += rows;
    },
    result: (): TaskMetrics => ({ loss: lossSum / Math.max(1, n), accuracy: correct / Math.max(1, n) }),
  };
}

const flatOutput = (outShape: readonly number[], units: number, what: string): string | null =>
  outShape.length !== 1 ? `a ${what} output must be flat; it is [${outShape.join(',')}]` : outShape[0] !== units ? `a ${what} output needs ${units} unit${units === 1 ? '' : 's'}; it has ${outShape[0]}` : null;

export const ceKind: TaskKindEntry = {
  name: 'ce',
  description: 'softmax cross-entropy over classes (one label per sample)',
  perPixel: false,
  labelDtype: 'int32',
  keepActivation: false,
  checkOutput: (s, { classes }) => flatOutput(s, classes, 'classification'),
  labelShape: () => [],
  loss: (out, labels) => softmaxCrossEntropy(out, labels),
  accumulator: () => accuracyAccumulator(softmaxCrossEntropy, 'ce'),
  error: (m) => (m.accuracy === undefined ? null : 1 - m.accuracy),
  // a little below ln 10, the loss of a uniform guess over ten classes: the built-in benchmarks' convention
  lossReference: () => 2,
};

export const bceKind: TaskKindEntry = {
  ...ceKind,
  name: 'bce',
  description: 'sigmoid cross-entropy of one logit (a binary label per sample)',
  checkOutput: (s) => flatOutput(s, 1, 'binary'),
  loss: (out, labels) => sigmoidCrossEntropy(out, labels),
  accumulator: () => accuracyAccumulator(sigmoidCrossEntropy, 'bce'),
};
