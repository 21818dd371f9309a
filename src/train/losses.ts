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

/** A task's loss on its logits (the model's `losses[k]`). */
export function taskLoss(kind: TaskLoss, logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return kind === 'bce' ? sigmoidCrossEntropy(logits, labels) : softmaxCrossEntropy(logits, labels);
}

/** Number of correct predictions (a plain number): argmax for ce, logit > 0 for bce. */
export function correctCount(logits: tf.Tensor2D, labels: tf.Tensor1D, kind: TaskLoss = 'ce'): number {
  return tf.tidy(() => {
    const predicted = kind === 'bce' ? tf.cast(tf.greater(logits.reshape([-1]), 0), 'int32') : tf.argMax(logits, 1);
    return tf.sum(tf.cast(tf.equal(predicted, labels), 'int32')).dataSync()[0];
  });
}
