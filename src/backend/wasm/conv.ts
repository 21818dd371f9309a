import * as tf from '@tensorflow/tfjs';
import { type TensorInfo, type WasmBackendLike, type Pad, callKernel, ptr, roundUpTo, Scratch, heapView } from './memory.js';
import { type SimdKernels, simdKernels } from './simd.js';

/** Conv2D forward and its filter and input gradients (SIMD where it applies, im2col / wasm kernels otherwise). */

export interface PaddedConv {
  info: tf.backend_util.Conv2DInfo;
  /** input height/width after explicit padding, and the padding placed at top/left */
  hp: number;
  wp: number;
  top: number;
  left: number;
}

/**
 * Geometry of a convolution run as 'valid' on an explicitly padded input: the bottom/right padding
 * is widened when the rounding mode asks for more rows than the padding provides.
 */
export function paddedConv(xShape: number[], filterShape: number[], strides: number | [number, number], pad: Pad, dimRoundingMode?: 'floor' | 'round' | 'ceil'): PaddedConv {
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], strides, 1, pad as 'valid', dimRoundingMode);
  const { top, left, bottom, right } = info.padInfo;
  const [, h, w] = xShape;
  const needH = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
  const needW = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
  return { info, hp: Math.max(h + top + bottom, needH), wp: Math.max(w + left + right, needW), top, left };
}

/** The input as the SIMD kernels read it: itself when unpadded, else a zero-padded copy. */
export function paddedInput(k: SimdKernels, backend: WasmBackendLike, scratch: Scratch, x: TensorInfo, g: PaddedConv): number {
  const [b, h, w, c] = x.shape;
  if (g.hp === h && g.wp === w) return ptr(backend, x);
  const xp = scratch.alloc([b, g.hp, g.wp, c]);
  k.padNHWC(ptr(backend, x), xp.ptr, b, h, w, c, g.hp, g.wp, c, g.top, g.left);
  return xp.ptr;
}

export interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export const isOne = (d: number | [number, number] | undefined): boolean => d === undefined || (typeof d === 'number' ? d === 1 : d[0] === 1 && d[1] === 1);

/**
 * Conv2D (and FusedConv2D with a per-channel bias and no activation) by the SIMD direct convolution;
 * null when the case is not ours (NCHW, dilation, an activation, a non-vector bias).
 */
export function conv2dSimd(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const attrs = args.attrs as unknown as ConvAttrs & { activation?: string };
  const k = simdKernels(backend);
  if (!k || attrs.dataFormat === 'NCHW' || !isOne(attrs.dilations)) return null;
  if (attrs.activation !== undefined && attrs.activation !== 'linear') return null;
  const { x, filter, bias } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
  if (bias && !(bias.shape.length === 1 && bias.shape[0] === filter.shape[3]) && !(bias.shape.length === 0 && filter.shape[3] === 1)) return null;
  const [kh, kw, ci, co] = filter.shape;
  const g = paddedConv(x.shape, filter.shape, attrs.strides, attrs.pad, attrs.dimRoundingMode);
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, batchSize: b } = g.info;
  const y = backend.makeOutput([b, oh, ow, co], 'float32');
  if (b * oh * ow * co === 0) return y;
  const scratch = new Scratch(backend);
  const coP = roundUpTo(co, k.lanes);
  const wp = scratch.alloc([kh * kw * ci, coP]);
  k.padColumns(ptr(backend, filter), wp.ptr, kh * kw * ci, co, coP);
  let biasPtr = 0;
  if (bias) {
    const bp = scratch.alloc([coP]);
    k.padColumns(ptr(backend, bias), bp.ptr, 1, co, coP);
    biasPtr = bp.ptr;
  }
  const xp = paddedInput(k, backend, scratch, x, g);
  k.conv2dValid(xp, wp.ptr, biasPtr, ptr(backend, y), b, g.hp, g.wp, ci, oh, ow, co, coP, kh, kw, sh, sw, g.top, g.top + x.shape[1], g.left, g.left + x.shape[2]);
  scratch.dispose();
  return y;
}

/** Conv2DBackpropFilter by the SIMD kernel: dW = Σ patch ⊗ dy, no im2col matrix. */
export function conv2dBackpropFilterSimd(k: SimdKernels, backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, attrs: ConvAttrs & { filterShape: [number, number, number, number] }): TensorInfo {
  const [kh, kw, ci, co] = attrs.filterShape;
  const g = paddedConv(x.shape, attrs.filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode);
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, batchSize: b } = g.info;
  const K = kh * kw * ci;
  const coP = roundUpTo(co, k.lanes);
  const scratch = new Scratch(backend);
  const dw = backend.makeOutput([kh, kw, ci, co], 'float32');
  const dwP = coP === co ? { info: dw, ptr: ptr(backend, dw) } : scratch.alloc([K, coP]);
  heapView(backend, dwP.info, K * coP).fill(0);
  if (b * oh * ow > 0) {
    let dyP = ptr(backend, dy);
    let dyStride = co;
    // dy is read in whole vectors: without channel padding the last pixel's read runs coP − co floats
    // past dy, which is harmless inside the wasm memory; copy to a padded buffer only at its very end
    const memoryBytes = (backend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength;
    if (coP !== co && dyP + 4 * (b * oh * ow * co + coP) > memoryBytes) {
      const d = scratch.alloc([b * oh * ow, coP]);
      k.padColumns(dyP, d.ptr, b * oh * ow, co, coP);
      dyP = d.ptr;
      dyStride = coP;
    }
    const xp = paddedInput(k, backend, scratch, x, g);
    k.conv2dFilterGrad(xp, dyP, dwP.ptr, b, g.hp, g.wp, ci, oh, ow, coP, dyStride, kh, kw, sh, sw);
  }
  if (coP !== co) k.cropColumns(dwP.ptr, ptr(backend, dw), K, co, coP);
  scratch.dispose();
  return dw;
}

/**
 * Conv2DBackpropInput of a stride-1 convolution as a 'valid' convolution of the padded dy with the
 * flipped, transposed filter; null for strides > 1 (the matMul + col2im path handles those).
 */
export function conv2dBackpropInputSimd(k: SimdKernels, backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, attrs: ConvAttrs & { inputShape: [number, number, number, number] }): TensorInfo | null {
  const [kh, kw, ci, co] = filter.shape;
  const g = paddedConv(attrs.inputShape, filter.shape, attrs.strides, attrs.pad, attrs.dimRoundingMode);
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = g.info;
  const [b, h, w] = attrs.inputShape;
  const padTop = kh - 1 - g.top;
  const padLeft = kw - 1 - g.left;
  const hp = h + kh - 1;
  const wp = w + kw - 1;
  if (sh !== 1 || sw !== 1 || padTop < 0 || padLeft < 0 || padTop + oh > hp || padLeft + ow > wp) return null;
  const dx = backend.makeOutput(attrs.inputShape, 'float32');
  if (b * h * w * ci === 0) return dx;
  const scratch = new Scratch(backend);
  const ciP = roundUpTo(ci, k.lanes);
  const wf = scratch.alloc([kh * kw * co, ciP]);
  k.flipFilter(ptr(backend, filter), wf.ptr, kh, kw, ci, co, ciP);
  const dyp = scratch.alloc([b, hp, wp, co]);
  k.padNHWC(ptr(backend, dy), dyp.ptr, b, oh, ow, co, hp, wp, co, padTop, padLeft);
  k.conv2dValid(dyp.ptr, wf.ptr, 0, ptr(backend, dx), b, hp, wp, co, h, w, ci, ciP, kh, kw, 1, 1, padTop, padTop + oh, padLeft, padLeft + ow);
  scratch.dispose();
  return dx;
}

/**
 * Conv2DBackpropFilter by im2col + one matrix product on wasm's fast matMul:
 *   patches[(i,j,c), (b,oh,ow)] = x[b, oh·s + i − top, ow·s + j − left, c]   (0 outside)
 *   dW = patches · dy   ([kh·kw·ci × rows] · [rows × co]).
 * The patches matrix is written straight into wasm memory. wasm's own Conv3DBackpropFilterV2 (a
 * naive loop, and wrong for strides > 1 in 4.22) was 7× slower on lenet-mtl's first layer.
 */
export function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as {
    strides: number | [number, number];
    pad: Pad;
    dataFormat: 'NHWC' | 'NCHW';
    filterShape: [number, number, number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const simd = simdKernels(backend);
  if (simd) return conv2dBackpropFilterSimd(simd, backend, x, dy, attrs);
  const [kh, kw, ci, co] = attrs.filterShape;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad as 'valid',
    attrs.dimRoundingMode,
  );
  const [b, h, w] = x.shape;
  const oh = info.outHeight;
  const ow = info.outWidth;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const K = kh * kw * ci;
  const rows = b * oh * ow;
  const xv = backend.readSync(x.dataId) as Float32Array;
  // patches in transposed layout [K, rows], so that dW = patchesᵀ·dy needs no transposes and the
  // "weights" operand XNNPACK packs on every call is the small dy, not the large patch matrix
  const patchesInfo = backend.makeOutput([1, K, rows], 'float32');
  const patches = heapView(backend, patchesInfo, rows * K);
  let o = 0;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < ci; c++) {
        for (let n = 0; n < b; n++) {
          for (let yr = 0; yr < oh; yr++) {
            const row = yr * sh + i - top;
            if (row < 0 || row >= h) {
              patches.fill(0, o, o + ow);
              o += ow;
              continue;
            }
            const rowBase = (n * h + row) * w;
            const first = j - left;
            if (ci === 1 && sw === 1 && first >= 0 && first + ow <= w) {
              // one input channel, stride 1, no padding in this row: the patch row is a contiguous slice
              patches.set(xv.subarray(rowBase + first, rowBase + first + ow), o);
              o += ow;
              continue;
            }
            for (let yc = 0; yc < ow; yc++, o++) {
              const col = yc * sw + j - left;
              patches[o] = col < 0 || col >= w ? 0 : xv[(rowBase + col) * ci + c];
            }
          }
        }
      }
    }
  }
  const prod = callKernel(
    'BatchMatMul',
    { a: patchesInfo, b: { dataId: dy.dataId, shape: [1, rows, co], dtype: 'float32' } },
    backend,
    { transposeA: false, transposeB: false },
  );
  backend.disposeData(patchesInfo.dataId);
  return { dataId: prod.dataId, shape: [kh, kw, ci, co], dtype: 'float32' };
}

/**
 * Conv2DBackpropInput as a matrix product plus col2im: cols = dy · Wᵀ ([rows × co]·[co × kh·kw·ci]),
 * then every column entry is added back to the input pixel it came from. Replaces wasm's own kernel
 * (3× slower on lenet-mtl's second layer); tested against the cpu backend.
 */
export function conv2dBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as {
    strides: number | [number, number];
    pad: Pad;
    dataFormat: 'NHWC' | 'NCHW';
    inputShape: [number, number, number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropInput on wasm supports NHWC only');
  const simd = simdKernels(backend);
  const [b0, h0, w0] = attrs.inputShape;
  const [kh0, kw0] = filter.shape;
  // dy·wᵀ + col2im computes no product on zeros; the flipped-filter convolution of the zero-padded dy
  // (stride 1 only) reads (h + kh − 1)(w + kw − 1) pixels per h·w: it wins where that padding is small
  const padded = ((h0 + kh0 - 1) * (w0 + kw0 - 1)) / Math.max(1, h0 * w0);
  const info0 = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad as 'valid', attrs.dimRoundingMode);
  if (simd?.conv2dInputGrad && (info0.strideHeight > 1 || info0.strideWidth > 1 || padded > 1.4 || b0 === 0)) {
    const [kh, kw, ci, co] = filter.shape;
    const info = info0;
    const dx = backend.makeOutput(attrs.inputShape, 'float32');
    const [b, h, w] = attrs.inputShape;
    if (b * h * w * ci > 0) simd.conv2dInputGrad(ptr(backend, dy), ptr(backend, filter), ptr(backend, dx), b, h, w, ci, info.outHeight, info.outWidth, co, kh, kw, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
    return dx;
  }
  const viaSimd = simd ? conv2dBackpropInputSimd(simd, backend, dy, filter, attrs) : null;
  if (viaSimd) return viaSimd;
  const [kh, kw, ci, co] = filter.shape;
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad as 'valid', attrs.dimRoundingMode);
  const [b, h, w] = attrs.inputShape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const K = kh * kw * ci;
  const rows = b * oh * ow;
  const wT = callKernel('Transpose', { x: { dataId: filter.dataId, shape: [K, co], dtype: 'float32' } }, backend, { perm: [1, 0] });
  const cols = callKernel(
    'BatchMatMul',
    { a: { dataId: dy.dataId, shape: [1, rows, co], dtype: 'float32' }, b: { dataId: wT.dataId, shape: [1, co, K], dtype: 'float32' } },
    backend,
    { transposeA: false, transposeB: false },
  );
  backend.disposeData(wT.dataId);
  const dx = backend.makeOutput(attrs.inputShape, 'float32');
  // views after the last allocation (a growing wasm heap would detach earlier views)
  const cv = heapView(backend, cols, rows * K);
  const out = heapView(backend, dx, b * h * w * ci);
  out.fill(0);
  let r = 0;
  for (let n = 0; n < b; n++) {
    for (let yr = 0; yr < oh; yr++) {
      for (let yc = 0; yc < ow; yc++, r++) {
        let o = r * K;
        for (let i = 0; i < kh; i++) {
          const row = yr * sh + i - top;
          if (row < 0 || row >= h) {
            o += kw * ci;
            continue;
          }
          for (let j = 0; j < kw; j++) {
            const col = yc * sw + j - left;
            if (col >= 0 && col < w) {
              const base = ((n * h + row) * w + col) * ci;
              for (let c = 0; c < ci; c++) out[base + c] += cv[o + c];
            }
            o += ci;
          }
        }
      }
    }
  }
  backend.disposeData(cols.dataId);
  return dx;
}
