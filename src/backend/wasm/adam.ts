import * as tf from '@tensorflow/tfjs';
import { heapView, type WasmBackendLike } from './memory.js';
import { nativeAddon, nativeKernelsDecision } from './native.js';
import { nativeTensors } from './native-tensors.js';

/** Adam's hyper-parameters for one step, with the bias corrections c1 = 1 − β1^t and c2 = 1 − β2^t. */
export interface AdamStepHyper {
  beta1: number;
  beta2: number;
  c1: number;
  c2: number;
  lr: number;
  epsilon: number;
  weightDecay: number;
}

/** One fused Adam step of a tensor on the wasm backend's memory: the new parameter, m and v. */
export type NativeAdamTensors = (p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, hyper: AdamStepHyper) => [tf.Tensor, tf.Tensor, tf.Tensor];

/**
 * The native Adam step run in place on tfjs-wasm's memory, where the native kernels run on the wasm
 * backend, else null. The host-array form reads four tensors out and writes three back: 7 copies of
 * every parameter per step (140 ms of a resnet18 step's 1 s, its 11.7 M parameters). Same arithmetic
 * (native/kernels.cc `adam`), so the same bits.
 */
export function nativeAdamTensors(): NativeAdamTensors | null {
  const l = nativeAddon();
  if (!l.addon || !nativeKernelsDecision().use || tf.getBackend() !== 'wasm') return null;
  const addon = l.addon;
  const backend = tf.backend() as WasmBackendLike;
  const n = nativeTensors(backend);
  return (p, g, m, v, h) => {
    if ([p, g, m, v].some((t) => t.dtype !== 'float32' || t.size !== p.size)) throw new Error('adam: float32 tensors of one size expected');
    const [a, b, c] = [0, 1, 2].map(() => n.output(p.shape));
    // views made after every allocation (an allocation may grow the memory and detach older views)
    const view = (t: tf.Tensor) => heapView(backend, t, p.size);
    addon.adam(view(p), view(g), view(m), view(v), view(a), view(b), view(c), [h.beta1, h.beta2, h.c1, h.c2, h.lr, h.epsilon, h.weightDecay]);
    return [a, b, c];
  };
}
