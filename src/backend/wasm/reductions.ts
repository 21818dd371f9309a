import * as tf from '@tensorflow/tfjs';
import { type TensorInfo, type WasmBackendLike, output, ptr } from './memory.js';
import { simdKernels } from './simd.js';
import { nativeThreads } from './native.js';

/** Sums and bias adds: UnsortedSegmentSum, Sum over leading axes, Add of a bias vector. */

export function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const xv = backend.readSync(x.dataId) as Float32Array | Int32Array;
  const ids = backend.readSync(segmentIds.dataId) as Int32Array;
  // segment ids index the leading dimensions of x covered by segmentIds' shape
  const inner = x.shape.slice(segmentIds.shape.length).reduce((a, v) => a * v, 1);
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  for (let s = 0; s < ids.length; s++) {
    const id = ids[s];
    if (id < 0 || id >= numSegments) continue;
    for (let q = 0; q < inner; q++) out[id * inner + q] += xv[s * inner + q];
  }
  return output(backend, outShape, x.dtype, out);
}

/**
 * Sum over every axis but the last (a bias gradient) by SIMD column sums; null for other reductions.
 * tfjs-wasm first transposes the whole input to make the reduced axes innermost.
 */
export function leadingAxesSumSimd(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const k = simdKernels(backend);
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const r = x.shape.length;
  if (!k || x.dtype !== 'float32' || r < 2) return null;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a)))].sort((a, b) => a - b);
  if (axes.length !== r - 1 || axes.some((a, i) => a !== i)) return null;
  const cols = x.shape[r - 1];
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, -1).map(() => 1), cols] : [cols], 'float32');
  if (cols > 0) k.columnSums(ptr(backend, x), ptr(backend, out), rows, cols);
  return out;
}

/** The binary kernels a per-channel broadcast can take, with the operation codes of channelBinary. */
const channelOps = { Add: [0, 0], Sub: [1, 2], Multiply: [3, 3], RealDiv: [4, 5] } as const;
export type ChannelOp = keyof typeof channelOps;

/** A tensor's shape is a per-channel vector for `cols` channels: [C] or [1, …, 1, C]. */
const isChannelVector = (shape: number[], cols: number, rank: number) =>
  shape.length >= 1 && shape.length <= rank && shape[shape.length - 1] === cols && shape.slice(0, -1).every((d) => d === 1);

/**
 * Add, Sub, Multiply or RealDiv of a float32 tensor [..., C] and a per-channel vector ([C] or
 * [1, …, 1, C], either side) in one pass: the native kernels do all four, and also a per-row value
 * ([..., 1]) and two tensors of one shape (on more than one thread); the SIMD ones the Add (a bias
 * add); null for any other case (wasm's own kernel then runs).
 */
export function channelBinarySimd(op: ChannelOp, args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const k = simdKernels(backend);
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  if (!k || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  if (k.elementwise && nativeThreads() > 1 && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])) {
    // two tensors of one shape, on more than one thread: one pass split between the native kernels'
    // threads (on one thread tfjs-wasm's own kernel is as fast)
    const out = backend.makeOutput(a.shape, 'float32');
    const n = a.shape.reduce((p, q) => p * q, 1);
    if (n > 0) k.elementwise(ptr(backend, a), ptr(backend, b), ptr(backend, out), n, channelOps[op][0]);
    return out;
  }
  if (op !== 'Add' && !k.channelBinary) return null;
  const rowsOf = (t: TensorInfo) => t.shape.slice(0, -1).reduce((p, q) => p * q, 1);
  const vectorFor = (t: TensorInfo, v: TensorInfo) => t.shape.length >= 2 && rowsOf(t) > 1 && isChannelVector(v.shape, t.shape[t.shape.length - 1], t.shape.length);
  // a per-row value ([..., 1] against [..., C]: LayerNormalization's moments), native kernels only
  const rowFor = (t: TensorInfo, v: TensorInfo) =>
    !!k.channelBinary && t.shape.length >= 2 && v.shape.length === t.shape.length && v.shape[v.shape.length - 1] === 1 && t.shape[t.shape.length - 1] > 1 && v.shape.slice(0, -1).every((d, i) => d === t.shape[i]);
  const perRow = rowFor(a, b) || rowFor(b, a);
  const big = vectorFor(a, b) || rowFor(a, b) ? a : vectorFor(b, a) || rowFor(b, a) ? b : null;
  if (!big) return null;
  const small = big === a ? b : a;
  const cols = big.shape[big.shape.length - 1];
  const rows = rowsOf(big);
  const out = backend.makeOutput(big.shape, 'float32');
  if (rows * cols === 0) return out;
  const code = channelOps[op][big === a ? 0 : 1];
  if (k.channelBinary) k.channelBinary(ptr(backend, big), ptr(backend, small), ptr(backend, out), rows, cols, code, perRow ? 1 : 0);
  else k.addBias(ptr(backend, big), ptr(backend, small), ptr(backend, out), rows, cols);
  return out;
}

/** Add of a float32 tensor [..., C] and a vector [C] (a bias add); null otherwise. */
export function biasAddSimd(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  return channelBinarySimd('Add', args);
}

/**
 * Sum or Mean of a float32 tensor over its trailing axes (LayerNormalization's moments and their
 * gradients, softmax's gradient) as one sum per row on the native kernels; null otherwise.
 */
export function trailingAxesReduceNative(op: 'Sum' | 'Mean', args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const k = simdKernels(backend);
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const r = x.shape.length;
  if (!k?.rowSums || x.dtype !== 'float32' || r < 1) return null;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a)))].sort((a, b) => a - b);
  const first = r - axes.length;
  if (axes.length === 0 || axes.some((a, i) => a !== first + i)) return null;
  const rows = x.shape.slice(0, first).reduce((a, b) => a * b, 1);
  const cols = x.shape.slice(first).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, first), ...axes.map(() => 1)] : x.shape.slice(0, first), 'float32');
  if (rows > 0) k.rowSums(ptr(backend, x), ptr(backend, out), rows, cols, op === 'Mean' ? 1 : 0);
  return out;
}

/**
 * Mean over every axis but the last (BatchNormalization's batch statistics) as column sums divided
 * by the row count; null for other reductions. tfjs-wasm first transposes the whole input.
 */
export function leadingAxesMeanSimd(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const sum = leadingAxesSumSimd(args);
  if (!sum) return null;
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: TensorInfo };
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const values = backend.readSync(sum.dataId) as Float32Array;
  const mean = Float32Array.from(values, (v) => v / rows);
  backend.disposeData(sum.dataId);
  return output(backend, sum.shape, 'float32', mean);
}

/** Cast to the dtype a tensor already has: the same data, no copy (tfjs-wasm 4.22 copies it). */
export function sameTypeCast(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
  if (x.dtype !== dtype || dtype === 'string') return null;
  (args.backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype };
}

const unaryOps = { Relu: 6, Step: 7, Square: 8 } as const;
export type UnaryOp = keyof typeof unaryOps;

/** Relu, Step (alpha 0: Relu's gradient) or Square of a float32 tensor on the native kernels' threads; null otherwise. */
export function unaryNative(op: UnaryOp, args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const k = simdKernels(backend);
  const { x } = args.inputs as { x: TensorInfo };
  // on one thread tfjs-wasm's own kernels are as fast: the native ones pay where threads split them
  if (!k?.elementwise || nativeThreads() <= 1 || x.dtype !== 'float32') return null;
  if (op === 'Step' && (args.attrs as { alpha?: number } | undefined)?.alpha) return null;
  const out = backend.makeOutput(x.shape, 'float32');
  const n = x.shape.reduce((p, q) => p * q, 1);
  if (n > 0) k.elementwise(ptr(backend, x), 0, ptr(backend, out), n, unaryOps[op]);
  return out;
}
