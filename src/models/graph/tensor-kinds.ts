import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { InitKind } from '../types.js';
import { tableLayerClass, type TableLayerEntry } from './table-layer.js';

/**
 * Layer classes of extra's own, for the networks PyTorch users write (what ONNX files hold and
 * tfjs-layers has no class for): grouped and dilated convolutions, pooling with explicit and ceil-mode
 * windows, broadcasting arithmetic (with a tensor, a trained weight or a fixed constant), slices and
 * gathers, batched products of two activations, softmax and reductions on any axis, hard activations.
 * Each is one entry of the layer table (src/models/graph/kinds.ts spreads them in), checkpointed as a
 * registered tfjs layer (table-layer.ts). Axes count the batch axis as Keras does (axis 1 is the first
 * axis of a sample); shapes leave the batch out.
 */
export interface TensorKind<C> extends TableLayerEntry<C> {
  arity?: 1;
  weights(cfg: C, inShapes: number[][]): { keras: string; shape: number[]; init: InitKind; torch: 'weight' | 'bias' }[];
  tfjs(cfg: C, name: string): tf.layers.Layer;
  toTorch?(cfg: C, weightIndex: number, w: tf.Tensor): tf.Tensor;
}

const int = z.number().int();
const pos = z.number().int().positive();
const pair = z.tuple([pos, pos]);
const pads2 = z.tuple([z.tuple([int.nonnegative(), int.nonnegative()]), z.tuple([int.nonnegative(), int.nonnegative()])]);
const noWeights = () => [];
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function fail(name: string, why: string): never {
  throw new Error(`layer ${name}: ${why}`);
}
function image(s: number[], name: string, what: string): [number, number, number] {
  if (s.length !== 3) fail(name, `${what} needs [H,W,C] input, got [${s.join(',')}]`);
  return [s[0], s[1], s[2]];
}
/** A per-sample axis (Keras numbering: 1 is the first axis after the batch) of a rank-r sample, 0-based. */
function axisOf(axis: number, rank: number, name: string): number {
  const a = axis < 0 ? axis + rank + 1 : axis;
  if (a < 1 || a > rank) fail(name, `axis ${axis} is not an axis of a rank-${rank} sample (the batch axis 0 cannot be used)`);
  return a - 1;
}
/** NumPy broadcasting of two shapes of one rank. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  if (a.length !== b.length) return null;
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && a[i] !== 1 && b[i] !== 1) return null;
    out.push(Math.max(a[i], b[i]));
  }
  return out;
}
/**
 * tf.broadcastTo with the gradient of a broadcast: one sum over the broadcast axes. tf.broadcastTo runs
 * a Tile, whose gradient is a slice and an addition per copy (a class token expanded over a batch of 64:
 * 128 ops a step).
 */
export function broadcastTo(x: tf.Tensor, shape: number[]): tf.Tensor {
  if (x.shape.join(',') === shape.join(',')) return x;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t] = args;
    if (!(t instanceof tf.Tensor)) throw new Error('broadcastTo: customGrad called without its input');
    const lead = shape.length - t.rank;
    const axes = shape.map((_, i) => i).filter((i) => i < lead || (t.shape[i - lead] === 1 && shape[i] !== 1));
    return { value: tf.broadcastTo(t, shape), gradFunc: (dy: tf.Tensor) => tf.sum(dy, axes, true).reshape(t.shape) };
  });
  return f(x);
}
/** The indices start, start + step, … before end (ONNX Slice after clamping). */
export function sliceIndices(begin: number, end: number, step: number): number[] {
  const out: number[] = [];
  for (let i = begin; step > 0 ? i < end : i > end; i += step) out.push(i);
  return out;
}
/** Every s-th element along axes 1 and 2 from the first (a strided window op from its stride-1 form). */
function subsample(y: tf.Tensor, s: [number, number]): tf.Tensor {
  let r = y;
  for (const ax of [0, 1] as const) {
    if (s[ax] === 1) continue;
    const n = r.shape[ax + 1];
    r = tf.gather(r, tf.tensor1d(sliceIndices(0, n, s[ax]), 'int32'), ax + 1);
  }
  return r;
}
const windowOut = (n: number, k: number, s: number, d: number) => Math.floor((n - (k - 1) * d - 1) / s) + 1;

// ---- grouped / dilated convolution --------------------------------------------------------------
const groupConvConfig = z.object({
  filters: pos,
  kernel_size: pair,
  strides: pair.default([1, 1]),
  dilation_rate: pair.default([1, 1]),
  /** ONNX's `group` (Keras' `groups`, which extra's Conv2D refuses): filters and channels split into this many */
  group: pos.default(1),
  use_bias: z.boolean().default(true),
});
type GroupConvConfig = z.infer<typeof groupConvConfig>;
/** A kernel [kh, kw, …] dilated by zeros between its taps: [(kh − 1)·dh + 1, (kw − 1)·dw + 1, …] (tfjs has no gradient for dilated convolutions). */
function dilateKernel(k: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  let r: tf.Tensor = k;
  for (const [ax, d] of [[0, dh], [1, dw]] as const) {
    if (d === 1) continue;
    const s = r.shape;
    const n = s[ax] as number;
    // each tap followed by d − 1 zeros, the zeros after the last one cut off
    const taps = r.expandDims(ax + 1);
    const zeros = tf.zeros(taps.shape.map((v, i) => (i === ax + 1 ? d - 1 : v)));
    const spread = tf.concat([taps, zeros], ax + 1).reshape(s.map((v, i) => (i === ax ? n * d : v)));
    r = tf.slice(spread, s.map(() => 0), s.map((v, i) => (i === ax ? (n - 1) * d + 1 : v)));
  }
  return r as tf.Tensor4D;
}
function groupConv(c: GroupConvConfig, x: tf.Tensor4D, k0: tf.Tensor4D): tf.Tensor {
  const k = dilateKernel(k0, c.dilation_rate);
  const cin = x.shape[3];
  const [kh, kw] = k.shape;
  if (c.group === 1) return tf.conv2d(x, k, c.strides, 'valid');
  if (cin === c.group) return tf.depthwiseConv2d(x, k.reshape([kh, kw, cin, c.filters / cin]) as tf.Tensor4D, c.strides, 'valid');
  const xs = tf.split(x, c.group, 3) as tf.Tensor4D[];
  const ks = tf.split(k, c.group, 3);
  return tf.concat(xs.map((xi, i) => tf.conv2d(xi, ks[i] as tf.Tensor4D, c.strides, 'valid')), 3);
}

// ---- pooling with explicit, ceil-mode and dilated windows ----------------------------------------
const poolConfig = z.object({
  mode: z.enum(['max', 'avg']),
  pool_size: pair,
  strides: pair,
  dilation_rate: pair.default([1, 1]),
  /** [[top, bottom], [left, right]]: padding that an average with count_include_pad counts */
  pads: pads2.default([[0, 0], [0, 0]]),
  /** bottom / right padding of ceil_mode's last partial windows: never counted */
  ceil_extra: pair.or(z.tuple([int.nonnegative(), int.nonnegative()])).default([0, 0]),
  count_include_pad: z.boolean().default(false),
});
type PoolConfig = z.infer<typeof poolConfig>;
const poolOut = (c: PoolConfig, [h, w]: number[]) => [0, 1].map((i) => windowOut([h, w][i] + c.pads[i][0] + c.pads[i][1] + c.ceil_extra[i], c.pool_size[i], c.strides[i], c.dilation_rate[i]));
const divisors = new Map<string, tf.Tensor>();
/** 1 / the number of elements each output window averages over ([oh, ow, 1]; kept per geometry). */
function divisor(c: PoolConfig, h: number, w: number): tf.Tensor {
  const key = JSON.stringify([c, h, w]);
  let t = divisors.get(key);
  if (!t) {
    const [oh, ow] = poolOut(c, [h, w]);
    const inside = (i: number, n: number, ax: 0 | 1) => (c.count_include_pad ? i >= -c.pads[ax][0] && i < n + c.pads[ax][1] : i >= 0 && i < n);
    const counts = (n: number, o: number, ax: 0 | 1) => Array.from({ length: o }, (_, q) => {
      let k = 0;
      for (let j = 0; j < c.pool_size[ax]; j++) if (inside(q * c.strides[ax] - c.pads[ax][0] + j * c.dilation_rate[ax], n, ax)) k++;
      return k;
    });
    const ch = counts(h, oh, 0);
    const cw = counts(w, ow, 1);
    const data = new Float32Array(oh * ow);
    for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) data[i * ow + j] = 1 / (ch[i] * cw[j]);
    t = tf.keep(tf.tensor3d(data, [oh, ow, 1]));
    divisors.set(key, t);
  }
  return t;
}
function pool2d(c: PoolConfig, x: tf.Tensor4D): tf.Tensor {
  const [, h, w] = x.shape;
  const padding: [number, number][] = [[0, 0], [c.pads[0][0], c.pads[0][1] + c.ceil_extra[0]], [c.pads[1][0], c.pads[1][1] + c.ceil_extra[1]], [0, 0]];
  const padded = padding.some(([a, b]) => a || b);
  // a max never picks the padding (every window holds an element of x); an average sums zeros and divides by its own count
  const xp = padded ? tf.pad(x, padding, c.mode === 'max' ? -Infinity : 0) : x;
  const dilated = c.dilation_rate[0] > 1 || c.dilation_rate[1] > 1;
  const y = dilated
    ? subsample(tf.pool(xp, c.pool_size, c.mode, 'valid', c.dilation_rate, 1), c.strides)
    : c.mode === 'max'
      ? tf.maxPool(xp, c.pool_size, c.strides, 'valid')
      : tf.avgPool(xp, c.pool_size, c.strides, 'valid');
  if (c.mode === 'max') return y;
  const window = c.pool_size[0] * c.pool_size[1];
  // the exact mean of what each window counts: avgPool divides by the full window, so multiply it back
  const uniform = !padded || (c.count_include_pad && !c.ceil_extra[0] && !c.ceil_extra[1]);
  return uniform ? y : tf.mul(tf.mul(y, window), divisor(c, h, w));
}

// ---- broadcasting arithmetic ---------------------------------------------------------------------
const arithmeticOps = ['add', 'sub', 'mul', 'div', 'max', 'min', 'prelu'] as const;
type ArithmeticOp = (typeof arithmeticOps)[number];
function arith(op: ArithmeticOp, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  switch (op) {
    case 'add':
      return tf.add(a, b);
    case 'sub':
      return tf.sub(a, b);
    case 'mul':
      return tf.mul(a, b);
    case 'div':
      return tf.div(a, b);
    // tfjs' Maximum / Minimum gradients do not sum over broadcast axes: broadcast first
    case 'max':
      return tf.maximum(...broadcastBoth(a, b));
    case 'min':
      return tf.minimum(...broadcastBoth(a, b));
    case 'prelu':
      // PRelu(x, slope): x where x ≥ 0, slope·x below (the slope broadcast)
      return tf.add(tf.relu(a), tf.mul(b, tf.minimum(a, 0)));
  }
}
function broadcastBoth(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const out = broadcastShapes(a.shape, b.shape) ?? a.shape;
  const to = (t: tf.Tensor) => broadcastTo(t, out);
  return [to(a), to(b)];
}
const withConfig = z.object({
  op: z.enum(arithmeticOps),
  /** the operand as stored (a trained weight keeps its state_dict shape) */
  operand_shape: z.array(int.nonnegative()),
  /** the operand's shape per sample, aligned to the input's rank, in the input's physical axis order */
  broadcast_shape: z.array(pos).min(1),
  /** applied to the operand (reshaped to broadcast_shape in logical order) to reach the physical order */
  perm: z.array(int.nonnegative()).nullish(),
  /** the operand is the left one (b − x, b / x) */
  reverse: z.boolean().default(false),
  /** a fixed constant's values; absent: a trained weight */
  values: z.array(z.number()).nullish(),
});
type WithConfig = z.infer<typeof withConfig>;
function operand(c: WithConfig, p: tf.Tensor[]): tf.Tensor {
  const raw = c.values ? tf.tensor(c.values, c.operand_shape.length ? c.operand_shape : []) : p[0];
  const logical = c.perm ? c.perm.map((_, i) => c.broadcast_shape[c.perm!.indexOf(i)]) : c.broadcast_shape;
  const r = raw.reshape([1, ...logical]);
  return c.perm ? tf.transpose(r, [0, ...c.perm.map((a) => a + 1)]) : r;
}

// ---- pointwise functions -------------------------------------------------------------------------
const pointwiseFns = ['hard_sigmoid', 'hard_swish', 'softplus', 'selu', 'mish', 'exp', 'log', 'abs', 'neg', 'sqrt', 'reciprocal', 'softsign', 'erf', 'square'] as const;
const pointwiseConfig = z.object({ fn: z.enum(pointwiseFns), alpha: z.number().default(0), beta: z.number().default(0), gamma: z.number().default(0) });
type PointwiseConfig = z.infer<typeof pointwiseConfig>;
function pointwise(c: PointwiseConfig, x: tf.Tensor): tf.Tensor {
  switch (c.fn) {
    case 'hard_sigmoid':
      // max(0, min(1, αx + β))
      return tf.clipByValue(tf.add(tf.mul(x, c.alpha), c.beta), 0, 1);
    case 'hard_swish':
      return tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, 1 / 6), 0.5), 0, 1));
    case 'softplus':
      return tf.softplus(x);
    case 'selu':
      // γ·x for x > 0, γ·α·(eˣ − 1) below (ONNX's attributes, PyTorch's constants)
      return tf.mul(tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), c.alpha)), c.gamma);
    case 'mish':
      return tf.mul(x, tf.tanh(tf.softplus(x)));
    case 'exp':
      return tf.exp(x);
    case 'log':
      return tf.log(x);
    case 'abs':
      return tf.abs(x);
    case 'neg':
      return tf.neg(x);
    case 'sqrt':
      return tf.sqrt(x);
    case 'reciprocal':
      return tf.reciprocal(x);
    case 'softsign':
      return tf.div(x, tf.add(tf.abs(x), 1));
    case 'erf':
      return tf.erf(x);
    case 'square':
      return tf.square(x);
  }
}

// ---- slices, gathers, reductions, softmax, products ----------------------------------------------
const sliceConfig = z.object({ axis: int, begin: int, end: int, step: int.refine((s) => s !== 0, 'step must not be 0').default(1) });
type SliceConfig = z.infer<typeof sliceConfig>;
const gatherConfig = z.object({ axis: int, indices: z.array(int.nonnegative()).min(1), indices_shape: z.array(pos) });
type GatherConfig = z.infer<typeof gatherConfig>;
const reduceConfig = z.object({ op: z.enum(['mean', 'sum', 'max', 'min']), axes: z.array(int).min(1), keepdims: z.boolean().default(true) });
type ReduceConfig = z.infer<typeof reduceConfig>;
const softmaxConfig = z.object({ axis: int.default(-1), log: z.boolean().default(false) });
type SoftmaxConfig = z.infer<typeof softmaxConfig>;
const matMulConfig = z.object({});
const expandConfig = z.object({ shape: z.array(pos).min(1) });
type ExpandConfig = z.infer<typeof expandConfig>;
const weightConfig = z.object({ shape: z.array(pos).min(1), weight_shape: z.array(int.nonnegative()) });
type WeightConfig = z.infer<typeof weightConfig>;

function reduceAxes(c: ReduceConfig, s: number[], name: string): number[] {
  const axes = [...new Set(c.axes.map((a) => axisOf(a, s.length, name)))];
  if (axes.length !== c.axes.length) fail(name, `axes [${c.axes.join(',')}] name an axis twice`);
  return axes;
}

function entry<C>(className: string, k: Omit<TensorKind<C>, 'tfjs'>): TensorKind<never> {
  return { ...k, tfjs: tableLayerClass(className, k) } as unknown as TensorKind<never>;
}

export const tensorLayerKinds: Readonly<Record<string, TensorKind<never>>> = {
  // a Conv2D with `groups` (each group of filters reads its own slice of channels) and dilations; 'valid' windows
  // (explicit padding is a ZeroPadding2D before it). Kernel [kh, kw, in/groups, filters], as Keras 3 keeps it.
  GroupConv2D: entry<GroupConvConfig>('GroupConv2D', {
    config: groupConvConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const [h, w, ch] = image(s, name, 'GroupConv2D');
      if (ch % c.group !== 0 || c.filters % c.group !== 0) fail(name, `groups ${c.group} must divide the input's ${ch} channels and the ${c.filters} filters`);
      return [windowOut(h, c.kernel_size[0], c.strides[0], c.dilation_rate[0]), windowOut(w, c.kernel_size[1], c.strides[1], c.dilation_rate[1]), c.filters];
    },
    weights: (c, [s]) => [
      { keras: 'kernel', shape: [c.kernel_size[0], c.kernel_size[1], s[2] / c.group, c.filters], init: 'he-uniform', torch: 'weight' },
      ...(c.use_bias ? [{ keras: 'bias', shape: [c.filters], init: 'zeros' as const, torch: 'bias' as const }] : []),
    ],
    forward: (c, [x], p) => {
      const y = groupConv(c, x as tf.Tensor4D, p[0] as tf.Tensor4D);
      return c.use_bias ? tf.add(y, p[1]) : y;
    },
    // [kh,kw,in/g,out] → [out,in/g,kh,kw]
    toTorch: (_c, i, w) => (i === 0 ? tf.transpose(w, [3, 2, 0, 1]) : w),
  }),
  // max or average pooling over explicit windows: PyTorch's / ONNX's pads, ceil_mode and dilations, exactly
  Pool2D: entry<PoolConfig>('Pool2D', {
    config: poolConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const [h, w, ch] = image(s, name, 'Pool2D');
      return [...poolOut(c, [h, w]), ch];
    },
    weights: noWeights,
    forward: (c, [x]) => pool2d(c, x as tf.Tensor4D),
  }),
  // two tensors, NumPy broadcasting between samples' axes of one rank
  Arithmetic: entry<{ op: ArithmeticOp }>('Arithmetic', {
    config: z.object({ op: z.enum(arithmeticOps) }),
    outShape: (c, shapes, name) => {
      if (shapes.length !== 2) fail(name, `${c.op} needs two inputs`);
      const out = broadcastShapes(shapes[0], shapes[1]);
      if (!out) fail(name, `cannot broadcast [${shapes[0].join(',')}] against [${shapes[1].join(',')}]`);
      return out;
    },
    weights: noWeights,
    forward: (c, [a, b]) => arith(c.op, a, b),
  }),
  // a tensor and a trained weight (layer scale, positional embedding, PRelu's slope) or a fixed constant, broadcast
  ArithmeticWith: entry<WithConfig>('ArithmeticWith', {
    config: withConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      if (size(c.operand_shape) !== size(c.broadcast_shape)) fail(name, `operand [${c.operand_shape.join(',')}] does not fit [${c.broadcast_shape.join(',')}]`);
      if (c.values && c.values.length !== size(c.operand_shape)) fail(name, `holds ${c.values.length} values for [${c.operand_shape.join(',')}]`);
      const out = broadcastShapes(s, c.broadcast_shape);
      if (!out) fail(name, `cannot broadcast [${s.join(',')}] against [${c.broadcast_shape.join(',')}]`);
      return out;
    },
    weights: (c) => (c.values ? [] : [{ keras: 'operand', shape: c.operand_shape, init: c.op === 'mul' || c.op === 'div' ? 'ones' : 'zeros', torch: 'weight' }]),
    forward: (c, [x], p) => (c.reverse ? arith(c.op, operand(c, p), x) : arith(c.op, x, operand(c, p))),
  }),
  // a trained weight broadcast to every sample (a class token expanded over the batch); the input gives the batch size
  BroadcastWeight: entry<WeightConfig>('BroadcastWeight', {
    config: weightConfig,
    arity: 1,
    outShape: (c, _s, name) => {
      const w = c.weight_shape.length > c.shape.length && c.weight_shape[0] === 1 ? c.weight_shape.slice(1) : c.weight_shape;
      const aligned = [...Array(Math.max(0, c.shape.length - w.length)).fill(1), ...w];
      if (!broadcastShapes(aligned, c.shape) || broadcastShapes(aligned, c.shape)!.join(',') !== c.shape.join(',')) fail(name, `cannot broadcast a [${c.weight_shape.join(',')}] weight to [${c.shape.join(',')}]`);
      return c.shape;
    },
    weights: (c) => [{ keras: 'weight', shape: c.weight_shape, init: 'zeros', torch: 'weight' }],
    forward: (c, [x], [w]) => {
      const per = size(c.weight_shape) === 1 ? c.shape.map(() => 1) : (() => {
        const s = c.weight_shape.length > c.shape.length ? c.weight_shape.slice(1) : c.weight_shape;
        return [...Array(c.shape.length - s.length).fill(1), ...s];
      })();
      return broadcastTo(w.reshape([1, ...per]), [x.shape[0], ...c.shape]);
    },
  }),
  // a tensor broadcast to a larger shape (ONNX Expand)
  BroadcastTo: entry<ExpandConfig>('BroadcastTo', {
    config: expandConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const out = broadcastShapes(s, c.shape);
      if (!out || out.join(',') !== c.shape.join(',')) fail(name, `cannot broadcast [${s.join(',')}] to [${c.shape.join(',')}]`);
      return c.shape;
    },
    weights: noWeights,
    forward: (c, [x]) => broadcastTo(x, [x.shape[0], ...c.shape]),
  }),
  // hard_sigmoid max(0, min(1, αx + β)), hard_swish x·relu6(x + 3)/6, softplus, selu (α, γ), mish and a few more
  Pointwise: entry<PointwiseConfig>('Pointwise', {
    config: pointwiseConfig,
    arity: 1,
    outShape: (_c, [s]) => s,
    weights: noWeights,
    forward: (c, [x]) => pointwise(c, x),
  }),
  // elements begin, begin + step, … before end of one axis (ONNX Slice on that axis, indices already clamped)
  Slice: entry<SliceConfig>('Slice', {
    config: sliceConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const ax = axisOf(c.axis, s.length, name);
      const n = sliceIndices(c.begin, c.end, c.step).length;
      if (c.begin < 0 || c.begin >= s[ax] || c.end < -1 || c.end > s[ax] || n === 0) fail(name, `slice ${c.begin}:${c.end}:${c.step} of an axis of ${s[ax]} is empty or out of range`);
      return s.map((d, i) => (i === ax ? n : d));
    },
    weights: noWeights,
    forward: (c, [x]) => {
      const ax = axisOf(c.axis, x.rank - 1, 'Slice') + 1;
      if (c.step === 1) {
        const begin = x.shape.map((_, i) => (i === ax ? c.begin : 0));
        const sz = x.shape.map((d, i) => (i === ax ? c.end - c.begin : d));
        return tf.slice(x, begin, sz);
      }
      return tf.gather(x, tf.tensor1d(sliceIndices(c.begin, c.end, c.step), 'int32'), ax);
    },
  }),
  // constant indices along one axis (ONNX Gather): the axis becomes the indices' shape (none for one index)
  Gather: entry<GatherConfig>('Gather', {
    config: gatherConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const ax = axisOf(c.axis, s.length, name);
      if (size(c.indices_shape) !== c.indices.length || c.indices.some((i) => i >= s[ax])) fail(name, `indices [${c.indices.join(',')}] do not fit an axis of ${s[ax]}`);
      const out = [...s.slice(0, ax), ...c.indices_shape, ...s.slice(ax + 1)];
      if (!out.length) fail(name, 'gathers a single number per sample');
      return out;
    },
    weights: noWeights,
    forward: (c, [x]) => {
      const ax = axisOf(c.axis, x.rank - 1, 'Gather') + 1;
      const idx = c.indices_shape.length ? tf.tensor(c.indices, c.indices_shape, 'int32') : tf.scalar(c.indices[0], 'int32');
      return tf.gather(x, idx, ax);
    },
  }),
  // mean, sum, max or min over axes of a sample
  Reduce: entry<ReduceConfig>('Reduce', {
    config: reduceConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const axes = reduceAxes(c, s, name);
      const out = c.keepdims ? s.map((d, i) => (axes.includes(i) ? 1 : d)) : s.filter((_, i) => !axes.includes(i));
      if (!out.length) fail(name, 'reduces a sample to a single number without keepdims');
      return out;
    },
    weights: noWeights,
    forward: (c, [x]) => {
      const axes = reduceAxes(c, x.shape.slice(1), 'Reduce').map((a) => a + 1);
      const f = { mean: tf.mean, sum: tf.sum, max: tf.max, min: tf.min }[c.op];
      return f(x, axes, c.keepdims);
    },
  }),
  // softmax or log-softmax over any axis of a sample
  Softmax: entry<SoftmaxConfig>('Softmax', {
    config: softmaxConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      axisOf(c.axis, s.length, name);
      return s;
    },
    weights: noWeights,
    forward: (c, [x]) => {
      const ax = axisOf(c.axis, x.rank - 1, 'Softmax') + 1;
      if (ax === x.rank - 1) return c.log ? tf.logSoftmax(x) : tf.softmax(x);
      const z = tf.sub(x, tf.logSumExp(x, ax, true));
      return c.log ? z : tf.exp(z);
    },
  }),
  // the product of two activations over their last two axes, the others broadcast (q·kᵀ, attention·v)
  MatMul: entry<object>('MatMul', {
    config: matMulConfig,
    outShape: (_c, shapes, name) => {
      const [a, b] = shapes;
      if (shapes.length !== 2 || a.length < 2 || a.length !== b.length) fail(name, `multiplies [${shapes.map((s) => s.join(',')).join('] and [')}]: two inputs of one rank ≥ 2 per sample`);
      if (a[a.length - 1] !== b[b.length - 2]) fail(name, `cannot multiply [${a.join(',')}] by [${b.join(',')}]`);
      const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
      if (!batch) fail(name, `cannot broadcast the leading axes of [${a.join(',')}] and [${b.join(',')}]`);
      return [...batch, a[a.length - 2], b[b.length - 1]];
    },
    weights: noWeights,
    forward: (_c, [a, b]) => {
      const lead = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2))!;
      // tfjs multiplies batches of one shape: broadcast the leading axes first (its gradient sums them back)
      const aa = broadcastTo(a, [...lead, ...a.shape.slice(-2)]);
      const bb = broadcastTo(b, [...lead, ...b.shape.slice(-2)]);
      return tf.matMul(aa, bb);
    },
  }),
};
