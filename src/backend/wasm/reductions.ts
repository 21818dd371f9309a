import * as tf from '@tensorflow/tfjs';
import { type TensorInfo, type WasmBackendLike, output, ptr } from './memory.js';
import { simdKernels } from './simd.js';

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

/** Add of a float32 tensor [..., C] and a vector [C] (a bias add) in one SIMD pass; null otherwise. */
export function biasAddSimd(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const k = simdKernels(backend);
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  if (!k || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const [x, v] = b.shape.length === 1 && a.shape.length >= 2 ? [a, b] : a.shape.length === 1 && b.shape.length >= 2 ? [b, a] : [null, null];
  if (!x || !v) return null;
  const cols = x.shape[x.shape.length - 1];
  if (v.shape[0] !== cols) return null;
  const rows = x.shape.slice(0, -1).reduce((p, q) => p * q, 1);
  const out = backend.makeOutput(x.shape, 'float32');
  if (rows * cols > 0) k.addBias(ptr(backend, x), ptr(backend, v), ptr(backend, out), rows, cols);
  return out;
}
