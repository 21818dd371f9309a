import type * as tf from '@tensorflow/tfjs';
import { taskKind, type TaskKind } from '../tasks/index.js';

export { softmaxCrossEntropy, sigmoidCrossEntropy, meanSquaredError, absoluteErrorSum, correctCount } from '../tasks/index.js';

/**
 * A task's loss on its outputs (the model's `losses[k]`, a kind of the table in src/tasks): logits for
 * ce / bce / seg, values for mse / depth / normal. `classes` matters only where the kind needs it.
 */
export function taskLoss(kind: TaskKind, out: tf.Tensor, labels: tf.Tensor, classes = out.shape[out.rank - 1] ?? 1): tf.Scalar {
  return taskKind(kind).loss(out, labels, { classes });
}

/** The dtype of a task's label tensor: class indices for the classifications, real targets for the regressions. */
export function labelDtype(kind: TaskKind): 'int32' | 'float32' {
  return taskKind(kind).labelDtype;
}
