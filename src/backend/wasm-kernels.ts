import * as tf from '@tensorflow/tfjs';
import { conv2dSimd, conv2dBackpropFilter, conv2dBackpropInput } from './wasm/conv.js';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './wasm/depthwise.js';
import { batchMatMulUntransposed } from './wasm/matmul.js';
import { type TensorInfo } from './wasm/memory.js';
import { maxPoolGrad, maxPoolNative } from './wasm/pool.js';
import { sliceNative, padNative, splitNative } from './wasm/slice.js';
import { mathNative } from './wasm/math.js';
import { unsortedSegmentSum, leadingAxesSumSimd, leadingAxesMeanSimd, trailingAxesReduceNative, channelBinarySimd, sameTypeCast, unaryNative } from './wasm/reductions.js';
export { simdKernelsActive, kernelEngine, type KernelEngine } from './wasm/simd.js';
export { setNativeThreads, nativeThreads, nativeKernelsDecision, nativeAdam, type NativeAdam } from './wasm/native.js';
export { nativeAdamTensors, type NativeAdamTensors } from './wasm/adam.js';
export { nativeBatchNormTraining, type BatchNormTraining } from './wasm/batch-norm.js';
export { nativeGelu } from './wasm/math.js';
export { nativeLayerNorm, type LayerNormRows } from './wasm/layer-norm.js';
export { nativeDenseWithBias, type DenseWithBias } from './wasm/dense.js';
export { nativeAttention, type AttentionHeads, type HeadLayout, type HeadPlace } from './wasm/attention.js';

/**
 * The wasm backend's kernel table: gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 does not
 * register (so that conv nets train on wasm) and faster replacements for slow ones, each in its file
 * under ./wasm/ and each tested against the cpu backend. Conv2DBackpropFilter is the hot one: im2col
 * into wasm memory and one matrix product on wasm's fast matMul (wasm's own Conv3DBackpropFilterV2 is
 * slower and wrong for strides > 1).
 */
const kernels: [string, tf.KernelFunc][] = [
  ['Conv2DBackpropFilter', conv2dBackpropFilter as tf.KernelFunc],
  ['DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter as tf.KernelFunc],
  ['DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput as tf.KernelFunc],
  ['UnsortedSegmentSum', unsortedSegmentSum as tf.KernelFunc],
];

/**
 * Identity without a copy (as the cpu backend does it, and as wasm's own Reshape shares its input):
 * tfjs-wasm 4.22 copies the whole tensor, which gradients call for every pass-through.
 */
const sharedIdentity: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  if (x.dtype === 'string') return tf.tensor((backend as unknown as { readSync(id: tf.DataId): string[] }).readSync(x.dataId), x.shape, x.dtype);
  (backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** Faster replacements for kernels wasm has (each tested against the cpu backend). */
const replacements: [string, tf.KernelFunc][] = [
  ['Conv2DBackpropInput', conv2dBackpropInput as tf.KernelFunc],
  ['MaxPoolGrad', maxPoolGrad as tf.KernelFunc],
  ['Identity', sharedIdentity],
];

let registered = false;

/**
 * Register the missing kernels for 'wasm' and, unless `replaceSlow` is false, our faster versions of
 * slow ones (idempotent).
 */
export function registerMissingWasmKernels(replaceSlow = true): string[] {
  if (registered) return [];
  registered = true;
  const added: string[] = [];
  for (const [kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, 'wasm')) continue;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    added.push(kernelName);
  }
  if (replaceSlow && process.env.EXTRA_WASM_NATIVE_KERNELS !== '1') {
    for (const [kernelName, kernelFunc] of replacements) {
      const old = tf.getKernel(kernelName, 'wasm');
      if (old) tf.unregisterKernel(kernelName, 'wasm');
      // keep wasm's setup hook (none of ours needs one, but its cwrap bindings stay harmless)
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
      added.push(kernelName);
    }
    // BatchMatMul with a transposed operand runs ~10× slower in tfjs-wasm 4.22 than without (the
    // dense-layer gradients, measured in reports/kernels.md): transpose explicitly, then multiply.
    const nativeMatMul = tf.getKernel('BatchMatMul', 'wasm');
    if (nativeMatMul) {
      tf.unregisterKernel('BatchMatMul', 'wasm');
      const kernelFunc: tf.KernelFunc = (args) => batchMatMulUntransposed(args as Parameters<typeof batchMatMulUntransposed>[0], nativeMatMul.kernelFunc);
      tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc, setupFunc: nativeMatMul.setupFunc });
      added.push('BatchMatMul');
    }
    // Conv2D / FusedConv2D / Sum, Mean (over leading or trailing axes) / Add, Sub, Multiply, RealDiv (per channel or of one shape) /
    // same-type Cast / Relu, Step, Square / Exp, Erf / MaxPool / Slice, SplitV and constant Pad of boxes of two levels of runs:
    // ours where they apply, wasm's own (XNNPACK) otherwise. wasm's setup
    // hooks must stay registered so that its own kernels are bound when the backend starts.
    const wrapped: [string, (args: Parameters<typeof conv2dSimd>[0]) => TensorInfo | TensorInfo[] | null][] = [
      ['Conv2D', conv2dSimd],
      ['FusedConv2D', conv2dSimd],
      ['Sum', (a) => leadingAxesSumSimd(a) ?? trailingAxesReduceNative('Sum', a)],
      ['Mean', (a) => leadingAxesMeanSimd(a) ?? trailingAxesReduceNative('Mean', a)],
      ['Add', (a) => channelBinarySimd('Add', a)],
      ['Sub', (a) => channelBinarySimd('Sub', a)],
      ['Multiply', (a) => channelBinarySimd('Multiply', a)],
      ['RealDiv', (a) => channelBinarySimd('RealDiv', a)],
      ['Cast', sameTypeCast],
      ['Relu', (a) => unaryNative('Relu', a)],
      ['Step', (a) => unaryNative('Step', a)],
      ['Square', (a) => unaryNative('Square', a)],
      ['Exp', (a) => mathNative('Exp', a)],
      ['Erf', (a) => mathNative('Erf', a)],
      ['MaxPool', maxPoolNative],
      ['Slice', sliceNative],
      ['PadV2', padNative],
      ['SplitV', splitNative],
    ];
    for (const [kernelName, ours] of wrapped) {
      const native = tf.getKernel(kernelName, 'wasm');
      if (!native) continue;
      tf.unregisterKernel(kernelName, 'wasm');
      const kernelFunc: tf.KernelFunc = (args) => ours(args as Parameters<typeof conv2dSimd>[0]) ?? native.kernelFunc(args);
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc, setupFunc: native.setupFunc });
      added.push(kernelName);
    }
  }
  return added;
}
