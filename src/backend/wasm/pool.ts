import * as tf from '@tensorflow/tfjs';
import { type TensorInfo, type WasmBackendLike, ptr, heapView } from './memory.js';
import { simdKernels } from './simd.js';

/** MaxPool and its gradient. */

/**
 * MaxPoolGrad: route each dy entry to the first maximum of its window (the cpu backend's rule).
 * A direct loop; wasm's kernel took 30 ms per lenet-mtl step.
 */
export function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const attrs = args.attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const [b, h, w, c] = input.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const dx = backend.makeOutput(input.shape, 'float32');
  const simd = simdKernels(backend);
  if (simd) {
    const plain2x2 = fh === 2 && fw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && info.padInfo.bottom === 0 && info.padInfo.right === 0;
    if (b * h * w * c === 0) return dx;
    if (plain2x2) simd.maxPoolGrad2x2(ptr(backend, input), ptr(backend, dy), ptr(backend, dx), b, h, w, c, oh, ow);
    else simd.maxPoolGrad(ptr(backend, input), ptr(backend, dy), ptr(backend, dx), b, h, w, c, oh, ow, fh, fw, sh, sw, top, left);
    return dx;
  }
  const xv = heapView(backend, input, b * h * w * c);
  const dyv = heapView(backend, dy, b * oh * ow * c);
  const out = heapView(backend, dx, b * h * w * c);
  out.fill(0);
  for (let n = 0; n < b; n++) {
    for (let yr = 0; yr < oh; yr++) {
      for (let yc = 0; yc < ow; yc++) {
        const dyBase = ((n * oh + yr) * ow + yc) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let arg = -1;
          for (let i = 0; i < fh; i++) {
            const row = yr * sh + i - top;
            if (row < 0 || row >= h) continue;
            for (let j = 0; j < fw; j++) {
              const col = yc * sw + j - left;
              if (col < 0 || col >= w) continue;
              const idx = ((n * h + row) * w + col) * c + ch;
              if (xv[idx] > best || arg < 0) {
                best = xv[idx];
                arg = idx;
              }
            }
          }
          if (arg >= 0) out[arg] += dyv[dyBase + ch];
        }
      }
    }
  }
  return dx;
}

/** MaxPool on the native kernels (float32, channels a multiple of the lanes); null otherwise (tfjs-wasm's XNNPACK kernel then runs). */
export function maxPoolNative(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const k = simdKernels(backend);
  const { x } = args.inputs as { x: TensorInfo };
  // channels in whole vectors only: with a scalar tail (10 channels: 8 + 2) XNNPACK's kernel measured faster
  if (!k?.maxPool || x.dtype !== 'float32' || x.shape.length !== 4 || x.shape[3] % k.lanes !== 0) return null;
  const attrs = args.attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const [b, h, w, c] = x.shape;
  const y = backend.makeOutput([b, info.outHeight, info.outWidth, c], 'float32');
  if (b * info.outHeight * info.outWidth * c === 0) return y;
  k.maxPool(ptr(backend, x), ptr(backend, y), b, h, w, c, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
  return y;
}
