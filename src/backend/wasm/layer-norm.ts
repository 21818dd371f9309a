import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './memory.js';
import { nativeTensors } from './native-tensors.js';
import { nativeAddon, nativeKernelsDecision } from './native.js';

/** y = γ·(x − mean)/√(variance + ε) + β over the last axis, the moments each row's own, with its gradient. */
export type LayerNormRows = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number) => tf.Tensor;

/**
 * LayerNormalization over the last axis in two passes over the activations forward (the moments, then
 * the affine map) and two back, on the native kernels of the wasm backend (else null). As tensor ops
 * it takes about twenty passes (moments, centring, scaling, broadcasts and the gradient of each) over
 * a transformer's activations, twice per block. The gradient is the closed form (x̂ = (x − mean)·r,
 * r = 1/√(variance + ε), g = dy·γ, C the row length):
 *   dx = r (g − Σg/C − x̂ Σ(g·x̂)/C),  dγ = Σ_rows dy·x̂,  dβ = Σ_rows dy
 * Row sums run in double in a fixed order, each row (each column for dγ, dβ) on one thread, so the
 * result does not depend on the thread count.
 */
export function nativeLayerNorm(): LayerNormRows | null {
  const l = nativeAddon();
  if (!l.addon || !nativeKernelsDecision().use || tf.getBackend() !== 'wasm') return null;
  const addon = l.addon;
  const n = nativeTensors(tf.backend() as WasmBackendLike);
  return (x, gamma, beta, epsilon) => {
    const cols = x.shape[x.rank - 1];
    const rows = x.size / cols;
    if (x.dtype !== 'float32' || x.rank < 1 || cols < 1 || gamma.size !== cols || beta.size !== cols) throw new Error('layer norm: a float32 [..., C] input and per-channel γ, β expected');
    // customGrad hands over the inputs and then its save function in one list
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xi, g, b, save] = args;
      if (!(xi instanceof tf.Tensor) || !(g instanceof tf.Tensor) || !(b instanceof tf.Tensor) || typeof save !== 'function') throw new Error('layer norm: customGrad called without (x, γ, β, save)');
      // the mean as two floats, [rows] values and their rounding errors (native/kernels.cc rowMoments)
      const mean = n.output([2, rows]);
      const variance = n.output([rows]);
      addon.rowMoments(n.memory(), n.offset(xi), n.offset(mean), n.offset(variance), rows, cols);
      const rstd = tf.tidy(() => tf.rsqrt(tf.add(variance, epsilon)));
      variance.dispose();
      const y = n.output(xi.shape);
      addon.rowAffine(n.memory(), n.offset(xi), n.offset(mean), n.offset(rstd), n.offset(g), n.offset(b), n.offset(y), rows, cols);
      save([xi, mean, rstd, g]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, m, r, gs] = saved;
          const dx = n.output(xs.shape);
          addon.layerNormGrad(n.memory(), n.offset(xs), n.offset(dy), n.offset(m), n.offset(r), n.offset(gs), n.offset(dx), rows, cols);
          const dGamma = n.output([cols]);
          addon.normalizedColumnSums(n.memory(), n.offset(xs), n.offset(dy), n.offset(m), n.offset(r), n.offset(dGamma), rows, cols);
          const dBeta = n.output([cols]);
          addon.columnSums(n.memory(), n.offset(dy), n.offset(dBeta), rows, cols);
          return [dx, dGamma.reshape(gs.shape), dBeta.reshape(gs.shape)];
        },
      };
    });
    return f(x, gamma, beta);
  };
}
