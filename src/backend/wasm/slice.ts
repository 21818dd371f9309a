import * as tf from '@tensorflow/tfjs';
import { callKernel, ptr, type TensorInfo, type WasmBackendLike } from './memory.js';
import { nativeAddon, nativeKernelsDecision } from './native.js';
import { floatBits, nativeTensors } from './native-tensors.js';

/**
 * A box [begin, begin + size) of a row-major array of `shape`, as at most two levels of runs: `chunk`
 * contiguous floats, repeated `rows` times `rowStride` apart, that `outer` times `outerStride` apart
 * (strides in the array; `rowStep`, `outerStep` the same in the box's own contiguous layout). Adjacent
 * axes merge where the inner one is whole; null where more than two levels remain.
 */
export interface Grid {
  offset: number;
  chunk: number;
  rows: number;
  rowStride: number;
  rowStep: number;
  outer: number;
  outerStride: number;
  outerStep: number;
}

export function boxGrid(shape: number[], begin: number[], size: number[]): Grid | null {
  const r = shape.length;
  const stride = new Array<number>(r).fill(1);
  const step = new Array<number>(r).fill(1);
  for (let i = r - 2; i >= 0; i--) {
    stride[i] = stride[i + 1] * shape[i + 1];
    step[i] = step[i + 1] * size[i + 1];
  }
  const offset = begin.reduce((s, b, i) => s + b * stride[i], 0);
  let j = r - 1;
  while (j >= 0 && size[j] === shape[j]) j--;
  if (j < 0) return { offset, chunk: size.reduce((a, b) => a * b, 1), rows: 1, rowStride: 0, rowStep: 0, outer: 1, outerStride: 0, outerStep: 0 };
  const chunk = size[j] * stride[j];
  // levels, innermost first: [count, stride, step]
  const levels: [number, number, number][] = [];
  for (let i = j - 1; i >= 0; i--) {
    if (size[i] === 1) continue;
    const last = levels[levels.length - 1];
    if (last && last[1] * last[0] === stride[i] && last[2] * last[0] === step[i]) last[0] *= size[i];
    else levels.push([size[i], stride[i], step[i]]);
  }
  if (levels.length > 2) return null;
  const [row = [1, 0, 0], out = [1, 0, 0]] = levels;
  return { offset, chunk, rows: row[0], rowStride: row[1], rowStep: row[2], outer: out[0], outerStride: out[1], outerStep: out[2] };
}

/** The native addon where a float32 tensor's copy can run on it, else null. */
function addonFor(x: TensorInfo) {
  return x.dtype === 'float32' && nativeKernelsDecision().use ? nativeAddon().addon : null;
}

/**
 * Slice on the native kernels where the box is at most two levels of runs (boxGrid): a channel split, a
 * class token, a padded map's crop (the gradient of a pad). tfjs-wasm 4.22 copies such slices on one
 * thread, element by element in JavaScript for some (a ViT step: 82 slices, 175 ms); this is one memcpy
 * per run, split between the threads. Other slices (null) go to wasm's own kernel.
 */
export function sliceNative(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: TensorInfo };
  const addon = addonFor(x);
  if (!addon) return null;
  const attrs = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
  const g = boxGrid(x.shape, begin, size);
  if (!g) return null;
  const out = backend.makeOutput(size, 'float32');
  if (size.some((d) => d === 0)) return out;
  const n = nativeTensors(backend);
  addon.copyGrid(n.memory(), ptr(backend, x) + 4 * g.offset, ptr(backend, out), g.outer, g.rows, g.chunk, g.outerStride, g.rowStride, g.outerStep, g.rowStep, 0, 0, 0);
  return out;
}

/**
 * A constant PadV2 of a float32 tensor on the native kernels: the output filled with the value, the
 * input copied into its interior as a box of at most two levels of runs; null otherwise.
 */
export function padNative(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: TensorInfo };
  const addon = addonFor(x);
  if (!addon) return null;
  const { paddings, constantValue } = args.attrs as unknown as { paddings: [number, number][]; constantValue: number };
  if (paddings.length !== x.shape.length || paddings.some(([a, b]) => a < 0 || b < 0)) return null;
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const g = boxGrid(shape, paddings.map(([a]) => a), x.shape);
  if (!g) return null;
  const out = backend.makeOutput(shape, 'float32');
  const total = shape.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  const n = nativeTensors(backend);
  const empty = x.shape.some((d) => d === 0);
  addon.copyGrid(n.memory(), ptr(backend, x), ptr(backend, out), empty ? 0 : g.outer, g.rows, g.chunk, g.outerStep, g.rowStep, g.outerStride, g.rowStride, g.offset, floatBits(constantValue), total);
  return out;
}

/**
 * SplitV as one Slice per part through the Slice kernel registered above (sliceNative where it applies):
 * tfjs-wasm 4.22's own SplitV calls its internal slice directly, which copies a concatenation's gradient
 * (a ViT's class token and patches: [64, 65, 192]) element by element in JavaScript, 5.6 ms a step.
 * Null (wasm's own) where the native kernels do not run.
 */
export function splitNative(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo[] | null {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: TensorInfo };
  if (!addonFor(x)) return null;
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
  const at = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, at);
  const begin = x.shape.map(() => 0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[at] = s;
    const part = callKernel('Slice', { x }, backend, { begin: [...begin], size });
    begin[at] += s;
    return part;
  });
}
