import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './memory.js';
import { nativeTensors } from './native-tensors.js';
import { nativeAddon, nativeKernelsDecision } from './native.js';

/** y = x·W + b for x [M, K], W [K, N], b [N], with its gradient. */
export type DenseWithBias = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/**
 * A dense layer's product and bias in one pass on the native kernels of the wasm backend (else null):
 * the bias is added to each finished entry of the product (native/kernels-impl.h gemmBlock), which
 * rounds as the separate addition did, without a second pass over the output (a transformer's widest
 * activations, three dense layers per block). The gradient is that of the two ops: dx = dy·Wᵀ,
 * dW = xᵀ·dy, db = Σ_rows dy, on the same native products and column sums.
 */
export function nativeDenseWithBias(): DenseWithBias | null {
  const l = nativeAddon();
  if (!l.addon || !nativeKernelsDecision().use || tf.getBackend() !== 'wasm') return null;
  const addon = l.addon;
  const n = nativeTensors(tf.backend() as WasmBackendLike);
  return (x, w, b) => {
    const [M, K] = x.shape;
    const N = w.shape[1];
    if (x.dtype !== 'float32' || w.dtype !== 'float32' || b.dtype !== 'float32' || w.shape[0] !== K || b.shape[0] !== N) throw new Error('dense: float32 x [M, K], W [K, N] and b [N] expected');
    // customGrad hands over the inputs and then its save function in one list
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xi, wi, bi, save] = args;
      if (!(xi instanceof tf.Tensor) || !(wi instanceof tf.Tensor) || !(bi instanceof tf.Tensor) || typeof save !== 'function') throw new Error('dense: customGrad called without (x, W, b, save)');
      const y = n.output([M, N]);
      if (M * N > 0) addon.matMul(n.memory(), n.offset(xi), n.offset(wi), n.offset(y), 1, 1, M, N, K, 0, 0, n.offset(bi));
      save([xi, wi]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ws] = saved;
          return [tf.matMul(dy as tf.Tensor2D, ws as tf.Tensor2D, false, true), tf.matMul(xs as tf.Tensor2D, dy as tf.Tensor2D, true, false), tf.sum(dy, 0)];
        },
      };
    });
    return f(x, w, b) as tf.Tensor2D;
  };
}
