import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './memory.js';
import { nativeTensors } from './native-tensors.js';
import { nativeAddon, nativeKernelsDecision } from './native.js';

/** y = γ·(x − mean)/√(variance + ε) + β over the last axis, the moments the batch's own (training), with its gradient. */
export type BatchNormTraining = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number) => tf.Tensor;

/**
 * BatchNormalization's training step in three passes over the activations forward and three back, on
 * the native kernels of the wasm backend (else null). Written as tensor ops it takes about 18 passes
 * (moments, centring, scaling and the gradients of each), which cost resnet18 more than a third of its
 * convolutions' time. The gradient is the closed form (Ioffe & Szegedy 2015, with c = x − mean, r = 1/√(variance + ε)):
 *   dβ = Σ dy,  dγ = r Σ dy·c,  dx = γr (dy − Σdy/N − c r² Σ dy·c / N)
 * Sums run over the rows (every axis but the channels) in row order, each channel on one thread, so the
 * result does not depend on the thread count; the variance and Σ dy·c in double precision.
 */
export function nativeBatchNormTraining(): BatchNormTraining | null {
  const l = nativeAddon();
  if (!l.addon || !nativeKernelsDecision().use || tf.getBackend() !== 'wasm') return null;
  const addon = l.addon;
  const n = nativeTensors(tf.backend() as WasmBackendLike);
  const columnSums = (x: tf.Tensor, rows: number, cols: number): tf.Tensor => {
    const out = n.output([cols]);
    addon.columnSums(n.memory(), n.offset(x), n.offset(out), rows, cols);
    return out;
  };
  const columnMoments = (a: tf.Tensor, ca: tf.Tensor, b: tf.Tensor, cb: tf.Tensor, rows: number, cols: number): tf.Tensor => {
    const out = n.output([cols]);
    addon.columnMoments(n.memory(), n.offset(a), n.offset(ca), n.offset(b), n.offset(cb), n.offset(out), rows, cols);
    return out;
  };
  /** (a − ca)·s + (b − cb)·t + u per channel, the b term optional (native/kernels.cc channelAffine) */
  const channelAffine = (a: tf.Tensor, ca: tf.Tensor, s: tf.Tensor, b: [tf.Tensor, tf.Tensor, tf.Tensor] | null, u: tf.Tensor, rows: number, cols: number): tf.Tensor => {
    const out = n.output(a.shape);
    const [pb, pcb, pt] = b ? b.map((t) => n.offset(t)) : [0, 0, 0];
    addon.channelAffine(n.memory(), n.offset(a), n.offset(ca), n.offset(s), pb, pcb, pt, n.offset(u), n.offset(out), rows, cols);
    return out;
  };
  return (x, gamma, beta, epsilon) => {
    const cols = x.shape[x.rank - 1];
    const rows = x.size / cols;
    if (x.dtype !== 'float32' || x.rank < 2 || rows < 1 || gamma.size !== cols || beta.size !== cols) throw new Error('batch norm: a float32 [..., C] input and per-channel γ, β expected');
    // customGrad hands over the inputs and then its save function in one list
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xi, g, b, save] = args;
      if (!(xi instanceof tf.Tensor) || !(g instanceof tf.Tensor) || !(b instanceof tf.Tensor) || typeof save !== 'function') throw new Error('batch norm: customGrad called without (x, γ, β, save)');
      const mean = tf.tidy(() => tf.div(columnSums(xi, rows, cols), rows));
      const rstd = tf.tidy(() => tf.rsqrt(tf.add(tf.div(columnMoments(xi, mean, xi, mean, rows, cols), rows), epsilon)));
      const scale = tf.mul(g, rstd);
      const y = channelAffine(xi, mean, scale, null, b, rows, cols);
      scale.dispose();
      save([xi, mean, rstd, g]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, m, r, gs] = saved;
          const zeros = tf.zeros([cols]);
          const sumDy = columnSums(dy, rows, cols);
          const sumDyC = columnMoments(dy, zeros, xs, m, rows, cols);
          const [A, B, meanDy] = tf.tidy(() => {
            const a = tf.mul(gs, r);
            return [a, tf.neg(tf.div(tf.mul(tf.mul(a, tf.square(r)), sumDyC), rows)), tf.div(sumDy, rows)];
          });
          // dx = A (dy − mean dy) + B (x − mean), each centred before it is scaled
          const dx = channelAffine(dy, meanDy, A, [xs, m, B], zeros, rows, cols);
          const dGamma = tf.mul(r, sumDyC);
          tf.dispose([zeros, sumDyC, A, B, meanDy]);
          return [dx, dGamma, sumDy];
        },
      };
    });
    return f(x, gamma, beta);
  };
}
