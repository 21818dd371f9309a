import * as tf from '@tensorflow/tfjs';
import { type TensorInfo, type WasmBackendLike, type Pad, output } from './memory.js';

/** Depthwise-convolution gradients: rarely hot, plain loops over the data read from wasm memory. */

export interface ConvGeom {
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

export function depthwiseGeom(xShape: number[], filterShape: number[], attrs: { strides: number | [number, number]; pad: Pad; dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil' }): ConvGeom {
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
export function forEachDepthwiseTap(g: ConvGeom, visit: (xi: number, fi: number, yi: number) => void): void {
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

export function depthwiseBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
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

export function depthwiseBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): TensorInfo {
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
