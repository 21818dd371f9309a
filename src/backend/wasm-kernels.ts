import * as tf from '@tensorflow/tfjs';

/**
 * Gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 does not register, so that conv nets
 * train on wasm. Conv2DBackpropFilter is the hot one: it reuses wasm's native
 * Conv3DBackpropFilterV2 by viewing the NHWC tensors as NDHWC with depth 1 (same buffers, no
 * copy). The depthwise-conv gradients and UnsortedSegmentSum are rarely hot, so they are plain loops
 * over the data read from wasm memory.
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
  }
  return added;
}
