import * as tf from '@tensorflow/tfjs';
import { ptr, type TensorInfo, type WasmBackendLike } from './memory.js';
import { nativeTensors } from './native-tensors.js';
import { nativeAddon, nativeKernelsDecision } from './native.js';
import { simdKernels } from './simd.js';

/** The transcendental functions of native/kernels-impl.h (unaryMathRange), with their operation codes. */
const mathOps = { Exp: 0, Erf: 1, Gelu: 2, GeluGrad: 3 } as const;
export type MathOp = 'Exp' | 'Erf';

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
  if (n > 0) k.unaryMath(ptr(backend, x), 0, ptr(backend, out), n, mathOps[op]);
  return out;
}

/**
 * The erf GELU, (x/2)·(1 + erf(x/√2)), with its gradient dy·(Φ(x) + x·φ(x)), each in one pass on the
 * native kernels of the wasm backend (else null). As tensor ops it is five passes forward and about
 * ten back over a transformer's widest activations (4× its width). The forward rounds as those ops do
 * on the native kernels, step by step, so its values are theirs.
 */
export function nativeGelu(): ((x: tf.Tensor) => tf.Tensor) | null {
  const l = nativeAddon();
  if (!l.addon || !nativeKernelsDecision().use || tf.getBackend() !== 'wasm') return null;
  const addon = l.addon;
  const n = nativeTensors(tf.backend() as WasmBackendLike);
  const run = (x: tf.Tensor, dy: tf.Tensor | null, op: number): tf.Tensor => {
    const out = n.output(x.shape);
    if (x.size > 0) addon.unaryMath(n.memory(), n.offset(x), dy ? n.offset(dy) : 0, n.offset(out), x.size, op);
    return out;
  };
  return (x) => {
    if (x.dtype !== 'float32') throw new Error('gelu: a float32 input expected');
    // customGrad hands over the inputs and then its save function in one list
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xi, save] = args;
      if (!(xi instanceof tf.Tensor) || typeof save !== 'function') throw new Error('gelu: customGrad called without (x, save)');
      save([xi]);
      return { value: run(xi, null, mathOps.Gelu), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [run(saved[0], dy, mathOps.GeluGrad)] };
    });
    return f(x);
  };
}
