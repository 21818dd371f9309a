import * as tf from '@tensorflow/tfjs';
import type { GradientTransformation } from './transform.js';

/** −lr·u, with the step's learning rate and each tensor's multiplier (optax.scale_by_learning_rate): the descent. */
export function scaleByLearningRate(): GradientTransformation {
  return {
    init: () => new Map(),
    update: (updates, _slots, _params, { lr, lrScale }) => ({ updates: updates.map((u, i) => tf.mul(u, -lr * (lrScale?.[i] ?? 1))), slots: new Map() }),
  };
}
