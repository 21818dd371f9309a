import * as tf from '@tensorflow/tfjs';
import { nativeGelu } from '../backend/index.js';

/** Pure tensor and shape helpers of the layer table (graph/kinds.ts), which every model — built-in, Keras or ONNX — compiles through. */

export const activations = ['relu', 'elu', 'tanh', 'sigmoid', 'softmax', 'linear', 'gelu'] as const;
export type GraphActivation = (typeof activations)[number];

export function activate(x: tf.Tensor, fn: GraphActivation): tf.Tensor {
  switch (fn) {
    case 'relu':
      return tf.relu(x);
    case 'elu':
      return tf.elu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'softmax':
      return tf.softmax(x);
    case 'gelu': {
      // Keras' default gelu (approximate=False): x·Φ(x) = x·(1 + erf(x/√2))/2, fused on the native kernels
      const fused = nativeGelu();
      return fused ? fused(x) : tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
    }
    case 'linear':
      return x;
  }
}

/** Output size of a window of size k, stride s over n positions ('same': padded so that it is ⌈n/s⌉). */
export function spatialOut(n: number, k: number, s: number, p: 'valid' | 'same'): number {
  return p === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}
