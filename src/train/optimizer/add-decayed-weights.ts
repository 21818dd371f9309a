import * as tf from '@tensorflow/tfjs';
import type { GradientTransformation } from './transform.js';

/** g + wd·p: L2 weight decay added to the gradient (PyTorch's `weight_decay` of Adam and SGD, optax.add_decayed_weights). */
export function addDecayedWeights(rate: number): GradientTransformation {
  return {
    init: () => new Map(),
    update: (updates, _slots, params) => ({ updates: rate ? updates.map((g, i) => tf.add(g, tf.mul(params[i], rate))) : [...updates], slots: new Map() }),
  };
}
