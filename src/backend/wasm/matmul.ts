import * as tf from '@tensorflow/tfjs';
import { type TensorInfo, type WasmBackendLike, callKernel, ptr } from './memory.js';
import { simdKernels } from './simd.js';

/** BatchMatMul: the native product where it runs, else transposed operands made explicit first. */

/**
 * The native product for float32 operands whose batch dimensions are equal or one of them all ones;
 * null otherwise (and without the native kernels).
 */
function nativeMatMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo | null {
  const k = simdKernels(backend);
  if (!k?.matMul || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [m, kA] = transposeA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [kB, n] = transposeB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (kA !== kB) return null;
  const leadA = a.shape.slice(0, -2);
  const leadB = b.shape.slice(0, -2);
  const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
  const batchA = size(leadA);
  const batchB = size(leadB);
  const same = leadA.length === leadB.length && leadA.every((d, i) => d === leadB[i]);
  const lead = same || batchB === 1 ? leadA : batchA === 1 ? leadB : null;
  if (!lead) return null;
  const out = backend.makeOutput([...lead, m, n], 'float32');
  if (m * n * Math.max(batchA, batchB) === 0) return out;
  if (kA === 0) {
    new Float32Array((backend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer, ptr(backend, out), size(out.shape)).fill(0);
    return out;
  }
  k.matMul(ptr(backend, a), ptr(backend, b), ptr(backend, out), batchA, batchB, m, n, kA, transposeA ? 1 : 0, transposeB ? 1 : 0, 0);
  return out;
}

/**
 * BatchMatMul on the native kernels where they run; otherwise, with transposeA/transposeB, an
 * explicit Transpose (wasm's fast kernel) and then wasm's untransposed product.
 */
export function batchMatMulUntransposed(
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap },
  native: tf.KernelFunc,
): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  if (process.env.EXTRA_SIMD_KERNELS === '0') return native(args) as TensorInfo;
  const ours = nativeMatMul(backend, a, b, transposeA, transposeB);
  if (ours) return ours;
  if (!transposeA && !transposeB) return native(args) as TensorInfo;
  const swapLast = (t: TensorInfo): TensorInfo => {
    const perm = t.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return callKernel('Transpose', { x: t }, backend, { perm });
  };
  const at = transposeA ? swapLast(a) : a;
  const bt = transposeB ? swapLast(b) : b;
  const out = native({ inputs: { a: at, b: bt }, backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as TensorInfo;
  if (transposeA) backend.disposeData(at.dataId);
  if (transposeB) backend.disposeData(bt.dataId);
  return out;
}
