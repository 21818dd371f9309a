import * as tf from '@tensorflow/tfjs';
import { type TensorInfo, type WasmBackendLike, callKernel } from './memory.js';

/** BatchMatMul with transposed operands. */

/** BatchMatMul with transposeA/transposeB done as an explicit Transpose (wasm's fast kernel) first. */
export function batchMatMulUntransposed(
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap },
  native: tf.KernelFunc,
): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  if ((!transposeA && !transposeB) || process.env.EXTRA_SIMD_KERNELS === '0') return native(args) as TensorInfo;
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
