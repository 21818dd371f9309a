import * as tf from '@tensorflow/tfjs';
import { ptr, type TensorInfo, type WasmBackendLike } from './memory.js';
import { nativeAddon, nativeKernelsDecision } from './native.js';
import { nativeTensors } from './native-tensors.js';

/**
 * Slice on the native kernels where it keeps whole trailing axes: with k the first axis it narrows,
 * every axis after k whole and every axis before k taken whole, the result is one contiguous run per
 * index of the axes before k (a ViT's q/k/v split of the last axis, its class token x[:, 0]). tfjs-wasm
 * 4.22 copies such a slice element by element in JavaScript (a ViT step: 82 slices, 175 ms); this is one
 * memcpy per run. Other slices (null) go to wasm's own kernel.
 */
export function sliceNative(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype !== 'float32' || !nativeKernelsDecision().use) return null;
  const addon = nativeAddon().addon;
  if (!addon) return null;
  const attrs = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
  const k = x.shape.findIndex((d, i) => begin[i] !== 0 || size[i] !== d);
  if (k < 0 || x.shape.slice(0, k).some((d, i) => size[i] !== d) || x.shape.slice(k + 1).some((d, i) => begin[k + 1 + i] !== 0 || size[k + 1 + i] !== d)) return null;
  const inner = x.shape.slice(k + 1).reduce((a, b) => a * b, 1);
  const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput(size, 'float32');
  const chunk = size[k] * inner;
  if (rows * chunk === 0) return out;
  const n = nativeTensors(backend);
  addon.copyRows(n.memory(), ptr(backend, x) + 4 * begin[k] * inner, ptr(backend, out), rows, chunk, x.shape[k] * inner, chunk);
  return out;
}
