import * as tf from '@tensorflow/tfjs';
import type { TaskLoss } from '../models/graph/compile.js';

/** Mean softmax cross-entropy of integer labels, computed stably via logSoftmax. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(labels, logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), 1))) as tf.Scalar;
  });
}

/**
 * Mean sigmoid binary cross-entropy of one logit z per row against 0/1 labels y, in the stable form
 * max(z, 0) − z·y + log(1 + e^(−|z|)).
 */
export function sigmoidCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const z = logits.reshape([-1]);
    const y = tf.cast(labels, 'float32');
    return tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))) as tf.Scalar;
  });
}

/** Mean squared error of one real output per row against float targets. */
export function meanSquaredError(outputs: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(outputs.reshape([-1]), targets))) as tf.Scalar);
}

/** Sum of absolute errors (a plain number) of one real output per row: the MAE's numerator. */
export function absoluteErrorSum(outputs: tf.Tensor2D, targets: tf.Tensor1D): number {
  return tf.tidy(() => tf.sum(tf.abs(tf.sub(outputs.reshape([-1]), targets))).dataSync()[0]);
}

/** A task's loss on its outputs (the model's `losses[k]`): logits for ce / bce, values for mse. */
export function taskLoss(kind: TaskLoss, logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  if (kind === 'mse') return meanSquaredError(logits, labels);
  return kind === 'bce' ? sigmoidCrossEntropy(logits, labels) : softmaxCrossEntropy(logits, labels);
}

/** The dtype of a task's label tensor: class indices for the cross-entropies, real targets for mse. */
export function labelDtype(kind: TaskLoss): 'int32' | 'float32' {
  return kind === 'mse' ? 'float32' : 'int32';
}

/** Number of correct predictions (a plain number): argmax for ce, logit > 0 for bce. */
export function correctCount(logits: tf.Tensor2D, labels: tf.Tensor1D, kind: TaskLoss = 'ce'): number {
  if (kind === 'mse') throw new Error('a regression task has no accuracy');
  return tf.tidy(() => {
    const predicted = kind === 'bce' ? tf.cast(tf.greater(logits.reshape([-1]), 0), 'int32') : tf.argMax(logits, 1);
    return tf.sum(tf.cast(tf.equal(predicted, labels), 'int32')).dataSync()[0];
  });
}
