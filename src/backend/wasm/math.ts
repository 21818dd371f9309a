import * as tf from '@tensorflow/tfjs';
import { ptr, type TensorInfo, type WasmBackendLike } from './memory.js';
import { simdKernels } from './simd.js';

/** The transcendental functions of native/kernels-impl.h, with their operation codes. */
const mathOps = { Exp: 0, Erf: 1 } as const;
export type MathOp = keyof typeof mathOps;

/**
 * Exp or Erf of a float32 tensor on the native kernels (vectorised, on every thread count: they are
 * compute-bound), null otherwise (wasm's own kernel then runs). tfjs-wasm 4.22 calls libm once per
 * element: 8 ns an exp, which made the erf GELU of a ViT and its gradient a fifth of its step.
 */
export function mathNative(op: MathOp, args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const k = simdKernels(backend);
  const { x } = args.inputs as { x: TensorInfo };
  if (!k?.unaryMath || x.dtype !== 'float32') return null;
  const out = backend.makeOutput(x.shape, 'float32');
  const n = x.shape.reduce((p, q) => p * q, 1);
  if (n > 0) k.unaryMath(ptr(backend, x), ptr(backend, out), n, mathOps[op]);
  return out;
}
