import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 does not register, so that conv nets
 * train on wasm. Conv2DBackpropFilter is the hot one: im2col into wasm memory and one matrix product
 * on wasm's fast matMul (conv2dBackpropFilter below; wasm's own Conv3DBackpropFilterV2 is slower and
 * wrong for strides > 1). The depthwise-conv gradients and UnsortedSegmentSum are rarely hot, so they
 * are plain loops over the data read from wasm memory.
 */
type TensorInfo = tf.TensorInfo;
interface WasmBackendLike extends tf.KernelBackend {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
}

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

function callKernel(name: string, inputs: Record<string, TensorInfo>, backend: WasmBackendLike, attrs: Record<string, unknown>): TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} missing`);
  return k.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
}

/** A new wasm tensor holding `values` (wasm's makeOutput takes a heap offset, not values). */
function output(backend: WasmBackendLike, shape: number[], dtype: tf.DataType, values: Float32Array | Int32Array): TensorInfo {
  return { dataId: backend.write(values, shape, dtype), shape, dtype };
}



/** The SIMD kernels of assembly/kernels.ts (pointers are byte offsets into tfjs-wasm's memory). */
interface SimdKernels {
  conv2dValid(x: number, w: number, bias: number, y: number, b: number, h: number, wd: number, ci: number, oh: number, ow: number, co: number, coP: number, kh: number, kw: number, sh: number, sw: number, rowLo: number, rowHi: number, colLo: number, colHi: number): void;
  conv2dFilterGrad(x: number, dy: number, dw: number, b: number, h: number, wd: number, ci: number, oh: number, ow: number, coP: number, dyStride: number, kh: number, kw: number, sh: number, sw: number): void;
  padNHWC(src: number, dst: number, b: number, h: number, w: number, c: number, hp: number, wp: number, cp: number, top: number, left: number): void;
  flipFilter(w: number, dst: number, kh: number, kw: number, ci: number, co: number, ciP: number): void;
  padColumns(src: number, dst: number, rows: number, c: number, cp: number): void;
  cropColumns(src: number, dst: number, rows: number, c: number, cp: number): void;
  maxPoolGrad(x: number, dy: number, dx: number, b: number, h: number, w: number, c: number, oh: number, ow: number, fh: number, fw: number, sh: number, sw: number, top: number, left: number): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, b: number, h: number, w: number, c: number, oh: number, ow: number): void;
  columnSums(x: number, out: number, rows: number, cols: number): void;
  addBias(x: number, bias: number, out: number, rows: number, cols: number): void;
}

/** The built kernels.wasm: next to this file in dist/, or in dist/ when the TypeScript sources run. */
function kernelsWasmBytes(): Buffer<ArrayBuffer> | null {
  for (const rel of ['./kernels.wasm', '../../dist/backend/kernels.wasm']) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return readFileSync(file) as Buffer<ArrayBuffer>;
  }
  return null;
}

let simdModule: WebAssembly.Module | null | undefined;
let simdInstance: { memory: WebAssembly.Memory; kernels: SimdKernels } | null = null;

/**
 * Our SIMD kernels instantiated on the wasm backend's memory, or null when they are switched off
 * (EXTRA_SIMD_KERNELS=0), not built, or the backend does not expose its memory.
 */
function simdKernels(backend: WasmBackendLike): SimdKernels | null {
  if (process.env.EXTRA_SIMD_KERNELS === '0') return null;
  const memory = (backend as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (simdInstance?.memory === memory) return simdInstance.kernels;
  if (simdModule === undefined) {
    const bytes = kernelsWasmBytes();
    try {
      simdModule = bytes ? new WebAssembly.Module(bytes) : null;
    } catch {
      simdModule = null;
    }
  }
  if (!simdModule) return null;
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(simdModule, { env: { memory } });
  } catch {
    // a host without wasm SIMD: tfjs-wasm's plain build, and our kernels stay off
    simdModule = null;
    return null;
  }
  simdInstance = { memory, kernels: instance.exports as unknown as SimdKernels };
  return simdInstance.kernels;
}

/** Whether the SIMD kernels are in use for the current wasm backend (tests and benchmarks report it). */
export function simdKernelsActive(): boolean {
  const backend = tf.backend() as WasmBackendLike;
  return tf.getBackend() === 'wasm' && simdKernels(backend) !== null;
}

function ptr(backend: WasmBackendLike, t: TensorInfo): number {
  return (backend as unknown as { dataIdMap: { get(id: tf.DataId): { memoryOffset: number } } }).dataIdMap.get(t.dataId).memoryOffset;
}

const roundUp4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Scratch tensors of one kernel call, disposed together. */
class Scratch {
  private readonly infos: TensorInfo[] = [];
  constructor(private readonly backend: WasmBackendLike) {}
  alloc(shape: number[]): { info: TensorInfo; ptr: number } {
    const info = this.backend.makeOutput(shape, 'float32');
    this.infos.push(info);
    return { info, ptr: ptr(this.backend, info) };
  }
  dispose(): void {
    for (const t of this.infos) this.backend.disposeData(t.dataId);
  }
}

interface PaddedConv {
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
function paddedConv(xShape: number[], filterShape: number[], strides: number | [number, number], pad: Pad, dimRoundingMode?: 'floor' | 'round' | 'ceil'): PaddedConv {
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], strides, 1, pad as 'valid', dimRoundingMode);
  const { top, left, bottom, right } = info.padInfo;
  const [, h, w] = xShape;
  const needH = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
  const needW = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
  return { info, hp: Math.max(h + top + bottom, needH), wp: Math.max(w + left + right, needW), top, left };
}

/** The input as the SIMD kernels read it: itself when unpadded, else a zero-padded copy. */
function paddedInput(k: SimdKernels, backend: WasmBackendLike, scratch: Scratch, x: TensorInfo, g: PaddedConv): number {
  const [b, h, w, c] = x.shape;
  if (g.hp === h && g.wp === w) return ptr(backend, x);
  const xp = scratch.alloc([b, g.hp, g.wp, c]);
  k.padNHWC(ptr(backend, x), xp.ptr, b, h, w, c, g.hp, g.wp, c, g.top, g.left);
  return xp.ptr;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const isOne = (d: number | [number, number] | undefined): boolean => d === undefined || (typeof d === 'number' ? d === 1 : d[0] === 1 && d[1] === 1);

/**
 * Conv2D (and FusedConv2D with a per-channel bias and no activation) by the SIMD direct convolution;
 * null when the case is not ours (NCHW, dilation, an activation, a non-vector bias).
 */
function conv2dSimd(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
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
  const coP = roundUp4(co);
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
function conv2dBackpropFilterSimd(k: SimdKernels, backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, attrs: ConvAttrs & { filterShape: [number, number, number, number] }): TensorInfo {
  const [kh, kw, ci, co] = attrs.filterShape;
  const g = paddedConv(x.shape, attrs.filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode);
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, batchSize: b } = g.info;
  const K = kh * kw * ci;
  const coP = roundUp4(co);
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
function conv2dBackpropInputSimd(k: SimdKernels, backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, attrs: ConvAttrs & { inputShape: [number, number, number, number] }): TensorInfo | null {
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
  const ciP = roundUp4(ci);
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
function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
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

/** A Float32Array view of a wasm tensor's memory (valid until the next wasm allocation). */
function heapView(backend: WasmBackendLike, t: TensorInfo, n: number): Float32Array {
  const b = backend as unknown as { dataIdMap: { get(id: tf.DataId): { memoryOffset: number } }; wasm: { HEAPU8: Uint8Array } };
  const off = b.dataIdMap.get(t.dataId).memoryOffset;
  return new Float32Array(b.wasm.HEAPU8.buffer, off, n);
}

/**
 * Conv2DBackpropInput as a matrix product plus col2im: cols = dy · Wᵀ ([rows × co]·[co × kh·kw·ci]),
 * then every column entry is added back to the input pixel it came from. Replaces wasm's own kernel
 * (3× slower on lenet-mtl's second layer); tested against the cpu backend.
 */
function conv2dBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
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

/**
 * MaxPoolGrad: route each dy entry to the first maximum of its window (the cpu backend's rule).
 * A direct loop; wasm's kernel took 30 ms per lenet-mtl step.
 */
function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
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

interface ConvGeom {
  b: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  mult: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  left: number;
}

function depthwiseGeom(xShape: number[], filterShape: number[], attrs: { strides: number | [number, number]; pad: Pad; dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil' }): ConvGeom {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad as 'valid',
    attrs.dimRoundingMode,
    true,
  );
  return {
    b: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    c: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    mult: info.outChannels / info.inChannels,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/** Visit every (input pixel, filter tap, output pixel) triple of a depthwise convolution. */
function forEachDepthwiseTap(g: ConvGeom, visit: (xi: number, fi: number, yi: number) => void): void {
  for (let n = 0; n < g.b; n++)
    for (let yr = 0; yr < g.oh; yr++)
      for (let yc = 0; yc < g.ow; yc++)
        for (let i = 0; i < g.kh; i++) {
          const r = yr * g.sh - g.top + i * g.dh;
          if (r < 0 || r >= g.h) continue;
          for (let j = 0; j < g.kw; j++) {
            const col = yc * g.sw - g.left + j * g.dw;
            if (col < 0 || col >= g.w) continue;
            for (let ch = 0; ch < g.c; ch++)
              for (let q = 0; q < g.mult; q++) {
                const xi = ((n * g.h + r) * g.w + col) * g.c + ch;
                const fi = ((i * g.kw + j) * g.c + ch) * g.mult + q;
                const yi = ((n * g.oh + yr) * g.ow + yc) * g.c * g.mult + ch * g.mult + q;
                visit(xi, fi, yi);
              }
          }
        }
}

function depthwiseBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as { strides: number | [number, number]; pad: Pad; dilations?: number | [number, number]; filterShape: number[] };
  const g = depthwiseGeom(x.shape, attrs.filterShape, attrs);
  const xv = backend.readSync(x.dataId) as Float32Array;
  const dyv = backend.readSync(dy.dataId) as Float32Array;
  const out = new Float32Array(attrs.filterShape.reduce((a, v) => a * v, 1));
  forEachDepthwiseTap(g, (xi, fi, yi) => (out[fi] += xv[xi] * dyv[yi]));
  return output(backend, attrs.filterShape, 'float32', out);
}

function depthwiseBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as { strides: number | [number, number]; pad: Pad; dilations?: number | [number, number]; inputShape: number[] };
  const g = depthwiseGeom(attrs.inputShape, filter.shape, attrs);
  const fv = backend.readSync(filter.dataId) as Float32Array;
  const dyv = backend.readSync(dy.dataId) as Float32Array;
  const out = new Float32Array(attrs.inputShape.reduce((a, v) => a * v, 1));
  forEachDepthwiseTap(g, (xi, fi, yi) => (out[xi] += fv[fi] * dyv[yi]));
  return output(backend, attrs.inputShape, 'float32', out);
}

function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
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
function leadingAxesSumSimd(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
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
function biasAddSimd(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo | null {
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

/** BatchMatMul with transposeA/transposeB done as an explicit Transpose (wasm's fast kernel) first. */
function batchMatMulUntransposed(
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

const kernels: [string, tf.KernelFunc][] = [
  ['Conv2DBackpropFilter', conv2dBackpropFilter as tf.KernelFunc],
  ['DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter as tf.KernelFunc],
  ['DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput as tf.KernelFunc],
  ['UnsortedSegmentSum', unsortedSegmentSum as tf.KernelFunc],
];

/** Faster replacements for kernels wasm has (each tested against the cpu backend). */
const replacements: [string, tf.KernelFunc][] = [
  ['Conv2DBackpropInput', conv2dBackpropInput as tf.KernelFunc],
  ['MaxPoolGrad', maxPoolGrad as tf.KernelFunc],
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
    // Conv2D / FusedConv2D / Sum: ours where they apply, wasm's own (XNNPACK) otherwise. wasm's setup
    // hooks must stay registered so that its own kernels are bound when the backend starts.
    const wrapped: [string, (args: Parameters<typeof conv2dSimd>[0]) => TensorInfo | null][] = [
      ['Conv2D', conv2dSimd],
      ['FusedConv2D', conv2dSimd],
      ['Sum', leadingAxesSumSimd],
      ['Add', biasAddSimd],
    ];
    for (const [kernelName, ours] of wrapped) {
      const native = tf.getKernel(kernelName, 'wasm');
      if (!native) continue;
      tf.unregisterKernel(kernelName, 'wasm');
      const kernelFunc: tf.KernelFunc = (args) => ours(args as Parameters<typeof conv2dSimd>[0]) ?? (native.kernelFunc(args) as TensorInfo);
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc, setupFunc: native.setupFunc });
      added.push(kernelName);
    }
  }
  return added;
}
