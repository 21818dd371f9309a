import { spatialOut } from '../ops.js';
import { axisPlan, nearestModes, resizeCoordinates, type NearestMode, type ResizeCoordinate, type ResizeSpec } from '../graph/resize.js';
import { tensorValues, type OnnxAttribute, type OnnxNode } from './proto.js';
import { broadcastShapes, sliceIndices } from '../graph/tensor-kinds.js';
import { isTensor, type ConstValue, type GraphBuilder, type TensorValue, type Value } from './values.js';

/**
 * The ONNX operators extra reads, one entry each: an entry turns one node into layers of the layer
 * graph (the Keras layer table of src/models/graph/kinds.ts), or into a constant, or into a pending
 * piece of a pattern (GELU's erf form, LayerNorm's primitive form) that a later node completes.
 * Every result is exact: what cannot be expressed exactly is refused, naming the node.
 */
export type OnnxOp = (b: GraphBuilder, node: OnnxNode, inputs: (Value | undefined)[]) => Value[];

const size = (s: readonly number[]) => s.reduce((a, c) => a * c, 1);

function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute.find((a) => a.name === name);
}
const intAttr = (node: OnnxNode, name: string, dflt: number) => attr(node, name)?.i ?? dflt;
const floatAttr = (node: OnnxNode, name: string, dflt: number) => {
  const a = attr(node, name);
  return a ? a.f : dflt;
};
const intsAttr = (node: OnnxNode, name: string): number[] | undefined => attr(node, name)?.ints;
const stringAttr = (node: OnnxNode, name: string, dflt: string) => {
  const a = attr(node, name);
  return a ? new TextDecoder().decode(a.s) : dflt;
};

function tensorIn(b: GraphBuilder, node: OnnxNode, v: Value | undefined, what = 'its input'): TensorValue {
  if (!v) return b.fail(node, `${what} is missing`);
  const m = b.materialize(node, v);
  if (m.kind !== 'tensor') return b.fail(node, `${what} is a constant; extra reads graphs whose ops act on the network's input`);
  return m;
}

function constIn(b: GraphBuilder, node: OnnxNode, v: Value | undefined, what: string): ConstValue {
  if (!v || v.kind !== 'const') return b.fail(node, `${what} must be a constant (an initializer, a Constant or shape arithmetic extra can fold)`);
  return v;
}

/** A float constant that is a single number (shape [] or [1] or all ones), or null. */
function scalarOf(v: Value | undefined): number | null {
  if (!v || v.kind !== 'const' || size(v.shape) !== 1) return null;
  if (v.float) return v.float[0];
  if (v.ints && !v.batch?.[0]) return v.ints[0];
  return null;
}

/** A float initializer as a weight: its name (each taken once). */
function weightIn(b: GraphBuilder, node: OnnxNode, v: Value | undefined, what: string, shape?: number[]): ConstValue & { initializer: string } {
  if (!v || v.kind !== 'const' || !v.initializer || !v.float) return b.fail(node, `${what} must be a float32 initializer (a trained weight)`);
  if (shape && v.shape.join(',') !== shape.join(',')) return b.fail(node, `${what} '${v.initializer}' has shape [${v.shape.join(',')}], expected [${shape.join(',')}]`);
  b.takeWeight(node, v.initializer);
  return v as ConstValue & { initializer: string };
}

const same = (node: OnnxNode, v: TensorValue | ConstValue | Value): Value[] => node.output.map(() => v);

/** An elementwise op on one tensor that keeps its layout. */
function unary(cls: string, config: (node: OnnxNode) => Record<string, unknown>, nonNegative: boolean): OnnxOp {
  return (b, node, [x]) => {
    const v = tensorIn(b, node, x);
    return [b.add(node, cls, config(node), [v], { shape: v.shape, layout: v.layout, physical: v.physical, nonNegative })];
  };
}

/** Pads [begin..., end...] of a 2-D window op → Keras 'valid' / 'same', or explicit zero padding. */
function windowPadding(node: OnnxNode, inHW: [number, number], kernel: [number, number], strides: [number, number]): { padding: 'valid' | 'same' } | { explicit: [[number, number], [number, number]] } {
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return { padding: 'valid' };
  if (autoPad === 'SAME_UPPER') return { padding: 'same' };
  if (autoPad === 'SAME_LOWER') {
    // TF 'same' puts the odd pad at the end: SAME_LOWER agrees only when every total pad is even
    const even = [0, 1].every((i) => (Math.max((Math.ceil(inHW[i] / strides[i]) - 1) * strides[i] + kernel[i] - inHW[i], 0)) % 2 === 0);
    return even ? { padding: 'same' } : { explicit: [0, 1].map((i) => { const t = Math.max((Math.ceil(inHW[i] / strides[i]) - 1) * strides[i] + kernel[i] - inHW[i], 0); return [t - (t >> 1), t >> 1]; }) as [[number, number], [number, number]] };
  }
  const pads = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
  if (pads.every((p) => p === 0)) return { padding: 'valid' };
  // what TF 'same' pads (extra's 'same'): total max((⌈n/s⌉−1)·s + k − n, 0), the larger half at the end
  const tfSame = [0, 1].map((i) => {
    const t = Math.max((Math.ceil(inHW[i] / strides[i]) - 1) * strides[i] + kernel[i] - inHW[i], 0);
    return [t >> 1, t - (t >> 1)];
  });
  if (pads[0] === tfSame[0][0] && pads[2] === tfSame[0][1] && pads[1] === tfSame[1][0] && pads[3] === tfSame[1][1]) return { padding: 'same' };
  return { explicit: [[pads[0], pads[2]], [pads[1], pads[3]]] };
}

function pair(node: OnnxNode, name: string, dflt: number): [number, number] {
  const v = intsAttr(node, name);
  if (!v || v.length === 0) return [dflt, dflt];
  return [v[0], v[1] ?? v[0]];
}

function checkDilations(b: GraphBuilder, node: OnnxNode): void {
  const d = intsAttr(node, 'dilations');
  if (d && d.some((x) => x !== 1)) return b.fail(node, `dilations [${d.join(',')}] are not supported (dilation 1 only)`);
}

/** Zero padding of an NHWC image by [[top, bottom], [left, right]]. */
function zeroPad(b: GraphBuilder, node: OnnxNode, v: TensorValue, pads: [[number, number], [number, number]]): TensorValue {
  const [h, w, c] = v.physical;
  const shape = [c, h + pads[0][0] + pads[0][1], w + pads[1][0] + pads[1][1]];
  return b.add(null, 'ZeroPadding2D', { padding: pads }, [v], { shape, layout: 'nhwc', physical: [shape[1], shape[2], c], nonNegative: v.nonNegative }, undefined, `${node.name || node.output[0]}_pad`);
}

/** A 2-D window attribute (kernel_shape, strides, dilations): two positive integers, or the default. */
function window2(b: GraphBuilder, node: OnnxNode, name: string, dflt: number): [number, number] {
  const v = intsAttr(node, name);
  if (!v || v.length === 0) return [dflt, dflt];
  if (v.length !== 2 || v.some((d) => !(Number.isInteger(d) && d >= 1))) return b.fail(node, `${name} [${v.join(',')}] must be two positive integers (2-D windows only)`);
  return [v[0], v[1]];
}

/** pads [top, left, bottom, right] (ONNX order) checked: four non-negative integers. */
function pads4(b: GraphBuilder, node: OnnxNode): number[] {
  const pads = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads.some((p) => !(Number.isInteger(p) && p >= 0))) b.fail(node, `pads [${pads.join(',')}] must be four non-negative integers`);
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(autoPad)) b.fail(node, `auto_pad '${autoPad}' is not an ONNX padding mode`);
  if (autoPad !== 'NOTSET' && intsAttr(node, 'pads')?.some((p) => p !== 0)) b.fail(node, `has both auto_pad ${autoPad} and pads`);
  return pads;
}

const conv: OnnxOp = (b, node, [x, w, bias]) => {
  const img = b.asImage(node, tensorIn(b, node, x));
  const [cIn, h, wd] = img.shape;
  if (!w || w.kind !== 'const' || w.shape.length !== 4) return b.fail(node, 'needs a 4-D weight initializer (2-D convolutions only)');
  const weight = weightIn(b, node, w, 'its weight');
  const [cOut, perGroup, kh, kw] = weight.shape;
  const group = intAttr(node, 'group', 1);
  const kernel = window2(b, node, 'kernel_shape', 0);
  if (kernel[0] && (kernel[0] !== kh || kernel[1] !== kw)) return b.fail(node, `kernel_shape [${kernel.join(',')}] disagrees with its [${weight.shape.join(',')}] weight`);
  if (!(Number.isInteger(group) && group >= 1) || cIn % group !== 0 || cOut % group !== 0) return b.fail(node, `group ${group} must divide the input's ${cIn} channels and the ${cOut} filters`);
  if (perGroup * group !== cIn) return b.fail(node, `its weight reads ${perGroup} channels per group, the input has ${cIn} in ${group} group(s)`);
  const strides = window2(b, node, 'strides', 1);
  const dilations = window2(b, node, 'dilations', 1);
  pads4(b, node);
  const effective: [number, number] = [(kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1];
  const pad = windowPadding(node, [h, wd], effective, strides);
  const dilated = dilations[0] > 1 || dilations[1] > 1;
  let input = img;
  let padding: 'valid' | 'same' = 'valid';
  const plain = group === 1 || (group === cIn && perGroup === 1);
  if ('explicit' in pad) input = zeroPad(b, node, img, pad.explicit);
  else if (plain && !dilated) padding = pad.padding;
  else if (pad.padding === 'same') {
    // GroupConv2D windows are 'valid': TF-'same' as its explicit pads
    const t = [0, 1].map((i) => Math.max((Math.ceil([h, wd][i] / strides[i]) - 1) * strides[i] + effective[i] - [h, wd][i], 0));
    input = zeroPad(b, node, img, [[t[0] >> 1, t[0] - (t[0] >> 1)], [t[1] >> 1, t[1] - (t[1] >> 1)]]);
  }
  const biasName = bias ? weightIn(b, node, bias, 'its bias', [cOut]).initializer : undefined;
  const names = [weight.initializer, ...(biasName ? [biasName] : [])];
  const [ih, iw] = input.physical;
  const oh = padding === 'same' ? spatialOut(ih, effective[0], strides[0], padding) : Math.floor((ih - effective[0]) / strides[0]) + 1;
  const ow = padding === 'same' ? spatialOut(iw, effective[1], strides[1], padding) : Math.floor((iw - effective[1]) / strides[1]) + 1;
  if (!(oh > 0 && ow > 0)) return b.fail(node, `its ${effective.join('×')} window does not fit the padded ${ih}×${iw} input`);
  const out = { shape: [cOut, oh, ow], layout: 'nhwc' as const, physical: [oh, ow, cOut] };
  if (!dilated && group === 1) return [b.add(node, 'Conv2D', { filters: cOut, kernel_size: [kh, kw], strides, padding, use_bias: biasName !== undefined }, [input], out, names)];
  if (!dilated && group === cIn && perGroup === 1) {
    return [b.add(node, 'DepthwiseConv2D', { kernel_size: [kh, kw], strides, padding, depth_multiplier: cOut / cIn, use_bias: biasName !== undefined }, [input], out, names)];
  }
  return [b.add(node, 'GroupConv2D', { filters: cOut, kernel_size: [kh, kw], strides, dilation_rate: dilations, group, use_bias: biasName !== undefined }, [input], out, names)];
};

/**
 * ConvTranspose (nn.ConvTranspose2d): the full transposed convolution is (n−1)·s + k long per axis; ONNX
 * keeps [pads_begin, that − pads_end + output_padding). Keras' Conv2DTranspose gives 'same' (⌊max(k−s,0)/2⌋,
 * n·s long) or 'valid' (from 0, n·s + max(k−s, 0) long, zeros past the full length): 'same' when it is
 * that window, else 'valid' and a Cropping2D. Positions past the full length hold the bias alone in both.
 */
const convTranspose: OnnxOp = (b, node, [x, w, bias]) => {
  const img = b.asImage(node, tensorIn(b, node, x));
  const [cIn, h, wd] = img.shape;
  if (!w || w.kind !== 'const' || w.shape.length !== 4) return b.fail(node, 'needs a 4-D weight initializer (2-D transposed convolutions only)');
  const weight = weightIn(b, node, w, 'its weight');
  const [wIn, cOut, kh, kw] = weight.shape;
  checkDilations(b, node);
  if (intAttr(node, 'group', 1) !== 1) return b.fail(node, `group ${intAttr(node, 'group', 1)} is not supported (group 1 only)`);
  if (wIn !== cIn) return b.fail(node, `its weight reads ${wIn} channels, the input has ${cIn}`);
  if (attr(node, 'output_shape')) return b.fail(node, 'output_shape is not supported (give pads and output_padding, as torch.onnx.export writes them)');
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET') return b.fail(node, `auto_pad ${autoPad} is not supported (give pads, as torch.onnx.export writes them)`);
  const strides = pair(node, 'strides', 1);
  const pads = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
  const outPad = pair(node, 'output_padding', 0);
  const kernel: [number, number] = [kh, kw];
  const inHW = [h, wd];
  // per axis: the window [start, start + len) of the full transposed convolution
  const start = [pads[0], pads[1]];
  const len = [0, 1].map((i) => (inHW[i] - 1) * strides[i] + kernel[i] - pads[i] - pads[i + 2] + outPad[i]);
  if (len.some((l) => l < 1)) return b.fail(node, `pads [${pads.join(',')}] leave no output`);
  if (pads.some((p) => p < 0)) return b.fail(node, `negative pads [${pads.join(',')}] are not supported`);
  const sameStart = [0, 1].map((i) => Math.max(kernel[i] - strides[i], 0) >> 1);
  const same = [0, 1].every((i) => start[i] === sameStart[i] && len[i] === inHW[i] * strides[i]);
  const validLen = [0, 1].map((i) => inHW[i] * strides[i] + Math.max(kernel[i] - strides[i], 0));
  if (!same && [0, 1].some((i) => start[i] + len[i] > validLen[i])) {
    return b.fail(node, `pads [${pads.join(',')}] with output_padding [${outPad.join(',')}] reach past the transposed convolution (output_padding larger than the end pad is not supported)`);
  }
  const biasName = bias ? weightIn(b, node, bias, 'its bias', [cOut]).initializer : undefined;
  const names = [weight.initializer, ...(biasName ? [biasName] : [])];
  const padding = same ? 'same' : 'valid';
  const conv0 = same ? [inHW[0] * strides[0], inHW[1] * strides[1]] : validLen;
  const crop: [[number, number], [number, number]] = same ? [[0, 0], [0, 0]] : [[start[0], validLen[0] - start[0] - len[0]], [start[1], validLen[1] - start[1] - len[1]]];
  const cropped = crop.some((c) => c[0] !== 0 || c[1] !== 0);
  const y = b.add(node, 'Conv2DTranspose', { filters: cOut, kernel_size: kernel, strides, padding, use_bias: biasName !== undefined }, [img], { shape: [cOut, conv0[0], conv0[1]], layout: 'nhwc', physical: [conv0[0], conv0[1], cOut] }, names);
  if (!cropped) return [y];
  return [b.add(null, 'Cropping2D', { cropping: crop }, [y], { shape: [cOut, len[0], len[1]], layout: 'nhwc', physical: [len[0], len[1], cOut] }, undefined, `${node.name || node.output[0]}_crop`)];
};

/**
 * Resize (F.interpolate, nn.Upsample) of an image, opsets 11–17: nearest with any rounding mode, linear
 * (bilinear) with asymmetric, half_pixel, pytorch_half_pixel or align_corners coordinates, to sizes or by
 * scales given as constants. A resize that tfjs' UpSampling2D computes row for row (integer factors,
 * nearest repeating each pixel, or bilinear from r/s) becomes one; any other, extra's Resize2D.
 */
const resize: OnnxOp = (b, node, [x, , scalesIn, sizesIn]) => {
  const img = b.asImage(node, tensorIn(b, node, x));
  const [c, h, w] = img.shape;
  const mode = stringAttr(node, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') return b.fail(node, `mode '${mode}' is not supported (nearest and linear are)`);
  const coordinate = stringAttr(node, 'coordinate_transformation_mode', 'half_pixel');
  if (!(resizeCoordinates as readonly string[]).includes(coordinate)) return b.fail(node, `coordinate_transformation_mode '${coordinate}' is not supported (${resizeCoordinates.join(', ')} are)`);
  const nearestMode = stringAttr(node, 'nearest_mode', 'round_prefer_floor');
  if (!(nearestModes as readonly string[]).includes(nearestMode)) return b.fail(node, `nearest_mode '${nearestMode}' is not supported`);
  if (intAttr(node, 'exclude_outside', 0) !== 0) return b.fail(node, 'exclude_outside = 1 is not supported');
  if (intAttr(node, 'antialias', 0) !== 0) return b.fail(node, 'antialias = 1 is not supported (F.interpolate without antialias)');
  if (attr(node, 'axes')) return b.fail(node, 'the axes attribute is not supported (resize all four axes)');
  if (stringAttr(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') return b.fail(node, 'keep_aspect_ratio_policy other than stretch is not supported');
  const sizes = sizesIn && !(sizesIn.kind === 'const' && size(sizesIn.shape) === 0) ? constIn(b, node, sizesIn, 'its sizes') : undefined;
  const scales = scalesIn && !(scalesIn.kind === 'const' && size(scalesIn.shape) === 0) ? constIn(b, node, scalesIn, 'its scales') : undefined;
  let out: [number, number];
  if (sizes) {
    const v = sizes.ints;
    if (!v || v.length !== 4) return b.fail(node, 'its sizes must be 4 integers [N, C, H, W]');
    if (!sizes.batch?.[0] || sizes.batch?.slice(1).some(Boolean) || v[1] !== c) return b.fail(node, `sizes [${v.join(',')}] resize the batch or the channels; extra resizes H and W`);
    out = [v[2], v[3]];
  } else if (scales) {
    const v = scales.float ? Array.from(scales.float) : scales.ints;
    if (!v || v.length !== 4) return b.fail(node, 'its scales must be 4 numbers [1, 1, sh, sw]');
    if (v[0] !== 1 || v[1] !== 1) return b.fail(node, `scales [${v.join(',')}] resize the batch or the channels; extra resizes H and W`);
    // floor(n·scale) with a whole product: scale is then exactly out/n, as PyTorch and onnxruntime both use it
    if (!Number.isInteger(h * v[2]) || !Number.isInteger(w * v[3])) return b.fail(node, `scales [${v.join(',')}] on a ${h}×${w} image give no whole size (where PyTorch and ONNX runtimes round differently); give sizes, or scales that divide evenly`);
    out = [h * v[2], w * v[3]];
  } else return b.fail(node, 'needs constant scales or sizes');
  if (out.some((d) => !(d > 0))) return b.fail(node, `resizes to ${out.join('×')}`);
  const spec: ResizeSpec = { interpolation: mode === 'linear' ? 'bilinear' : 'nearest', coordinate: coordinate as ResizeCoordinate, nearestMode: nearestMode as NearestMode };
  const plans = [axisPlan(h, out[0], spec), axisPlan(w, out[1], spec)];
  const same = (p: ReturnType<typeof axisPlan>, q: ReturnType<typeof axisPlan>) => p.lo.every((v, i) => v === q.lo[i] && p.hi[i] === q.hi[i] && Math.abs(p.w[i] - q.w[i]) < 1e-12);
  const shape = [c, out[0], out[1]];
  const result = { shape, layout: 'nhwc' as const, physical: [out[0], out[1], c], nonNegative: img.nonNegative };
  if (out[0] === h && out[1] === w && plans.every((p, i) => same(p, axisPlan([h, w][i], [h, w][i], { interpolation: 'nearest', coordinate: 'asymmetric', nearestMode: 'floor' })))) return [img];
  const factors = [out[0] / h, out[1] / w];
  if (factors.every(Number.isInteger)) {
    // what tfjs' UpSampling2D computes: nearest repeats each pixel, bilinear reads rows r/s
    const up: ResizeSpec = { interpolation: spec.interpolation, coordinate: 'asymmetric', nearestMode: 'floor' };
    if (plans.every((p, i) => same(p, axisPlan([h, w][i], out[i], up)))) return [b.add(node, 'UpSampling2D', { size: factors, interpolation: spec.interpolation }, [img], result)];
  }
  return [b.add(node, 'Resize2D', { size: out, interpolation: spec.interpolation, coordinate, nearest_mode: nearestMode }, [img], result)];
};

/** Dense from a weight in state_dict layout [out, in] (Gemm transB=1) or file layout [in, out] (transposed). */
function dense(b: GraphBuilder, node: OnnxNode, x: TensorValue, weight: ConstValue & { initializer: string }, inOut: boolean, biasName?: string): TensorValue {
  // nn.Linear acts on the last axis: the input in ONNX order (a [T, F] sequence, a permuted image, flat features)
  const logical = b.asLogical(x);
  const [rows, cols] = weight.shape;
  const units = inOut ? cols : rows;
  const fanIn = inOut ? rows : cols;
  const last = x.shape[x.shape.length - 1];
  if (fanIn !== last) return b.fail(node, `its weight takes ${fanIn} features, the input's last axis has ${last}`);
  if (inOut) b.transposed.add(weight.initializer);
  const shape = [...x.shape.slice(0, -1), units];
  return b.add(node, 'Dense', { units, use_bias: biasName !== undefined }, [logical], { shape, layout: 'logical', physical: shape }, [weight.initializer, ...(biasName ? [biasName] : [])]);
}

const gemm: OnnxOp = (b, node, [a, w, c]) => {
  const x = tensorIn(b, node, a);
  if (intAttr(node, 'transA', 0) !== 0) return b.fail(node, 'transA = 1 is not supported');
  if (floatAttr(node, 'alpha', 1) !== 1 || (c && floatAttr(node, 'beta', 1) !== 1)) return b.fail(node, 'alpha and beta must be 1 (nn.Linear)');
  if (!w || w.kind !== 'const' || w.shape.length !== 2) return b.fail(node, 'needs a 2-D weight initializer');
  const weight = weightIn(b, node, w, 'its weight');
  const transB = intAttr(node, 'transB', 0) === 1;
  const units = transB ? weight.shape[0] : weight.shape[1];
  let biasName: string | undefined;
  if (c) {
    if (c.kind !== 'const' || size(c.shape) !== units || !(c.shape.length === 1 || (c.shape.length === 2 && c.shape[0] === 1))) return b.fail(node, `its bias must be a [${units}] initializer`);
    biasName = weightIn(b, node, c, 'its bias').initializer;
  }
  return [dense(b, node, x, weight, !transB, biasName)];
};

const matMul: OnnxOp = (b, node, [a, w]) => {
  const x = tensorIn(b, node, a);
  if (!w || w.kind !== 'const' || w.shape.length !== 2) return b.fail(node, 'multiplies two computed tensors; extra reads MatMul by a 2-D weight initializer only');
  const weight = weightIn(b, node, w, 'its weight');
  // a bias Add right after is folded in by the Add entry (it sees a Dense without bias)
  return [dense(b, node, x, weight, true)];
};

/** Elementwise binary ops: tensor ⊕ tensor (Add only), tensor ⊕ scalar constant (x·s + o), or pattern steps. */
function binary(op: 'Add' | 'Sub' | 'Mul' | 'Div'): OnnxOp {
  return (b, node, [p, q]) => {
    if (!p || !q) return b.fail(node, 'needs two inputs');
    // constant folding (shape arithmetic)
    if (p.kind === 'const' && q.kind === 'const') return [foldBinary(b, node, op, p, q)];
    // a named one-number initializer (a learned temperature) is a trained weight, not a fixed number
    const sp = trainedInitializer(p) ? null : scalarOf(p);
    const sq = trainedInitializer(q) ? null : scalarOf(q);
    // patterns first: GELU (erf form) and LayerNorm (primitive form)
    if (op === 'Add' && p.kind === 'erf' && sq === 1) return [{ kind: 'onePlusErf', of: p.of }];
    if (op === 'Add' && q.kind === 'erf' && sp === 1) return [{ kind: 'onePlusErf', of: q.of }];
    if (op === 'Mul') {
      for (const [u, v] of [[p, q], [q, p]] as const) {
        if (u.kind === 'onePlusErf' && isTensor(v) && v.layer === u.of.layer) return [{ kind: 'xOnePlusErf', of: u.of }];
        if (u.kind === 'onePlusErf' && v.kind === 'halfX' && v.of.layer === u.of.layer) return [gelu(b, node, u.of)];
        if (u.kind === 'xOnePlusErf' && scalarOf(v) === 0.5) return [gelu(b, node, u.of)];
        if (u.kind === 'normalized' && !u.gamma && !u.beta && v.kind === 'const' && v.initializer && v.float && size(v.shape) === u.of.shape[u.of.shape.length - 1]) {
          return [{ ...u, gamma: b.takeWeight(node, v.initializer) }];
        }
      }
      if (isTensor(p) && sq === 0.5) return [{ kind: 'halfX', of: p }];
    }
    if (op === 'Add') {
      for (const [u, v] of [[p, q], [q, p]] as const) {
        if (u.kind === 'normalized' && !u.beta && v.kind === 'const' && v.initializer && v.float && size(v.shape) === u.of.shape[u.of.shape.length - 1]) return [{ ...u, beta: b.takeWeight(node, v.initializer) }];
        if (u.kind === 'variance' && scalarOf(v) !== null) return [{ kind: 'varianceEps', of: u.of, eps: scalarOf(v)! }];
      }
      // MatMul + bias → one Dense
      for (const [u, v] of [[p, q], [q, p]] as const) {
        if (isTensor(u) && v.kind === 'const' && v.initializer && v.float && size(v.shape) === u.shape[u.shape.length - 1]) {
          const layer = b.layers.find((l) => l.name === u.layer);
          if (layer && layer.class === 'Dense' && layer.config.use_bias === false && (b.uses.get(node.input[p === u ? 0 : 1]) ?? 0) === 1) {
            layer.config = { ...layer.config, use_bias: true };
            const biasName = b.takeWeight(node, v.initializer);
            const weightName = layer.weightNames?.[0];
            // torch.onnx.export stores a Linear on a 3-D input as MatMul by a renamed transposed copy
            // (onnx::MatMul_48); its bias keeps the module's name, which gives the weight's back
            if (weightName && weightName.startsWith('onnx::') && biasName.endsWith('.bias')) {
              const own = `${biasName.slice(0, -'.bias'.length)}.weight`;
              if (!b.weightOwner.has(own) && !b.initializers.has(own)) {
                b.renamed.set(own, weightName);
                if (b.transposed.delete(weightName)) b.transposed.add(own);
                layer.weightNames = [own];
              }
            }
            layer.weightNames = [...(layer.weightNames ?? []), biasName];
            return [u];
          }
        }
      }
    }
    if (op === 'Sub' && isTensor(p) && q.kind === 'mean' && q.of.layer === p.layer) return [{ kind: 'centered', of: p }];
    if (op === 'Div') {
      if (p.kind === 'centered' && q.kind === 'std' && q.of.layer === p.of.layer) return [{ kind: 'normalized', of: p.of, eps: q.eps }];
    }
    // tensor and a scalar: x·s + o, composed until something else reads it
    const scalarSide = sq !== null ? 1 : sp !== null ? 0 : -1;
    if (scalarSide >= 0) {
      const other = scalarSide === 1 ? p : q;
      const s = (scalarSide === 1 ? sq : sp)!;
      const base = other.kind === 'affine' ? other : isTensor(other) ? { kind: 'affine' as const, of: other, scale: 1, offset: 0 } : null;
      if (base) {
        if (op === 'Add') return [{ ...base, offset: base.offset + s }];
        if (op === 'Mul') return [{ ...base, scale: base.scale * s, offset: base.offset * s }];
        if (op === 'Sub' && scalarSide === 1) return [{ ...base, offset: base.offset - s }];
        if (op === 'Sub' && scalarSide === 0) return [{ ...base, scale: -base.scale, offset: s - base.offset }];
        if (op === 'Div' && scalarSide === 1) {
          // x/√2 starts GELU's erf form; kept exact as a division by the Erf entry
          return [{ ...base, scale: base.scale / s, offset: base.offset / s }];
        }
      }
    }
    if ((op === 'Mul' || op === 'Add') && isTensor(p) && isTensor(q) && p.shape.join(',') === q.shape.join(',')) {
      // x·σ(x) (SiLU), gates, residual sums: tensors of one shape are Keras' own merge layers
      const rank3 = p.shape.length === 3;
      const x = rank3 ? b.asImage(node, p) : b.asLogical(p);
      const y = rank3 ? b.asImage(node, q) : b.asLogical(q);
      return [b.add(node, op === 'Mul' ? 'Multiply' : 'Add', {}, [x, y], { shape: p.shape, layout: x.layout, physical: x.physical, nonNegative: p.nonNegative && q.nonNegative })];
    }
    const a = b.materialize(node, p);
    const c = b.materialize(node, q);
    if (a !== p || c !== q) return binary(op)(b, node, [a, c]);
    return [broadcastArithmetic(b, node, op.toLowerCase() as 'add' | 'sub' | 'mul' | 'div', a, c)];
  };
}

/** The PyTorch module a node came from, by torch.onnx.export's scoped node name ('/layer2/layer2.0/bn1/BatchNormalization' → layer2.0.bn1). */
function modulePath(node: OnnxNode): string | null {
  if (!node.name.startsWith('/')) return null;
  const parts = node.name.split('/').slice(1, -1);
  let path = '';
  for (const p of parts) path = path && !p.startsWith(`${path}.`) ? `${path}.${p}` : p;
  return path || null;
}

/** An exporter's constant (folded arithmetic) rather than a trained weight: named onnx::… or by a node path. */
const exporterConstant = (name: string) => name.startsWith('onnx::') || name.startsWith('/') || name.includes('_output_');
/** A float initializer under a name of the model's (a state_dict entry): a trained weight wherever arithmetic reads it. */
const trainedInitializer = (v: Value | undefined): boolean => v?.kind === 'const' && v.float !== undefined && v.initializer !== undefined && !exporterConstant(v.initializer);

/**
 * Elementwise arithmetic with NumPy broadcasting: two tensors (of one rank, the batch axes aligned), or a
 * tensor and a constant; a float initializer that is not the exporter's own becomes a trained weight
 * under its name (layer scale, positional embedding, PRelu's slope).
 */
export function broadcastArithmetic(b: GraphBuilder, node: OnnxNode, op: 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'prelu', p: TensorValue | (ConstValue & { trained?: boolean }), q: TensorValue | (ConstValue & { trained?: boolean })): TensorValue {
  if (p.kind === 'tensor' && q.kind === 'tensor') {
    if (p.shape.length !== q.shape.length) return b.fail(node, `${op} of [N,${p.shape.join(',')}] and [N,${q.shape.join(',')}] would broadcast the batch axis against an axis of a sample`);
    const out = broadcastShapes(p.shape, q.shape);
    if (!out) return b.fail(node, `cannot broadcast [${p.shape.join(',')}] against [${q.shape.join(',')}]`);
    const img = out.length === 3;
    const x = img ? b.asImage(node, p) : b.asLogical(p);
    const y = img ? b.asImage(node, q) : b.asLogical(q);
    const physical = img ? [out[1], out[2], out[0]] : out;
    return b.add(node, 'Arithmetic', { op }, [x, y], { shape: out, layout: img ? 'nhwc' : 'logical', physical, nonNegative: (op === 'mul' || op === 'add' || op === 'max') && p.nonNegative && q.nonNegative });
  }
  const [t, k, reverse] = p.kind === 'tensor' ? [p, q as ConstValue & { trained?: boolean }, false] : [q as TensorValue, p as ConstValue & { trained?: boolean }, true];
  if (k.kind !== 'const' || t.kind !== 'tensor') return b.fail(node, `${op} of two constants that extra cannot fold`);
  if (!k.float && !k.ints) return b.fail(node, 'reads a constant without values');
  if (k.batch?.some(Boolean)) return b.fail(node, 'computes with the batch size as a number');
  const r = t.shape.length;
  let aligned: number[];
  if (k.shape.length <= r) aligned = [...Array(r - k.shape.length).fill(1), ...k.shape];
  else if (k.shape.length === r + 1 && k.shape[0] === 1) aligned = k.shape.slice(1);
  else return b.fail(node, `its constant [${k.shape.join(',')}] has an axis against the batch: broadcasting it would mix samples`);
  const out = broadcastShapes(t.shape, aligned);
  if (!out) return b.fail(node, `cannot broadcast [${t.shape.join(',')}] against its constant [${k.shape.join(',')}]`);
  const img = t.layout === 'nhwc' && r === 3;
  const x = img ? t : b.asLogical(t);
  const values = Array.from(k.float ?? k.ints ?? []);
  const trained = k.float !== undefined && k.initializer !== undefined && (k.trained === true || !exporterConstant(k.initializer));
  // a trained operand keeps its state_dict shape (the file may hold it unsqueezed)
  const stored = trained ? (b.values.get(k.initializer!) as ConstValue | undefined)?.shape ?? k.shape : k.shape;
  const config = {
    op,
    operand_shape: stored,
    broadcast_shape: img ? [aligned[1], aligned[2], aligned[0]] : aligned,
    ...(img ? { perm: [1, 2, 0] } : {}),
    reverse,
    ...(trained ? {} : { values }),
  };
  const names = trained ? [b.takeWeight(node, k.initializer!)] : undefined;
  const nonNegative = op === 'mul' && t.nonNegative && values.every((v) => v >= 0);
  return b.add(node, 'ArithmeticWith', config, [x], { shape: out, layout: img ? 'nhwc' : 'logical', physical: img ? [out[1], out[2], out[0]] : out, nonNegative }, names);
}

function describe(v: Value): string {
  if (v.kind === 'const') return `a constant [${v.shape.join(',')}]`;
  if (v.kind === 'tensor') return `a tensor [${v.shape.join(',')}]`;
  return `a partial computation (${v.kind})`;
}

function gelu(b: GraphBuilder, node: OnnxNode, x: TensorValue): TensorValue {
  return b.add(node, 'Activation', { activation: 'gelu' }, [x], { shape: x.shape, layout: x.layout, physical: x.physical });
}

function foldBinary(b: GraphBuilder, node: OnnxNode, op: 'Add' | 'Sub' | 'Mul' | 'Div', p: ConstValue, q: ConstValue): ConstValue {
  const f = { Add: (x: number, y: number) => x + y, Sub: (x: number, y: number) => x - y, Mul: (x: number, y: number) => x * y, Div: (x: number, y: number) => (p.ints && q.ints ? Math.trunc(x / y) : x / y) }[op];
  const pv = p.ints ?? Array.from(p.float ?? []);
  const qv = q.ints ?? Array.from(q.float ?? []);
  const n = Math.max(pv.length, qv.length);
  if (pv.length !== n && pv.length !== 1) return b.fail(node, 'folds constants of different sizes');
  if (qv.length !== n && qv.length !== 1) return b.fail(node, 'folds constants of different sizes');
  const out = Array.from({ length: n }, (_, i) => f(pv[pv.length === 1 ? 0 : i], qv[qv.length === 1 ? 0 : i]));
  const batch = Array.from({ length: n }, (_, i) => Boolean(p.batch?.[p.batch.length === 1 ? 0 : i] || q.batch?.[q.batch.length === 1 ? 0 : i]));
  const shape = pv.length >= qv.length ? p.shape : q.shape;
  return p.ints && q.ints ? { kind: 'const', shape, ints: out, ...(batch.some(Boolean) ? { batch } : {}) } : { kind: 'const', shape, float: Float32Array.from(out) };
}

function pool(kind: 'max' | 'avg'): OnnxOp {
  return (b, node, [x]) => {
    const img = b.asImage(node, tensorIn(b, node, x));
    const kernel = window2(b, node, 'kernel_shape', 0);
    if (!kernel[0]) return b.fail(node, 'has no kernel_shape');
    const strides = window2(b, node, 'strides', 1);
    const dilations = window2(b, node, 'dilations', 1);
    const ceil = intAttr(node, 'ceil_mode', 0);
    if (ceil !== 0 && ceil !== 1) return b.fail(node, `ceil_mode ${ceil} must be 0 or 1`);
    if (intAttr(node, 'storage_order', 0) !== 0) return b.fail(node, 'storage_order = 1 is not supported');
    if (node.output.length > 1 && node.output[1]) return b.fail(node, 'its Indices output is not supported');
    const countPad = intAttr(node, 'count_include_pad', 0) === 1;
    const [c, h, w] = img.shape;
    const pads = pads4(b, node);
    const effective: [number, number] = [(kernel[0] - 1) * dilations[0] + 1, (kernel[1] - 1) * dilations[1] + 1];
    const pad = windowPadding(node, [h, w], effective, strides);
    const simple = ceil === 0 && dilations[0] === 1 && dilations[1] === 1;
    // the tfjs pooling layers where they are exact: TF-'same' or no padding, a max after a ReLU over zero padding,
    // an average that counts its zero padding
    if (simple && !('explicit' in pad) && !(kind === 'avg' && countPad && pads.some((p) => p !== 0))) {
      const oh = spatialOut(h, kernel[0], strides[0], pad.padding);
      const ow = spatialOut(w, kernel[1], strides[1], pad.padding);
      return [b.add(node, kind === 'max' ? 'MaxPooling2D' : 'AveragePooling2D', { pool_size: kernel, strides, padding: pad.padding }, [img], { shape: [c, oh, ow], layout: 'nhwc', physical: [oh, ow, c], nonNegative: img.nonNegative })];
    }
    // explicit windows: [[top, bottom], [left, right]]
    const explicit: [[number, number], [number, number]] = 'explicit' in pad ? pad.explicit : pad.padding === 'valid' ? [[0, 0], [0, 0]] : (() => {
      const t = [0, 1].map((i) => Math.max((Math.ceil([h, w][i] / strides[i]) - 1) * strides[i] + effective[i] - [h, w][i], 0));
      return [[t[0] >> 1, t[0] - (t[0] >> 1)], [t[1] >> 1, t[1] - (t[1] >> 1)]] as [[number, number], [number, number]];
    })();
    // ceil_mode: one more window where a partial one is left, as long as it starts inside the input or its left padding
    const extra = [0, 1].map((i) => {
      if (!ceil) return 0;
      const n = [h, w][i] + explicit[i][0] + explicit[i][1];
      let o = Math.ceil((n - effective[i]) / strides[i]) + 1;
      if ((o - 1) * strides[i] >= [h, w][i] + explicit[i][0]) o--;
      return Math.max(0, (o - 1) * strides[i] + effective[i] - n);
    }) as [number, number];
    const oh = Math.floor(([h][0] + explicit[0][0] + explicit[0][1] + extra[0] - effective[0]) / strides[0]) + 1;
    const ow = Math.floor((w + explicit[1][0] + explicit[1][1] + extra[1] - effective[1]) / strides[1]) + 1;
    if (!(oh > 0 && ow > 0)) return b.fail(node, `its ${effective.join('×')} window does not fit the ${h}×${w} input`);
    if (stringAttr(node, 'auto_pad', 'NOTSET') !== 'NOTSET' && kind === 'avg' && countPad) return b.fail(node, 'auto_pad with count_include_pad = 1 is not supported');
    return [b.add(node, 'Pool2D', { mode: kind, pool_size: kernel, strides, dilation_rate: dilations, pads: explicit, ceil_extra: extra, count_include_pad: kind === 'avg' && countPad }, [img], { shape: [c, oh, ow], layout: 'nhwc', physical: [oh, ow, c], nonNegative: img.nonNegative })];
  };
}

/** The target of a Reshape per sample: 0 copies, −1 is inferred; the first entry is the batch. */
function reshapeTarget(b: GraphBuilder, node: OnnxNode, x: TensorValue, shape: ConstValue): number[] {
  if (!shape.ints) return b.fail(node, 'its shape must be an integer constant');
  const full = shape.ints.map((d, i) => (d === 0 && intAttr(node, 'allowzero', 0) === 0 ? (i === 0 ? -2 : x.shape[i - 1]) : d));
  const first = shape.batch?.[0] || full[0] === -2 ? 'batch' : full[0];
  const rest = full.slice(1);
  if (shape.batch?.slice(1).some(Boolean)) return b.fail(node, 'uses the batch size beyond the first axis');
  const n = size(x.shape);
  if (first !== 'batch') {
    // view(-1, F): the first axis is the batch when the rest holds one sample
    if (first !== -1 || rest.some((d) => d < 0) || size(rest) !== n) return b.fail(node, `reshapes to [${full.join(',')}], which mixes samples; the first axis must stay the batch`);
  }
  const known = rest.filter((d) => d > 0).reduce((a, c) => a * c, 1);
  const free = rest.filter((d) => d === -1).length;
  const out = rest.map((d) => (d === -1 ? n / known : d));
  if (free > 1 || !out.every((d) => Number.isInteger(d) && d > 0) || size(out) !== n) return b.fail(node, `cannot reshape [${x.shape.join(',')}] per sample to [${rest.join(',')}]`);
  return out;
}

/** A reshape that keeps ONNX element order: the value becomes `target` (an image again when rank 3). */
function reshapeTo(b: GraphBuilder, x: TensorValue, target: number[]): TensorValue {
  const v = b.asLogical(x, target);
  return { ...v, shape: target, physical: v.physical };
}

function axesOf(node: OnnxNode, inputs: (Value | undefined)[], rank: number, b: GraphBuilder): number[] | undefined {
  const fromAttr = intsAttr(node, 'axes');
  const fromInput = inputs[1] ? constIn(b, node, inputs[1], 'axes').ints : undefined;
  const axes = fromAttr && fromAttr.length ? fromAttr : fromInput;
  return axes?.map((a) => (a < 0 ? a + rank : a));
}

const reduceMean: OnnxOp = (b, node, inputs) => {
  const x = inputs[0];
  if (!x) return b.fail(node, 'its input is missing');
  // x.mean([2, 3]) of an image: global average pooling
  if (isTensor(x) && x.shape.length === 3) {
    const axes = axesOf(node, inputs, 4, b);
    if (axes && axes.length === 2 && axes.includes(2) && axes.includes(3)) {
      const img = b.asImage(node, x);
      const c = x.shape[0];
      const flat = b.add(node, 'GlobalAveragePooling2D', {}, [img], { shape: [c], layout: 'logical', physical: [c], nonNegative: x.nonNegative });
      return [intAttr(node, 'keepdims', 1) === 1 ? { ...flat, shape: [c, 1, 1] } : flat];
    }
  }
  const of = x.kind === 'squared' ? x.of : isTensor(x) ? x : null;
  if (of) {
    // LayerNorm's primitive form (a mean over the last axis, keepdims) is kept as a pattern
    const rank = of.shape.length + 1;
    const axes = axesOf(node, inputs, rank, b);
    if (axes && axes.length === 1 && axes[0] === rank - 1 && intAttr(node, 'keepdims', 1) === 1) return [x.kind === 'squared' ? { kind: 'variance', of } : { kind: 'mean', of }];
  }
  return reduce('mean')(b, node, inputs);
};

const constantOp: OnnxOp = (b, node) => {
  const a = node.attribute[0];
  if (!a) return b.fail(node, 'has no value');
  if (a.name === 'value' && a.t) {
    const v = tensorValues(a.t, b.where);
    const shape = a.t.dims;
    return [v.dtype === 'float32' ? { kind: 'const', shape, float: v.data } : { kind: 'const', shape, ints: v.data }];
  }
  if (a.name === 'value_float') return [{ kind: 'const', shape: [], float: Float32Array.of(a.f) }];
  if (a.name === 'value_floats') return [{ kind: 'const', shape: [a.floats.length], float: Float32Array.from(a.floats) }];
  if (a.name === 'value_int') return [{ kind: 'const', shape: [], ints: [a.i] }];
  if (a.name === 'value_ints') return [{ kind: 'const', shape: [a.ints.length], ints: [...a.ints] }];
  return b.fail(node, `a Constant given as ${a.name} is not supported`);
};

function activation(name: string, nonNegative = false): OnnxOp {
  return unary('Activation', () => ({ activation: name }), nonNegative);
}

const softmaxLike = (name: 'softmax' | 'log_softmax'): OnnxOp => (b, node, [x]) => {
  const v = tensorIn(b, node, x);
  const rank = v.shape.length + 1;
  let axis = intAttr(node, 'axis', b.opset >= 13 ? -1 : 1);
  if (axis < 0) axis += rank;
  if (axis <= 0 || axis >= rank) return b.fail(node, `axis ${intAttr(node, 'axis', -1)} is not an axis of a sample of [N,${v.shape.join(',')}]`);
  // before opset 13 the op flattens the axes from `axis` on and normalizes over all of them together
  if (b.opset < 13 && axis !== rank - 1) {
    // softmax of the axes from `axis` on as one: on their flattening, then the shape back
    const flat = [...v.shape.slice(0, axis - 1), size(v.shape.slice(axis - 1))];
    const x0 = b.asLogical(v, flat);
    const y = b.add(node, 'Softmax', { axis: -1, log: name === 'log_softmax' }, [x0], { shape: flat, layout: 'logical', physical: flat, nonNegative: name === 'softmax' });
    return [reshapeTo(b, { ...y, shape: flat }, v.shape)];
  }
  const finalOutput = (b.uses.get(node.output[0]) ?? 0) === 0;
  if (v.shape.length === 1 && (name === 'softmax' || finalOutput)) {
    // log-softmax differs from its logits by a constant per sample: the cross-entropy and argmax of an output are those of the logits
    return [b.add(node, 'Activation', { activation: name === 'softmax' ? 'softmax' : 'linear' }, [b.asLogical(v)], { shape: v.shape, layout: 'logical', physical: v.shape })];
  }
  const img = v.layout === 'nhwc' && v.shape.length === 3;
  if (v.shape.length === 3 && axis === 1 && (name === 'softmax' || finalOutput)) {
    // the same over the channels of a per-pixel output (dim=1): a segmentation's loss reads the logits
    const im = b.asImage(node, v);
    return [b.add(node, 'Activation', { activation: name === 'softmax' ? 'softmax' : 'linear' }, [im], { shape: v.shape, layout: 'nhwc', physical: im.physical, nonNegative: name === 'softmax' })];
  }
  const x0 = img ? v : b.asLogical(v);
  const kerasAxis = img ? [3, 1, 2][axis - 1] : axis;
  return [b.add(node, 'Softmax', { axis: kerasAxis, log: name === 'log_softmax' }, [x0], { shape: v.shape, layout: x0.layout, physical: x0.physical, nonNegative: name === 'softmax' })];
};

/** An ONNX axis (0 is the batch) of a tensor value as the Keras axis of its layer, converting the value where needed. */
function kerasAxis(b: GraphBuilder, node: OnnxNode, v: TensorValue, axis: number, keepImage = true): { x: TensorValue; axis: number } {
  const rank = v.shape.length + 1;
  const a = axis < 0 ? axis + rank : axis;
  if (a === 0) return b.fail(node, 'acts on the batch axis (axis 0): extra keeps the samples of a batch apart');
  if (a < 0 || a >= rank) return b.fail(node, `axis ${axis} is not an axis of [N,${v.shape.join(',')}]`);
  if (keepImage && v.layout === 'nhwc' && v.shape.length === 3) return { x: v, axis: [3, 1, 2][a - 1] };
  return { x: b.asLogical(v), axis: a };
}

/** The clamped [start, end) of ONNX Slice on an axis of length n with a step (negative steps count down). */
function clampSlice(start: number, end: number, step: number, n: number): [number, number] {
  const s0 = start < 0 ? start + n : start;
  const e0 = end < 0 ? end + n : end;
  return step > 0 ? [Math.min(Math.max(s0, 0), n), Math.min(Math.max(e0, 0), n)] : [Math.min(Math.max(s0, 0), n - 1), Math.min(Math.max(e0, -1), n - 1)];
}

const sliceOp: OnnxOp = (b, node, inputs) => {
  const [x] = inputs;
  const legacy = b.opset < 10 || intsAttr(node, 'starts') !== undefined;
  const ints = (i: number, what: string, attrName: string): number[] | undefined => {
    if (legacy) return intsAttr(node, attrName);
    const v = inputs[i];
    if (!v) return undefined;
    const c = constIn(b, node, v, what);
    if (!c.ints || c.batch?.some(Boolean)) return b.fail(node, `its ${what} must be integer constants`);
    return c.ints;
  };
  const starts = ints(1, 'starts', 'starts');
  const ends = ints(2, 'ends', 'ends');
  if (!starts || !ends || starts.length !== ends.length) return b.fail(node, 'needs starts and ends of one length');
  const rankOf = x?.kind === 'const' ? x.shape.length : x && isTensor(x) ? x.shape.length + 1 : 0;
  const axes = (ints(3, 'axes', 'axes') ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + rankOf : a));
  const steps = ints(4, 'steps', 'steps') ?? starts.map(() => 1);
  if (axes.length !== starts.length || steps.length !== starts.length || steps.some((st) => st === 0) || new Set(axes).size !== axes.length) return b.fail(node, 'its starts, ends, axes and steps must agree (one per axis, no axis twice, no step 0)');
  if (axes.some((a) => a < 0 || a >= rankOf)) return b.fail(node, `axes [${axes.join(',')}] are not axes of a rank-${rankOf} tensor`);
  if (x?.kind === 'const') {
    // shape arithmetic: a 1-D integer constant
    if (!x.ints || x.shape.length !== 1 || axes[0] !== 0) return b.fail(node, 'slices a constant other than a 1-D integer one');
    const [s0, e0] = clampSlice(starts[0], ends[0], steps[0], x.ints.length);
    const idx = sliceIndices(s0, e0, steps[0]);
    return [{ kind: 'const', shape: [idx.length], ints: idx.map((i) => x.ints![i]), ...(x.batch ? { batch: idx.map((i) => x.batch![i]) } : {}) }];
  }
  let v = tensorIn(b, node, x);
  const full = [0, ...v.shape];
  for (let i = 0; i < axes.length; i++) {
    const n = full[axes[i]];
    const [s0, e0] = clampSlice(starts[i], ends[i], steps[i], axes[i] === 0 ? Number.MAX_SAFE_INTEGER : n);
    if (axes[i] === 0) {
      if (s0 !== 0 || steps[i] !== 1 || ends[i] < 2 ** 31 - 1) return b.fail(node, 'slices the batch axis (axis 0): extra keeps every sample');
      continue;
    }
    if (s0 === 0 && e0 === n && steps[i] === 1) continue;
    const len = sliceIndices(s0, e0, steps[i]).length;
    if (len === 0) return b.fail(node, `slice ${starts[i]}:${ends[i]}:${steps[i]} of axis ${axes[i]} (${n} long) is empty`);
    const k = kerasAxis(b, node, v, axes[i]);
    const shape = v.shape.map((d, j) => (j === axes[i] - 1 ? len : d));
    const physical = k.x.physical.map((d, j) => (j === k.axis - 1 ? len : d));
    v = b.add(node, 'Slice', { axis: k.axis, begin: s0, end: e0, step: steps[i] }, [k.x], { shape, layout: k.x.layout, physical, nonNegative: v.nonNegative });
  }
  return [v];
};

const splitOp: OnnxOp = (b, node, inputs) => {
  const v = tensorIn(b, node, inputs[0]);
  const rank = v.shape.length + 1;
  let axis = intAttr(node, 'axis', 0);
  if (axis < 0) axis += rank;
  if (axis <= 0 || axis >= rank) return b.fail(node, axis === 0 ? 'splits the batch axis (axis 0)' : `axis ${intAttr(node, 'axis', 0)} is not an axis of [N,${v.shape.join(',')}]`);
  const n = v.shape[axis - 1];
  const given = intsAttr(node, 'split') ?? (inputs[1] ? constIn(b, node, inputs[1], 'split').ints : undefined);
  const parts = node.output.length;
  const sizes = given ?? (n % parts === 0 ? Array(parts).fill(n / parts) : [...Array(parts - 1).fill(Math.ceil(n / parts)), n - (parts - 1) * Math.ceil(n / parts)]);
  if (sizes.length !== parts || sizes.some((d) => !(Number.isInteger(d) && d > 0)) || sizes.reduce((a, c) => a + c, 0) !== n) return b.fail(node, `splits an axis of ${n} into [${sizes.join(',')}] for ${parts} outputs`);
  const k = kerasAxis(b, node, v, axis);
  let at = 0;
  return sizes.map((len) => {
    const begin = at;
    at += len;
    const shape = v.shape.map((d, j) => (j === axis - 1 ? len : d));
    const physical = k.x.physical.map((d, j) => (j === k.axis - 1 ? len : d));
    return b.add(node, 'Slice', { axis: k.axis, begin, end: begin + len, step: 1 }, [k.x], { shape, layout: k.x.layout, physical, nonNegative: v.nonNegative }, undefined, `${node.name || node.output[0]}_${begin}`);
  });
};

/** Reductions: ReduceMean (also global pooling and LayerNorm's parts), ReduceSum, ReduceMax, ReduceMin on any axes of a sample. */
function reduce(op: 'mean' | 'sum' | 'max' | 'min'): OnnxOp {
  return (b, node, inputs) => {
    const v = tensorIn(b, node, inputs[0]);
    const rank = v.shape.length + 1;
    const keep = intAttr(node, 'keepdims', 1) === 1;
    const given = axesOf(node, inputs, rank, b);
    if (!given || given.length === 0) {
      if (intAttr(node, 'noop_with_empty_axes', 0) === 1) return [v];
      return b.fail(node, 'reduces over every axis, the batch axis with them');
    }
    if (given.some((a) => a <= 0 || a >= rank) || new Set(given).size !== given.length) return b.fail(node, `axes [${given.join(',')}] must be distinct axes of a sample of [N,${v.shape.join(',')}] (not the batch axis 0)`);
    const shape = keep ? v.shape.map((d, i) => (given.includes(i + 1) ? 1 : d)) : v.shape.filter((_, i) => !given.includes(i + 1));
    if (!shape.length) return b.fail(node, 'reduces a sample to a single number (keepdims = 0)');
    // an image keeps its layout when the axes it keeps stay in ONNX order (keepdims, or only one of them is C)
    const kept = v.shape.map((_, i) => i).filter((i) => !given.includes(i + 1));
    const img = v.layout === 'nhwc' && v.shape.length === 3 && (keep || !kept.includes(0) || kept.length === 1);
    const x = img ? v : b.asLogical(v);
    const axes = given.map((a) => (img ? [3, 1, 2][a - 1] : a));
    const outImg = img && keep;
    const physical = outImg ? [shape[1], shape[2], shape[0]] : shape;
    return [b.add(node, 'Reduce', { op, axes, keepdims: keep }, [x], { shape, layout: outImg ? 'nhwc' : 'logical', physical, nonNegative: v.nonNegative && op !== 'min' })];
  };
}

/**
 * ReduceL2 (torch.norm(x, p=2, dim, keepdim), the normalization of a surface-normal head): √Σx² as
 * x², a sum over the axes, and a square root.
 */
const reduceL2: OnnxOp = (b, node, inputs) => {
  const v = tensorIn(b, node, inputs[0]);
  // a square of its own: a layer that reads one tensor twice breaks tfjs-layers' predict of the checkpoint
  const sq = b.add(null, 'Pointwise', { fn: 'square' }, [v], { shape: v.shape, layout: v.layout, physical: v.physical, nonNegative: true }, undefined, `${node.name || node.output[0]}_sq`);
  const [sum] = reduce('sum')(b, { ...node, name: `${node.name || node.output[0]}_sum` }, [sq, ...inputs.slice(1)]);
  return pointwiseOp('sqrt', () => ({}), true)(b, node, [sum]);
};

/** The product of two activations (attention's q·kᵀ and ·v): batched over the leading axes, broadcast. */
const matMulOp: OnnxOp = (b, node, [a, w]) => {
  if (w && w.kind === 'const' && w.shape.length === 2 && w.float && w.initializer) return matMul(b, node, [a, w]);
  const x = tensorIn(b, node, a, 'its first input');
  if (!w || w.kind === 'const') return b.fail(node, 'multiplies by a constant that is not a 2-D float32 weight');
  const y = tensorIn(b, node, w, 'its second input');
  if (x.shape.length < 2 || x.shape.length !== y.shape.length) return b.fail(node, `multiplies [N,${x.shape.join(',')}] by [N,${y.shape.join(',')}]: two activations of one rank ≥ 3 (with the batch)`);
  const lead = broadcastShapes(x.shape.slice(0, -2), y.shape.slice(0, -2));
  if (!lead || x.shape[x.shape.length - 1] !== y.shape[y.shape.length - 2]) return b.fail(node, `cannot multiply [${x.shape.join(',')}] by [${y.shape.join(',')}]`);
  const shape = [...lead, x.shape[x.shape.length - 2], y.shape[y.shape.length - 1]];
  return [b.add(node, 'MatMul', {}, [b.asLogical(x), b.asLogical(y)], { shape, layout: 'logical', physical: shape })];
};

/** An elementwise function of extra's Pointwise layer. */
function pointwiseOp(fn: string, params: (node: OnnxNode) => Record<string, number> = () => ({}), nonNegative = false): OnnxOp {
  return unary('Pointwise', (n) => ({ fn, ...params(n) }), nonNegative);
}

/** Integer constants folded elementwise (shape arithmetic: Equal, Where of Expand's −1 handling). */
function foldInts(b: GraphBuilder, node: OnnxNode, xs: (Value | undefined)[], f: (...v: number[]) => number): ConstValue {
  const cs = xs.map((v, i) => {
    const c = constIn(b, node, v, `input ${i}`);
    if (!c.ints && !c.float) return b.fail(node, `input ${i} has no values`);
    return c;
  });
  const n = Math.max(...cs.map((c) => (c.ints ?? c.float!).length));
  if (cs.some((c) => (c.ints ?? c.float!).length !== n && (c.ints ?? c.float!).length !== 1)) return b.fail(node, 'folds constants of different sizes');
  const at = (c: ConstValue, i: number) => { const d = c.ints ?? Array.from(c.float!); return d[d.length === 1 ? 0 : i]; };
  const batchAt = (c: ConstValue, i: number) => Boolean(c.batch?.[c.batch.length === 1 ? 0 : i]);
  const out = Array.from({ length: n }, (_, i) => f(...cs.map((c) => at(c, i))));
  const shape = cs.find((c) => (c.ints ?? c.float!).length === n)!.shape;
  return { kind: 'const', shape, ints: out, batch: out.map((_, i) => cs.some((c) => batchAt(c, i))) };
}

const expandOp: OnnxOp = (b, node, [x, s]) => {
  const shape = constIn(b, node, s, 'its shape');
  if (!shape.ints) return b.fail(node, 'its shape must be an integer constant');
  const batch = shape.batch ?? [];
  if (x?.kind === 'const') {
    if (!x.float || !x.initializer) return b.fail(node, 'expands a constant that is not a float32 weight');
    // a trained weight repeated for every sample (a class token): the target's first entry is the batch size
    const k = shape.ints.length;
    if (!batch[0] || batch.slice(1).some(Boolean)) return b.fail(node, `expands the weight '${x.initializer}' to [${shape.ints.join(',')}], whose first entry is not the batch size`);
    const w = x.shape.length === k ? x.shape.slice(1) : x.shape.length < k ? [...Array(k - 1 - x.shape.length).fill(1), ...x.shape] : null;
    if (!w || (x.shape.length === k && x.shape[0] !== 1)) return b.fail(node, `expands the weight '${x.initializer}' [${x.shape.join(',')}] over a batch axis it already has`);
    const per = broadcastShapes(w, shape.ints.slice(1).map((d, i) => (d === 1 || d === -1 ? w[i] : d)));
    if (!per) return b.fail(node, `cannot expand [${x.shape.join(',')}] to [${shape.ints.join(',')}]`);
    if (!b.input) return b.fail(node, 'has no network input to take the batch size from');
    const name = b.takeWeight(node, x.initializer);
    const src = b.input.shape.length === 3 ? b.input : b.input;
    return [b.add(node, 'BroadcastWeight', { shape: per, weight_shape: x.shape }, [src], { shape: per, layout: 'logical', physical: per }, [name])];
  }
  const v = tensorIn(b, node, x);
  const r = v.shape.length + 1;
  if (shape.ints.length > r) return b.fail(node, `expands [N,${v.shape.join(',')}] to rank ${shape.ints.length}: the batch axis would move`);
  const target = [...Array(r - shape.ints.length).fill(1), ...shape.ints];
  const tBatch = [...Array(r - shape.ints.length).fill(false), ...batch];
  if (!(target[0] === 1 || tBatch[0]) || tBatch.slice(1).some(Boolean)) return b.fail(node, `expands the batch axis to [${shape.ints.join(',')}]`);
  const per = broadcastShapes(v.shape, target.slice(1));
  if (!per) return b.fail(node, `cannot expand [${v.shape.join(',')}] to [${target.slice(1).join(',')}]`);
  if (per.join(',') === v.shape.join(',')) return [v];
  const img = v.layout === 'nhwc' && v.shape.length === 3;
  const x0 = img ? v : b.asLogical(v);
  const physical = img ? [per[1], per[2], per[0]] : per;
  return [b.add(node, 'BroadcastTo', { shape: physical }, [x0], { shape: per, layout: x0.layout, physical, nonNegative: v.nonNegative })];
};

/** Max / Min of two or more inputs, broadcast. */
function elementwiseN(b: GraphBuilder, node: OnnxNode, inputs: (Value | undefined)[], op: 'max' | 'min'): Value[] {
  const vs = inputs.map((v, i) => {
    if (!v) return b.fail(node, `input ${i} is missing`);
    return b.materialize(node, v);
  });
  if (vs.length === 1) return [vs[0]];
  let acc = vs[0];
  for (const v of vs.slice(1)) {
    if (acc.kind === 'const' && v.kind === 'const') return b.fail(node, `${op} of constants is not supported`);
    acc = broadcastArithmetic(b, node, op, acc, v);
  }
  return [acc];
}

export const onnxOps: Readonly<Record<string, OnnxOp>> = {
  Conv: conv,
  Resize: resize,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: matMulOp,
  Add: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  Div: binary('Div'),
  Relu: unary('ReLU', () => ({}), true),
  LeakyRelu: unary('LeakyReLU', (n) => ({ alpha: floatAttr(n, 'alpha', 0.01) }), false),
  Elu: (b, node, inputs) => {
    if (Math.abs(floatAttr(node, 'alpha', 1) - 1) > 1e-7) return b.fail(node, `alpha ${floatAttr(node, 'alpha', 1)} is not supported (ELU with alpha 1)`);
    return activation('elu')(b, node, inputs);
  },
  Sigmoid: activation('sigmoid', true),
  // clip(x, lo, hi) = ReLU(x − lo) capped at hi − lo, + lo: ReLU6 is clip(x, 0, 6)
  Clip: (b, node, [x, lo, hi]) => {
    const v = tensorIn(b, node, x);
    const min = lo ? scalarOf(lo) : attr(node, 'min') ? floatAttr(node, 'min', 0) : null;
    const max = hi ? scalarOf(hi) : attr(node, 'max') ? floatAttr(node, 'max', 0) : null;
    if (min === null) return b.fail(node, 'a Clip without a lower bound is not supported');
    if (max !== null && !(max > min)) return b.fail(node, `bounds [${min}, ${max}] are empty`);
    const shift = (u: TensorValue, by: number, what: string) => (by === 0 ? u : b.add(null, 'Rescaling', { scale: 1, offset: by }, [u], { ...u }, undefined, `${node.name || node.output[0]}_${what}`));
    const r = b.add(node, 'ReLU', max === null ? {} : { max_value: max - min }, [shift(v, -min, 'lo')], { shape: v.shape, layout: v.layout, physical: v.physical, nonNegative: true });
    return [min === 0 ? r : { ...shift(r, min, 'back'), nonNegative: min >= 0 }];
  },
  Tanh: activation('tanh'),
  Softmax: softmaxLike('softmax'),
  LogSoftmax: softmaxLike('log_softmax'),
  Gelu: (b, node, inputs) => {
    if (stringAttr(node, 'approximate', 'none') !== 'none') return b.fail(node, "approximate='tanh' is not supported (the exact GELU is)");
    return [gelu(b, node, tensorIn(b, node, inputs[0]))];
  },
  Erf: (b, node, [x]) => {
    if (x?.kind === 'affine' && x.offset === 0 && Math.abs(x.scale - Math.SQRT1_2) < 1e-6) return [{ kind: 'erf', of: x.of }];
    return pointwiseOp('erf')(b, node, [x]);
  },
  Pow: (b, node, [x, e]) => {
    if (x?.kind === 'centered' && scalarOf(e) === 2) return [{ kind: 'squared', of: x.of }];
    // x² (RMSNorm's mean of squares), √x, 1/x: exact as a product, a square root, a reciprocal
    const p = scalarOf(e);
    if (!x || x.kind === 'const') return b.fail(node, 'raises a constant to a power: extra folds only integer shape arithmetic');
    const v = b.asLogical(tensorIn(b, node, x));
    if (p === 1) return [v];
    if (p === 2) return pointwiseOp('square', () => ({}), true)(b, node, [v]);
    if (p === 0.5) return pointwiseOp('sqrt', () => ({}), true)(b, node, [v]);
    if (p === -1) return pointwiseOp('reciprocal')(b, node, [v]);
    return b.fail(node, `a power ${p === null ? 'that is not one number' : p} is not supported (x², √x and 1/x are)`);
  },
  Sqrt: (b, node, [x]) => {
    if (x?.kind === 'varianceEps') return [{ kind: 'std', of: x.of, eps: x.eps }];
    return pointwiseOp('sqrt', () => ({}), true)(b, node, [x]);
  },
  ReduceMean: reduceMean,
  ReduceSum: reduce('sum'),
  ReduceL2: reduceL2,
  ReduceMax: reduce('max'),
  ReduceMin: reduce('min'),
  Slice: sliceOp,
  Split: splitOp,
  Expand: expandOp,
  HardSigmoid: pointwiseOp('hard_sigmoid', (n) => ({ alpha: floatAttr(n, 'alpha', 0.2), beta: floatAttr(n, 'beta', 0.5) }), true),
  HardSwish: pointwiseOp('hard_swish'),
  Softplus: pointwiseOp('softplus', () => ({}), true),
  Softsign: pointwiseOp('softsign'),
  Selu: pointwiseOp('selu', (n) => ({ alpha: floatAttr(n, 'alpha', 1.67326319217681884765625), gamma: floatAttr(n, 'gamma', 1.05070102214813232421875) })),
  Mish: pointwiseOp('mish'),
  Exp: pointwiseOp('exp', () => ({}), true),
  Log: pointwiseOp('log'),
  Abs: pointwiseOp('abs', () => ({}), true),
  Neg: pointwiseOp('neg'),
  Reciprocal: pointwiseOp('reciprocal'),
  PRelu: (b, node, [x, slope]) => {
    const v = tensorIn(b, node, x);
    if (!slope || slope.kind !== 'const' || !slope.float || !slope.initializer) return b.fail(node, 'its slope must be a float32 initializer');
    // nn.PReLU's weight [C] is written as an unsqueezed copy [C,1,1] (onnx::PRelu_…): a trained weight under the module's name
    const module = modulePath(node);
    const own = module && exporterConstant(slope.initializer) ? `${module}.weight` : null;
    if (own && !b.initializers.has(own) && !b.weightOwner.has(own)) {
      const squeezed = slope.shape.filter((d) => d !== 1);
      b.values.set(own, { ...slope, shape: squeezed.length ? squeezed : [1], initializer: own });
      b.renamed.set(own, slope.initializer);
      return [broadcastArithmetic(b, node, 'prelu', v, { ...slope, shape: slope.shape, initializer: own, trained: true })];
    }
    return [broadcastArithmetic(b, node, 'prelu', v, { ...slope, trained: true })];
  },
  Max: (b, node, inputs) => elementwiseN(b, node, inputs, 'max'),
  Min: (b, node, inputs) => elementwiseN(b, node, inputs, 'min'),
  ConstantOfShape: (b, node, [s]) => {
    const shape = constIn(b, node, s, 'its shape');
    const a = attr(node, 'value');
    const fill = a?.t ? tensorValues(a.t, b.where) : { dtype: 'float32' as const, data: Float32Array.of(0) };
    if (!shape.ints || shape.batch?.some(Boolean)) return b.fail(node, 'makes a tensor of the batch size: extra folds only constant shapes');
    const n = size(shape.ints);
    if (n > 1 << 20) return b.fail(node, `makes a constant of ${n} elements`);
    return [fill.dtype === 'float32' ? { kind: 'const', shape: shape.ints, float: new Float32Array(n).fill(fill.data[0]) } : { kind: 'const', shape: shape.ints, ints: Array(n).fill(fill.data[0]) }];
  },
  Equal: (b, node, inputs) => [foldInts(b, node, inputs, (p, q) => (p === q ? 1 : 0))],
  // shape arithmetic on integer constants (a window's padding: (w − h mod w) mod w); fmod 0 is Python's sign rule
  Mod: (b, node, inputs) => {
    const fmod = intAttr(node, 'fmod', 0) === 1;
    return [foldInts(b, node, inputs, (p, q) => (fmod ? p % q : ((p % q) + q) % q))];
  },
  Where: (b, node, inputs) => {
    // Expand's −1 → 1 rewrite of shape constants: where(size == −1, 1, size)
    const [c, p, q] = inputs.map((v, i) => constIn(b, node, v, `input ${i}`));
    const folded = foldInts(b, node, inputs, (k, u, w) => (k ? u : w));
    // a batch entry survives where its side is picked
    const at = (v: ConstValue, i: number) => Boolean(v.batch?.[v.batch.length === 1 ? 0 : i]);
    const cv = c.ints ?? [];
    return [{ ...folded, batch: folded.ints!.map((_, i) => (cv[cv.length === 1 ? 0 : i] ? at(p, i) : at(q, i))) }];
  },
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: (b, node, [x]) => {
    const img = b.asImage(node, tensorIn(b, node, x));
    const c = img.shape[0];
    return [b.add(node, 'GlobalAveragePooling2D', {}, [img], { shape: [c, 1, 1], layout: 'logical', physical: [c], nonNegative: img.nonNegative })];
  },
  Flatten: (b, node, [x]) => {
    const v = tensorIn(b, node, x);
    if (intAttr(node, 'axis', 1) !== 1) return b.fail(node, `axis ${intAttr(node, 'axis', 1)} is not supported (flatten after the batch axis: axis 1)`);
    return [reshapeTo(b, v, [size(v.shape)])];
  },
  Reshape: (b, node, [x, s]) => {
    if (x?.kind === 'const') {
      // a constant (a weight reshaped before use): the same values under the new shape
      const target = constIn(b, node, s, 'its shape');
      if (!target.ints || target.batch?.some(Boolean)) return b.fail(node, `reshapes the constant${x.initializer ? ` '${x.initializer}'` : ''} with the batch size`);
      const n = size(x.shape);
      const known = target.ints.map((d, i) => (d === 0 ? x.shape[i] : d));
      const free = known.filter((d) => d === -1).length;
      const rest = size(known.filter((d) => d !== -1));
      const out = known.map((d) => (d === -1 ? n / rest : d));
      if (free > 1 || size(out) !== n || !out.every((d) => Number.isInteger(d) && d >= 0)) return b.fail(node, `cannot reshape the constant [${x.shape.join(',')}] to [${target.ints.join(',')}]`);
      return [{ ...x, shape: out }];
    }
    const v = tensorIn(b, node, x);
    return [reshapeTo(b, v, reshapeTarget(b, node, v, constIn(b, node, s, 'its shape')))];
  },
  Squeeze: (b, node, inputs) => {
    const x = inputs[0];
    if (x?.kind === 'const') return same(node, x);
    const v = tensorIn(b, node, x);
    const axes = axesOf(node, inputs, v.shape.length + 1, b) ?? v.shape.map((d, i) => (d === 1 ? i + 1 : -1)).filter((i) => i > 0);
    if (axes.some((a) => a === 0 || v.shape[a - 1] !== 1)) return b.fail(node, `squeezes axes [${axes.join(',')}] of [batch,${v.shape.join(',')}]`);
    return [reshapeTo(b, v, v.shape.filter((_, i) => !axes.includes(i + 1)))];
  },
  Unsqueeze: (b, node, inputs) => {
    const x = inputs[0];
    if (x?.kind === 'const') {
      const axes = axesOf(node, inputs, x.shape.length + 1, b) ?? [];
      const shape = [...x.shape];
      for (const a of [...axes].sort((p, q) => p - q)) shape.splice(a, 0, 1);
      return [{ ...x, shape }];
    }
    const v = tensorIn(b, node, x);
    const given = intsAttr(node, 'axes')?.length ? intsAttr(node, 'axes')! : constIn(b, node, inputs[1], 'axes').ints ?? [];
    const rank = v.shape.length + 1 + given.length;
    const axes = given.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
    if (!axes.length || axes.includes(0)) return b.fail(node, 'unsqueezes the batch axis');
    const full: number[] = [-1, ...v.shape];
    for (const a of axes) full.splice(a, 0, 1);
    return [reshapeTo(b, v, full.slice(1))];
  },
  Transpose: (b, node, [x]) => {
    const v = tensorIn(b, node, x);
    const rank = v.shape.length + 1;
    const perm = intsAttr(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    if (perm.length !== rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) return b.fail(node, `perm [${perm.join(',')}] is not a permutation of the ${rank} axes of [N,${v.shape.join(',')}]`);
    if (perm[0] !== 0) return b.fail(node, `moves the batch axis (perm [${perm.join(',')}]): extra keeps the batch first; nn.MultiheadAttention's own forward does this, write the attention batch-first with matmuls (scripts/onnx_zoo.py, Attention)`);
    const logical = b.asLogical(v);
    const shape = perm.slice(1).map((p) => v.shape[p - 1]);
    return [b.add(node, 'Permute', { dims: perm.slice(1) }, [logical], { shape, layout: 'logical', physical: shape, nonNegative: v.nonNegative })];
  },
  Concat: (b, node, inputs) => {
    if (inputs.every((v) => v?.kind === 'const')) {
      const cs = inputs as ConstValue[];
      if (cs.some((c) => !c.ints)) return b.fail(node, 'concatenates float constants');
      return [{ kind: 'const', shape: [cs.reduce((a, c) => a + (c.ints?.length ?? 0), 0)], ints: cs.flatMap((c) => c.ints ?? []), batch: cs.flatMap((c) => c.ints!.map((_, i) => c.batch?.[i] ?? false)) }];
    }
    // one input (DenseNet's first dense layer): the identity
    if (inputs.length === 1) return [tensorIn(b, node, inputs[0])];
    const vs = inputs.map((v, i) => tensorIn(b, node, v, `input ${i}`));
    const rank = vs[0].shape.length + 1;
    let axis = intAttr(node, 'axis', 1);
    if (axis < 0) axis += rank;
    if (axis <= 0 || axis >= rank) return b.fail(node, axis === 0 ? 'concatenates on the batch axis (axis 0)' : `axis ${intAttr(node, 'axis', 1)} is not an axis of rank ${rank}`);
    const bad = vs.find((v) => v.shape.length !== rank - 1 || v.shape.some((d, i) => i !== axis - 1 && d !== vs[0].shape[i]));
    if (bad) return b.fail(node, `concatenates ${vs.map((v) => `[${v.shape.join(',')}]`).join(' and ')} on axis ${axis}: the other axes must agree`);
    const shape = vs[0].shape.map((d, i) => (i === axis - 1 ? vs.reduce((a, v) => a + v.shape[i], 0) : d));
    const img = rank === 4;
    const xs = vs.map((v) => (img ? b.asImage(node, v) : b.asLogical(v)));
    return [b.add(node, 'Concatenate', { axis: img ? [3, 1, 2][axis - 1] : axis }, xs, img ? { shape, layout: 'nhwc', physical: [shape[1], shape[2], shape[0]], nonNegative: vs.every((v) => v.nonNegative) } : { shape, layout: 'logical', physical: shape })];
  },
  BatchNormalization: (b, node, [x, scale, bias, mean, variance]) => {
    const v0 = tensorIn(b, node, x);
    const c = v0.shape[0];
    const v = v0.shape.length === 3 ? b.asImage(node, v0) : v0.shape.length === 1 ? b.asLogical(v0) : b.fail(node, `normalizes a [${v0.shape.join(',')}] input; images [C,H,W] or features [F] only`);
    const names = [scale, bias, mean, variance].map((w, i) => weightIn(b, node, w, ['its scale', 'its bias', 'its running mean', 'its running variance'][i], [c]).initializer);
    return [b.add(node, 'BatchNormalization', { axis: -1, epsilon: floatAttr(node, 'epsilon', 1e-5), momentum: floatAttr(node, 'momentum', 0.9) }, [v], { shape: v0.shape, layout: v.layout, physical: v.physical }, names)];
  },
  LayerNormalization: (b, node, [x, scale, bias]) => {
    const v = tensorIn(b, node, x);
    const axis = intAttr(node, 'axis', -1);
    if (!(axis === -1 || axis === v.shape.length)) return b.fail(node, `normalizes from axis ${axis}; extra normalizes the last axis (nn.LayerNorm(features))`);
    const n = v.shape[v.shape.length - 1];
    const gamma = scale ? weightIn(b, node, scale, 'its scale', [n]).initializer : undefined;
    const beta = bias ? weightIn(b, node, bias, 'its bias', [n]).initializer : undefined;
    return [b.layerNorm({ kind: 'normalized', of: v, eps: floatAttr(node, 'epsilon', 1e-5), ...(gamma ? { gamma } : {}), ...(beta ? { beta } : {}) })];
  },
  Identity: (b, node, [x]) => {
    if (!x) return b.fail(node, 'its input is missing');
    // torch.onnx.export merges equal initializers (a trained ResNet's bn2.bias and downsample.1.bias) and keeps
    // the other state_dict name as an Identity of the kept one: that name is a weight of its own again (untied)
    if (x.kind === 'const' && x.float && x.initializer && node.output[0] && !exporterConstant(node.output[0])) return [{ ...x, initializer: node.output[0] }];
    return [x];
  },
  // Dropout is the identity in extra (deterministic forward); its mask output is not supported
  Dropout: (b, node, [x]) => {
    if (node.output.length > 1 && node.output[1]) return b.fail(node, 'its mask output is not supported');
    return [tensorIn(b, node, x)];
  },
  Constant: constantOp,
  Pad: (b, node, inputs) => {
    const img = b.asImage(node, tensorIn(b, node, inputs[0]));
    const mode = stringAttr(node, 'mode', 'constant');
    const pads = intsAttr(node, 'pads') ?? constIn(b, node, inputs[1], 'its pads').ints;
    const value = inputs[2] ? scalarOf(inputs[2]) : floatAttr(node, 'value', 0);
    if (mode !== 'constant' || value !== 0) return b.fail(node, `only zero padding is supported (mode ${mode}, value ${value})`);
    if (!pads || pads.length !== 8 || pads[0] || pads[1] || pads[4] || pads[5] || pads.some((p) => p < 0)) return b.fail(node, `pads [${pads?.join(',')}] are not spatial zero padding of an NCHW image`);
    return [zeroPad(b, node, img, [[pads[2], pads[6]], [pads[3], pads[7]]])];
  },
  Shape: (b, node, [x]) => {
    if (x?.kind === 'const') {
      const rank = x.shape.length;
      const norm = (i: number) => Math.min(Math.max(i < 0 ? i + rank : i, 0), rank);
      const e = attr(node, 'end') ? norm(intAttr(node, 'end', rank)) : rank;
      const dims = x.shape.slice(norm(intAttr(node, 'start', 0)), e);
      return [{ kind: 'const', shape: [dims.length], ints: dims }];
    }
    if (!x) return b.fail(node, 'its input is missing');
    // a pending piece of a pattern has its tensor's shape (a mean or variance: its last axis 1)
    const perSample = isTensor(x) ? x.shape : ['mean', 'variance', 'varianceEps', 'std'].includes(x.kind) ? [...x.of.shape.slice(0, -1), 1] : x.of.shape;
    const start = intAttr(node, 'start', 0);
    const endA = attr(node, 'end');
    const full = [0, ...perSample];
    const rank = full.length;
    const norm = (i: number) => Math.min(Math.max(i < 0 ? i + rank : i, 0), rank);
    const s = norm(start);
    const e = endA ? norm(endA.i) : rank;
    const idx = full.map((_, i) => i).slice(s, e);
    return [{ kind: 'const', shape: [idx.length], ints: idx.map((i) => (i === 0 ? 0 : full[i])), batch: idx.map((i) => i === 0) }];
  },
  Gather: (b, node, [x0, i]) => {
    const x = x0 && x0.kind !== 'const' ? b.materialize(node, x0) : x0;
    if (isTensor(x)) {
      // constant indices into an activation (a transformer's class token x[:, 0], a channel pick)
      const ix = constIn(b, node, i, 'its indices');
      if (!ix.ints || ix.batch?.some(Boolean)) return b.fail(node, 'its indices must be integer constants');
      const rank = x.shape.length + 1;
      const axis = intAttr(node, 'axis', 0) < 0 ? intAttr(node, 'axis', 0) + rank : intAttr(node, 'axis', 0);
      if (axis <= 0 || axis >= rank) return b.fail(node, axis === 0 ? 'gathers samples of the batch (axis 0)' : `axis ${intAttr(node, 'axis', 0)} is not an axis of [N,${x.shape.join(',')}]`);
      const n = x.shape[axis - 1];
      const idx = ix.ints.map((k) => (k < 0 ? k + n : k));
      if (idx.some((k) => k < 0 || k >= n)) return b.fail(node, `indices [${ix.ints.join(',')}] are outside an axis of ${n}`);
      const shape = [...x.shape.slice(0, axis - 1), ...ix.shape, ...x.shape.slice(axis)];
      if (!shape.length) return b.fail(node, 'gathers a single number per sample');
      const keepImg = x.layout === 'nhwc' && x.shape.length === 3 && ix.shape.length === 1;
      const k = kerasAxis(b, node, x, axis, keepImg);
      const physical = keepImg ? k.x.physical.map((d, j) => (j === k.axis - 1 ? idx.length : d)) : shape;
      return [b.add(node, 'Gather', { axis: k.axis, indices: idx, indices_shape: ix.shape }, [k.x], { shape, layout: keepImg ? 'nhwc' : 'logical', physical, nonNegative: x.nonNegative })];
    }
    const c = constIn(b, node, x, 'its data');
    const ix = constIn(b, node, i, 'its indices');
    if (!c.ints || !ix.ints || intAttr(node, 'axis', 0) !== 0 || c.shape.length !== 1) return b.fail(node, 'is supported only on shapes (x.size(k))');
    const picked = ix.ints.map((k) => (k < 0 ? k + c.ints!.length : k));
    return [{ kind: 'const', shape: ix.shape, ints: picked.map((k) => c.ints![k]), batch: picked.map((k) => c.batch?.[k] ?? false) }];
  },
  Cast: (b, node, [x]) => {
    if (x?.kind === 'const') return [x];
    const to = intAttr(node, 'to', 1);
    if (to !== 1) return b.fail(node, 'casts a tensor to another type than float32');
    return [tensorIn(b, node, x)];
  },
};

export const onnxOpNames: readonly string[] = Object.keys(onnxOps);
