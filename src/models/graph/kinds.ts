import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { InitKind } from '../types.js';
import { activate, activations, spatialOut, type GraphActivation } from '../ops.js';
import { momentsWithGradient } from './moments.js';
import { nativeBatchNormTraining, nativeLayerNorm, nativeDenseWithBias } from '../../backend/index.js';
import { tensorLayerKinds } from './tensor-kinds.js';
import { nearestModes, resize2d, resizeCoordinates } from './resize.js';
import { tableLayerClass } from './table-layer.js';
export { activate, activations, type GraphActivation } from '../ops.js';

/**
 * The Keras / tfjs-layers layer classes a `--model-json` graph may hold, one table entry each: how
 * its config is read (zod, Keras snake_case names), its output shape, its weights (in Keras order),
 * its pure forward, the same layer as a tfjs layer (exports), and how each weight is laid out in
 * PyTorch. Shapes never include the batch axis; images are NHWC (channels_last only).
 */

/** One weight of a layer: Keras name, shape, initialiser; a statistic is state, not a trained parameter. */
export interface LayerWeight {
  keras: string;
  shape: number[];
  init: InitKind;
  statistic?: boolean;
  /** PyTorch state_dict suffix */
  torch: 'weight' | 'bias' | 'running_mean' | 'running_var';
}

/** How BatchNormalization normalizes in one call: batch statistics (training) or given ones (inference). */
export interface NormContext {
  /** inference: the layer's [moving_mean, moving_variance] */
  statistics?: [tf.Tensor, tf.Tensor];
  /** training: receives the batch mean and (biased) variance this call used */
  collect?: (mean: tf.Tensor, variance: tf.Tensor) => void;
}

export interface LayerKind<C> {
  config: z.ZodType<C, z.ZodTypeDef, unknown>;
  /** number of inputs (undefined: two or more) */
  arity?: 1;
  outShape(cfg: C, inShapes: number[][], name: string): number[];
  weights(cfg: C, inShapes: number[][]): LayerWeight[];
  /** `params`: this layer's trained weights in `weights` order, statistics left out */
  forward(cfg: C, xs: tf.Tensor[], params: tf.Tensor[], norm: NormContext): tf.Tensor;
  /** the final activation (an output's loss is inferred from it; the forward can stop before it) */
  activation?(cfg: C): GraphActivation;
  /** the forward without the final activation (logits) */
  forwardLogits?(cfg: C, xs: tf.Tensor[], params: tf.Tensor[], norm: NormContext): tf.Tensor;
  tfjs(cfg: C, name: string): tf.layers.Layer;
  /** a weight in PyTorch layout (default: unchanged) */
  toTorch?(cfg: C, weightIndex: number, w: tf.Tensor): tf.Tensor;
}

const pair = z.union([z.number().int().positive(), z.tuple([z.number().int().positive(), z.number().int().positive()])]).transform((v): [number, number] => (typeof v === 'number' ? [v, v] : v));
const padding = z.enum(['valid', 'same']).default('valid');
const activation = z.enum(activations).default('linear');
const channelsLast = z.literal('channels_last').nullish();
/** A Keras initializer → ours (uniform versions; anything else starts as Glorot-uniform, Keras' default). */
const initializer = z
  .object({ class_name: z.string(), config: z.object({ scale: z.number().optional(), mode: z.string().optional() }).passthrough().nullish() })
  .passthrough()
  .nullish()
  .transform((v): InitKind => {
    const n = (v?.class_name ?? 'GlorotUniform').replace(/_/g, '').toLowerCase();
    if (n === 'zeros') return 'zeros';
    if (n === 'ones') return 'ones';
    if (n === 'heuniform' || n === 'henormal') return 'he-uniform';
    // He is variance scaling with scale 2 over fan_in (what tfjs writes for heUniform)
    if (n === 'variancescaling' && v?.config?.scale === 2 && v.config.mode === 'fan_in') return 'he-uniform';
    return 'glorot-uniform';
  });

/** A He start said in the tfjs layer too (Glorot-uniform is its default), so a checkpoint's topology says how the layer starts. */
const tfjsInitializer = (init: InitKind): { kernelInitializer?: 'heUniform' } => (init === 'he-uniform' ? { kernelInitializer: 'heUniform' } : {});

function needImage(inShape: number[], name: string, what: string): [number, number, number] {
  if (inShape.length !== 3) throw new Error(`layer ${name}: ${what} needs [H,W,C] input, got [${inShape.join(',')}]`);
  return [inShape[0], inShape[1], inShape[2]];
}

const noWeights = (): LayerWeight[] => [];
/** The shape of an elementwise merge (Add, Multiply): two or more inputs of one shape, no broadcasting. */
const oneShape = (cls: string, shapes: number[][], name: string): number[] => {
  if (shapes.length < 2 || shapes.some((s) => s.join(',') !== shapes[0].join(','))) throw new Error(`layer ${name}: ${cls} needs two or more inputs of one shape, got ${shapes.map((s) => `[${s.join(',')}]`).join(' ')}`);
  return shapes[0];
};
const bias = (use: boolean, n: number): LayerWeight[] => (use ? [{ keras: 'bias', shape: [n], init: 'zeros', torch: 'bias' }] : []);

const denseConfig = z.object({ units: z.number().int().positive(), activation, use_bias: z.boolean().default(true), kernel_initializer: initializer });
type DenseConfig = z.infer<typeof denseConfig>;
/** Dense on the last axis (Keras: a [.., in] input gives [.., units]); rank 2 is the plain product. */
const denseLogits = (c: DenseConfig, [x]: tf.Tensor[], p: tf.Tensor[]) => {
  const flat = x.rank === 2 ? x : x.reshape([-1, x.shape[x.rank - 1]]);
  // product and bias in one pass on the native kernels (src/backend/wasm/dense.ts), the same values
  const fused = c.use_bias && flat.dtype === 'float32' && (flat.shape[1] ?? 0) > 0 ? nativeDenseWithBias() : null;
  const y1 = fused
    ? fused(flat as tf.Tensor2D, p[0] as tf.Tensor2D, p[1] as tf.Tensor1D)
    : c.use_bias
      ? tf.add(tf.matMul(flat as tf.Tensor2D, p[0] as tf.Tensor2D), p[1])
      : tf.matMul(flat as tf.Tensor2D, p[0] as tf.Tensor2D);
  return x.rank === 2 ? y1 : y1.reshape([...x.shape.slice(0, -1), c.units]);
};

/** What Conv2D and DepthwiseConv2D configs share (dilation 1 only). */
const windowFields = {
  kernel_size: pair,
  strides: pair.default(1),
  padding,
  data_format: channelsLast,
  dilation_rate: z.union([z.literal(1), z.tuple([z.literal(1), z.literal(1)])]).nullish(),
  activation,
  use_bias: z.boolean().default(true),
};
const convConfig = z.object({ ...windowFields, filters: z.number().int().positive(), kernel_initializer: initializer });
type ConvConfig = z.infer<typeof convConfig>;
const convLogits = (c: ConvConfig, [x]: tf.Tensor[], p: tf.Tensor[]) => {
  const y = tf.conv2d(x as tf.Tensor4D, p[0] as tf.Tensor4D, c.strides, c.padding);
  return c.use_bias ? tf.add(y, p[1]) : y;
};

const depthwiseConfig = z.object({ ...windowFields, depth_multiplier: z.number().int().positive().default(1), depthwise_initializer: initializer });
type DepthwiseConfig = z.infer<typeof depthwiseConfig>;
const depthwiseLogits = (c: DepthwiseConfig, [x]: tf.Tensor[], p: tf.Tensor[]) => {
  const y = tf.depthwiseConv2d(x as tf.Tensor4D, p[0] as tf.Tensor4D, c.strides, c.padding);
  return c.use_bias ? tf.add(y, p[1]) : y;
};

const poolConfig = z.object({ pool_size: pair.default(2), strides: pair.nullish(), padding, data_format: channelsLast });
type PoolConfig = z.infer<typeof poolConfig>;
const poolShape = (c: PoolConfig, [s]: number[][], name: string) => {
  const [h, w, ch] = needImage(s, name, 'pooling');
  const st = c.strides ?? c.pool_size;
  return [spatialOut(h, c.pool_size[0], st[0], c.padding), spatialOut(w, c.pool_size[1], st[1], c.padding), ch];
};

/** Keras' axis -1 or the last axis (rank counts the batch axis); other axes are refused. */
const lastAxis = z
  .union([z.number().int(), z.array(z.number().int()).length(1).transform((a) => a[0])])
  .default(-1);

const bnConfig = z.object({ axis: lastAxis, momentum: z.number().default(0.99), epsilon: z.number().positive().default(1e-3), center: z.boolean().default(true), scale: z.boolean().default(true) });
type BnConfig = z.infer<typeof bnConfig>;

const lnConfig = z.object({ axis: lastAxis, epsilon: z.number().positive().default(1e-3), center: z.boolean().default(true), scale: z.boolean().default(true) });
type LnConfig = z.infer<typeof lnConfig>;

function checkLastAxis(axis: number, inShape: number[], name: string): void {
  if (axis !== -1 && axis !== inShape.length) throw new Error(`layer ${name}: normalization over axis ${axis} is not supported (only the last axis, -1)`);
}

/** gamma (scale) then beta (center): the order Keras keeps them in. */
function affine(c: { center: boolean; scale: boolean }, n: number): LayerWeight[] {
  return [
    ...(c.scale ? [{ keras: 'gamma', shape: [n], init: 'ones', torch: 'weight' } as LayerWeight] : []),
    ...(c.center ? [{ keras: 'beta', shape: [n], init: 'zeros', torch: 'bias' } as LayerWeight] : []),
  ];
}

/** [γ, β] for a fused normalisation over n channels: the parameters, or ones and zeros where a layer has none. */
function affineOrIdentity(c: { center: boolean; scale: boolean }, p: tf.Tensor[], n: number): [tf.Tensor, tf.Tensor] {
  let i = 0;
  const gamma = c.scale ? p[i++] : tf.ones([n]);
  return [gamma, c.center ? p[i] : tf.zeros([n])];
}

function applyAffine(c: { center: boolean; scale: boolean }, y: tf.Tensor, p: tf.Tensor[]): tf.Tensor {
  let i = 0;
  if (c.scale) y = tf.mul(y, p[i++]);
  if (c.center) y = tf.add(y, p[i]);
  return y;
}

const reluConfig = z.object({ max_value: z.number().nullish(), negative_slope: z.number().default(0), threshold: z.number().default(0) });
type ReluConfig = z.infer<typeof reluConfig>;

const upConfig = z.object({
  size: pair.default(2),
  data_format: channelsLast,
  interpolation: z.enum(['nearest', 'bilinear'], { errorMap: () => ({ message: "interpolation must be 'nearest' or 'bilinear' (bicubic, area and lanczos are not supported)" }) }).default('nearest'),
});
type UpConfig = z.infer<typeof upConfig>;
/** [N,H,W,C] → [N,H·sh,W·sw,C]: nearest repeats each pixel sh×sw times; bilinear is tfjs' resizeBilinear. */
function upSample(c: UpConfig, x: tf.Tensor): tf.Tensor {
  const [n, h, w, ch] = x.shape as [number, number, number, number];
  const [sh, sw] = c.size;
  // tfjs' resizeBilinear (source row r/s), computed by gathers: tfjs-core's own gradient of it is wrong for H ≠ W
  if (c.interpolation === 'bilinear') return resize2d(x, [h * sh, w * sw], { interpolation: 'bilinear', coordinate: 'asymmetric', nearestMode: 'floor' });
  // broadcasting against ones keeps the gradient a plain sum over the copies (Tile's needs rank ≤ 4)
  const rows = sh === 1 ? x : tf.mul(x.reshape([n, h, 1, w * ch]), tf.ones([1, 1, sh, 1])).reshape([n, h * sh, w, ch]);
  return sw === 1 ? rows : tf.mul(rows.reshape([n * h * sh, w, 1, ch]), tf.ones([1, 1, sw, 1])).reshape([n, h * sh, w * sw, ch]);
}

const convTransposeConfig = z.object({
  ...windowFields,
  filters: z.number().int().positive(),
  kernel_initializer: initializer,
  output_padding: z.null({ invalid_type_error: 'output_padding is not supported (leave it null; crop or pad after the layer)' }).nullish(),
});
type ConvTransposeConfig = z.infer<typeof convTransposeConfig>;
/** tfjs-layers' deconvLength: 'same' gives n·s, 'valid' n·s + max(k − s, 0). */
const deconvOut = (n: number, k: number, s: number, p: 'valid' | 'same') => (p === 'same' ? n * s : n * s + Math.max(k - s, 0));
const convTransposeLogits = (c: ConvTransposeConfig, [x]: tf.Tensor[], p: tf.Tensor[]) => {
  const [n, h, w] = x.shape;
  const out: [number, number, number, number] = [n, deconvOut(h, c.kernel_size[0], c.strides[0], c.padding), deconvOut(w, c.kernel_size[1], c.strides[1], c.padding), c.filters];
  const y = tf.conv2dTranspose(x as tf.Tensor4D, p[0] as tf.Tensor4D, out, c.strides, c.padding);
  return c.use_bias ? tf.add(y, p[1]) : y;
};

const nonNegative = z.number().int().nonnegative();
/** Keras' per-side amounts of ZeroPadding2D and Cropping2D: n, [rows, cols] or [[top, bottom], [left, right]]. */
const sides = (dflt: number) =>
  z
    .union([nonNegative, z.tuple([nonNegative, nonNegative]), z.tuple([z.tuple([nonNegative, nonNegative]), z.tuple([nonNegative, nonNegative])])])
    .default(dflt)
    .transform((v): [[number, number], [number, number]] => (typeof v === 'number' ? [[v, v], [v, v]] : typeof v[0] === 'number' ? [[v[0], v[0]], [v[1] as number, v[1] as number]] : (v as [[number, number], [number, number]])));
const croppingConfig = z.object({ cropping: sides(0), data_format: channelsLast });
type CroppingConfig = z.infer<typeof croppingConfig>;

/** extra's own Resize2D (ONNX Resize on an image: any size, the coordinate and rounding modes PyTorch writes). */
// (tf.loadLayersModel hands a layer its config camel-cased, keys and string values: nearestMode: 'roundPreferFloor')
const snake = (v: unknown) => (typeof v === 'string' ? v.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`) : v);
const resizeConfig = z.preprocess(
  (v) => (v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [snake(k) as string, k === 'size' ? x : snake(x)])) : v),
  z.object({
    size: z.tuple([z.number().int().positive(), z.number().int().positive()]),
    interpolation: z.enum(['nearest', 'bilinear']),
    coordinate: z.enum(resizeCoordinates),
    nearest_mode: z.enum(nearestModes).default('floor'),
  }),
);
type ResizeConfig = z.infer<typeof resizeConfig>;
const resizeEntry = {
  config: resizeConfig,
  outShape: (c: ResizeConfig, [s]: number[][], name: string) => [...c.size, needImage(s, name, 'Resize2D')[2]],
  weights: noWeights,
  forward: (c: ResizeConfig, [x]: tf.Tensor[]) => resize2d(x, c.size, { interpolation: c.interpolation, coordinate: c.coordinate, nearestMode: c.nearest_mode }),
};

const concatConfig = z.object({ axis: z.number().int().default(-1) });

export const layerKinds: Readonly<Record<string, LayerKind<never>>> = {
  // extra's own classes for ONNX networks (grouped convolutions, slices, broadcasting, attention): tensor-kinds.ts
  ...tensorLayerKinds,
  InputLayer: kind({ config: z.object({}).passthrough(), outShape: (_c, [s]) => s, weights: noWeights, forward: (_c, [x]) => x, tfjs: () => { throw new Error('InputLayer is built by tf.input'); } }),
  Dense: kind<DenseConfig>({
    config: denseConfig,
    arity: 1,
    outShape: (c, [s]) => [...s.slice(0, -1), c.units],
    weights: (c, [s]) => [{ keras: 'kernel', shape: [s[s.length - 1], c.units], init: c.kernel_initializer, torch: 'weight' }, ...bias(c.use_bias, c.units)],
    forward: (c, xs, p) => activate(denseLogits(c, xs, p), c.activation),
    forwardLogits: denseLogits,
    activation: (c) => c.activation,
    tfjs: (c, name) => tf.layers.dense({ name, units: c.units, activation: c.activation, useBias: c.use_bias, ...tfjsInitializer(c.kernel_initializer) }),
    toTorch: (_c, i, w) => (i === 0 ? tf.transpose(w) : w),
  }),
  Conv2D: kind<ConvConfig>({
    config: convConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const [h, w] = needImage(s, name, 'Conv2D');
      return [spatialOut(h, c.kernel_size[0], c.strides[0], c.padding), spatialOut(w, c.kernel_size[1], c.strides[1], c.padding), c.filters];
    },
    weights: (c, [s]) => [{ keras: 'kernel', shape: [c.kernel_size[0], c.kernel_size[1], s[2], c.filters], init: c.kernel_initializer, torch: 'weight' }, ...bias(c.use_bias, c.filters)],
    forward: (c, xs, p) => activate(convLogits(c, xs, p), c.activation),
    forwardLogits: convLogits,
    activation: (c) => c.activation,
    tfjs: (c, name) => tf.layers.conv2d({ name, filters: c.filters, kernelSize: c.kernel_size, strides: c.strides, padding: c.padding, activation: c.activation, useBias: c.use_bias, ...tfjsInitializer(c.kernel_initializer) }),
    // [kh,kw,in,out] → [out,in,kh,kw]
    toTorch: (_c, i, w) => (i === 0 ? tf.transpose(w, [3, 2, 0, 1]) : w),
  }),
  DepthwiseConv2D: kind<DepthwiseConfig>({
    config: depthwiseConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const [h, w, ch] = needImage(s, name, 'DepthwiseConv2D');
      return [spatialOut(h, c.kernel_size[0], c.strides[0], c.padding), spatialOut(w, c.kernel_size[1], c.strides[1], c.padding), ch * c.depth_multiplier];
    },
    weights: (c, [s]) => [
      { keras: 'depthwise_kernel', shape: [c.kernel_size[0], c.kernel_size[1], s[2], c.depth_multiplier], init: c.depthwise_initializer, torch: 'weight' },
      ...bias(c.use_bias, s[2] * c.depth_multiplier),
    ],
    forward: (c, xs, p) => activate(depthwiseLogits(c, xs, p), c.activation),
    forwardLogits: depthwiseLogits,
    activation: (c) => c.activation,
    tfjs: (c, name) => tf.layers.depthwiseConv2d({ name, kernelSize: c.kernel_size, strides: c.strides, padding: c.padding, depthMultiplier: c.depth_multiplier, activation: c.activation, useBias: c.use_bias }),
    // [kh,kw,in,mult] → PyTorch Conv2d(groups=in): [in·mult, 1, kh, kw], output channel c·mult + m
    toTorch: (_c, i, w) => {
      if (i !== 0) return w;
      const [kh, kw, cin, mult] = w.shape as [number, number, number, number];
      return tf.transpose(w, [2, 3, 0, 1]).reshape([cin * mult, 1, kh, kw]);
    },
  }),
  MaxPooling2D: kind<PoolConfig>({
    config: poolConfig,
    arity: 1,
    outShape: poolShape,
    weights: noWeights,
    forward: (c, [x]) => tf.maxPool(x as tf.Tensor4D, c.pool_size, c.strides ?? c.pool_size, c.padding),
    tfjs: (c, name) => tf.layers.maxPooling2d({ name, poolSize: c.pool_size, strides: c.strides ?? c.pool_size, padding: c.padding }),
  }),
  AveragePooling2D: kind<PoolConfig>({
    config: poolConfig,
    arity: 1,
    outShape: poolShape,
    weights: noWeights,
    forward: (c, [x]) => tf.avgPool(x as tf.Tensor4D, c.pool_size, c.strides ?? c.pool_size, c.padding),
    tfjs: (c, name) => tf.layers.averagePooling2d({ name, poolSize: c.pool_size, strides: c.strides ?? c.pool_size, padding: c.padding }),
  }),
  GlobalAveragePooling2D: kind<{ keepdims: boolean }>({
    config: z.object({ data_format: channelsLast, keepdims: z.literal(false).default(false) }),
    arity: 1,
    outShape: (_c, [s], name) => [needImage(s, name, 'GlobalAveragePooling2D')[2]],
    weights: noWeights,
    forward: (_c, [x]) => tf.mean(x, [1, 2]),
    tfjs: (_c, name) => tf.layers.globalAveragePooling2d({ name }),
  }),
  Flatten: kind<object>({
    config: z.object({ data_format: channelsLast }),
    arity: 1,
    outShape: (_c, [s]) => [s.reduce((a, b) => a * b, 1)],
    weights: noWeights,
    forward: (_c, [x]) => x.reshape([x.shape[0], -1]),
    tfjs: (_c, name) => tf.layers.flatten({ name }),
  }),
  Reshape: kind<{ target_shape: number[] }>({
    config: z.object({ target_shape: z.array(z.number().int().refine((v) => v > 0 || v === -1, 'a target_shape entry must be positive or -1')).min(1) }),
    arity: 1,
    outShape: (c, [s], name) => {
      const n = s.reduce((a, b) => a * b, 1);
      const known = c.target_shape.filter((v) => v > 0).reduce((a, b) => a * b, 1);
      const free = c.target_shape.filter((v) => v === -1).length;
      const out = c.target_shape.map((v) => (v === -1 ? n / known : v));
      if (free > 1 || out.reduce((a, b) => a * b, 1) !== n || !out.every(Number.isInteger)) throw new Error(`layer ${name}: cannot reshape [${s.join(',')}] to [${c.target_shape.join(',')}]`);
      return out;
    },
    weights: noWeights,
    forward: (c, [x]) => x.reshape([x.shape[0], ...c.target_shape]),
    tfjs: (c, name) => tf.layers.reshape({ name, targetShape: c.target_shape }),
  }),
  Permute: kind<{ dims: number[] }>({
    config: z.object({ dims: z.array(z.number().int().positive()).min(1) }),
    arity: 1,
    outShape: (c, [s], name) => {
      const sorted = [...c.dims].sort((a, b) => a - b);
      if (c.dims.length !== s.length || sorted.some((d, i) => d !== i + 1)) throw new Error(`layer ${name}: Permute dims [${c.dims.join(',')}] are not a permutation of 1..${s.length}`);
      return c.dims.map((d) => s[d - 1]);
    },
    weights: noWeights,
    forward: (c, [x]) => tf.transpose(x, [0, ...c.dims]),
    tfjs: (c, name) => tf.layers.permute({ name, dims: c.dims }),
  }),
  ZeroPadding2D: kind<{ padding: [[number, number], [number, number]] }>({
    config: z.object({ padding: sides(1), data_format: channelsLast }),
    arity: 1,
    outShape: (c, [s], name) => {
      const [h, w, ch] = needImage(s, name, 'ZeroPadding2D');
      return [h + c.padding[0][0] + c.padding[0][1], w + c.padding[1][0] + c.padding[1][1], ch];
    },
    weights: noWeights,
    forward: (c, [x]) => tf.pad(x, [[0, 0], c.padding[0], c.padding[1], [0, 0]]),
    tfjs: (c, name) => tf.layers.zeroPadding2d({ name, padding: c.padding }),
  }),
  // Keras / tfjs UpSampling2D: nearest repeats each pixel (exact, by broadcasting); bilinear is tfjs'
  // resizeBilinear without aligned corners or half-pixel centers (source row r/s), as tfjs-layers computes it
  UpSampling2D: kind<UpConfig>({
    config: upConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const [h, w, ch] = needImage(s, name, 'UpSampling2D');
      return [h * c.size[0], w * c.size[1], ch];
    },
    weights: noWeights,
    forward: (c, [x]) => upSample(c, x),
    tfjs: (c, name) => tf.layers.upSampling2d({ name, size: c.size, interpolation: c.interpolation }),
  }),
  // the gradient of a Conv2D with respect to its input: kernel [kh,kw,filters,in] as Keras and tfjs keep it
  Conv2DTranspose: kind<ConvTransposeConfig>({
    config: convTransposeConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const [h, w] = needImage(s, name, 'Conv2DTranspose');
      return [deconvOut(h, c.kernel_size[0], c.strides[0], c.padding), deconvOut(w, c.kernel_size[1], c.strides[1], c.padding), c.filters];
    },
    weights: (c, [s]) => [{ keras: 'kernel', shape: [c.kernel_size[0], c.kernel_size[1], c.filters, s[2]], init: c.kernel_initializer, torch: 'weight' }, ...bias(c.use_bias, c.filters)],
    forward: (c, xs, p) => activate(convTransposeLogits(c, xs, p), c.activation),
    forwardLogits: convTransposeLogits,
    activation: (c) => c.activation,
    tfjs: (c, name) => tf.layers.conv2dTranspose({ name, filters: c.filters, kernelSize: c.kernel_size, strides: c.strides, padding: c.padding, activation: c.activation, useBias: c.use_bias, ...tfjsInitializer(c.kernel_initializer) }),
    // [kh,kw,out,in] → PyTorch ConvTranspose2d's [in,out,kh,kw] (both correlate: no flip)
    toTorch: (_c, i, w) => (i === 0 ? tf.transpose(w, [3, 2, 0, 1]) : w),
  }),
  Cropping2D: kind<CroppingConfig>({
    config: croppingConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      const [h, w, ch] = needImage(s, name, 'Cropping2D');
      const out = [h - c.cropping[0][0] - c.cropping[0][1], w - c.cropping[1][0] - c.cropping[1][1], ch];
      if (out[0] < 1 || out[1] < 1) throw new Error(`layer ${name}: cropping [[${c.cropping[0].join(',')}],[${c.cropping[1].join(',')}]] leaves nothing of a ${h}×${w} image`);
      return out;
    },
    weights: noWeights,
    forward: (c, [x]) => {
      const [, h, w] = x.shape;
      return tf.slice(x, [0, c.cropping[0][0], c.cropping[1][0], 0], [-1, h - c.cropping[0][0] - c.cropping[0][1], w - c.cropping[1][0] - c.cropping[1][1], -1]);
    },
    tfjs: (c, name) => tf.layers.cropping2D({ name, cropping: c.cropping }),
  }),
  // ONNX Resize where tfjs' UpSampling2D does not compute the same (a tfjs layer of extra's own: table-layer.ts)
  Resize2D: kind<ResizeConfig>({ ...resizeEntry, arity: 1, tfjs: tableLayerClass('Resize2D', resizeEntry) }),
  // x·scale + offset with scalar scale and offset (Keras' Rescaling): the constant arithmetic of imported graphs
  Rescaling: kind<{ scale: number; offset: number }>({
    config: z.object({ scale: z.number(), offset: z.number().default(0) }),
    arity: 1,
    outShape: (_c, [s]) => s,
    weights: noWeights,
    forward: (c, [x]) => (c.offset === 0 ? tf.mul(x, c.scale) : tf.add(tf.mul(x, c.scale), c.offset)),
    tfjs: (c, name) => tf.layers.rescaling({ name, scale: c.scale, offset: c.offset }),
  }),
  // Dropout is the identity: extra's forward is deterministic (bit-identical resume), so it trains without it
  Dropout: kind<{ rate: number }>({
    config: z.object({ rate: z.number().min(0).max(1) }),
    arity: 1,
    outShape: (_c, [s]) => s,
    weights: noWeights,
    forward: (_c, [x]) => x,
    tfjs: (c, name) => tf.layers.dropout({ name, rate: c.rate }),
  }),
  Activation: kind<{ activation: GraphActivation }>({
    config: z.object({ activation: z.enum(activations) }),
    arity: 1,
    outShape: (_c, [s]) => s,
    weights: noWeights,
    forward: (c, [x]) => activate(x, c.activation),
    forwardLogits: (_c, [x]) => x,
    activation: (c) => c.activation,
    tfjs: (c, name) => tf.layers.activation({ name, activation: c.activation }),
  }),
  ReLU: kind<ReluConfig>({
    config: reluConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      if (c.negative_slope !== 0 || c.threshold !== 0) throw new Error(`layer ${name}: ReLU with negative_slope or threshold is not supported (use LeakyReLU)`);
      return s;
    },
    weights: noWeights,
    forward: (c, [x]) => (c.max_value == null ? tf.relu(x) : tf.clipByValue(x, 0, c.max_value)),
    tfjs: (c, name) => tf.layers.reLU({ name, ...(c.max_value == null ? {} : { maxValue: c.max_value }) }),
  }),
  LeakyReLU: kind<{ alpha: number }>({
    // Keras 2 / tfjs call the slope `alpha`, Keras 3 `negative_slope`
    config: z.object({ alpha: z.number().optional(), negative_slope: z.number().optional() }).transform((c) => ({ alpha: c.alpha ?? c.negative_slope ?? 0.3 })),
    arity: 1,
    outShape: (_c, [s]) => s,
    weights: noWeights,
    forward: (c, [x]) => tf.leakyRelu(x, c.alpha),
    tfjs: (c, name) => tf.layers.leakyReLU({ name, alpha: c.alpha }),
  }),
  BatchNormalization: kind<BnConfig>({
    config: bnConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      checkLastAxis(c.axis, s, name);
      return s;
    },
    weights: (c, [s]) => {
      const n = s[s.length - 1];
      return [
        ...affine(c, n),
        { keras: 'moving_mean', shape: [n], init: 'zeros', statistic: true, torch: 'running_mean' },
        { keras: 'moving_variance', shape: [n], init: 'ones', statistic: true, torch: 'running_var' },
      ];
    },
    forward: (c, [x], p, norm) => {
      if (!norm.statistics && !norm.collect && x.dtype === 'float32') {
        // training on the native kernels: the normalisation and its gradient in a few passes (src/backend/wasm/batch-norm.ts)
        const fused = nativeBatchNormTraining();
        if (fused) return fused(x, ...affineOrIdentity(c, p, x.shape[x.rank - 1]), c.epsilon);
      }
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (norm.statistics) [mean, variance] = norm.statistics;
      else {
        // training: the batch's own moments over every axis but the channels (biased variance, as Keras)
        const m = momentsWithGradient(x, Array.from({ length: x.rank - 1 }, (_, i) => i), false);
        mean = m.mean;
        variance = m.variance;
        norm.collect?.(mean, variance);
      }
      return applyAffine(c, tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, c.epsilon))), p);
    },
    tfjs: (c, name) => tf.layers.batchNormalization({ name, axis: -1, momentum: c.momentum, epsilon: c.epsilon, center: c.center, scale: c.scale }),
  }),
  LayerNormalization: kind<LnConfig>({
    config: lnConfig,
    arity: 1,
    outShape: (c, [s], name) => {
      checkLastAxis(c.axis, s, name);
      return s;
    },
    weights: (c, [s]) => affine(c, s[s.length - 1]),
    forward: (c, [x], p) => {
      // on the native kernels: the normalisation and its gradient in a few passes (src/backend/wasm/layer-norm.ts)
      const fused = x.dtype === 'float32' ? nativeLayerNorm() : null;
      if (fused) return fused(x, ...affineOrIdentity(c, p, x.shape[x.rank - 1]), c.epsilon);
      const m = momentsWithGradient(x, [-1], true);
      return applyAffine(c, tf.div(tf.sub(x, m.mean), tf.sqrt(tf.add(m.variance, c.epsilon))), p);
    },
    tfjs: (c, name) => tf.layers.layerNormalization({ name, axis: -1, epsilon: c.epsilon, center: c.center, scale: c.scale }),
  }),
  Add: kind<object>({
    config: z.object({}).passthrough(),
    outShape: (_c, shapes, name) => oneShape('Add', shapes, name),
    weights: noWeights,
    forward: (_c, xs) => tf.addN(xs),
    tfjs: (_c, name) => tf.layers.add({ name }),
  }),
  Multiply: kind<object>({
    config: z.object({}).passthrough(),
    outShape: (_c, shapes, name) => oneShape('Multiply', shapes, name),
    weights: noWeights,
    forward: (_c, xs) => xs.slice(1).reduce((a, b) => tf.mul(a, b), xs[0]),
    tfjs: (_c, name) => tf.layers.multiply({ name }),
  }),
  Concatenate: kind<{ axis: number }>({
    config: concatConfig,
    outShape: (c, shapes, name) => {
      const r = shapes[0].length;
      const ax = c.axis < 0 ? r + 1 + c.axis : c.axis;
      const bad = shapes.length < 2 || ax < 1 || ax > r || shapes.some((s) => s.length !== r || s.some((d, i) => i !== ax - 1 && d !== shapes[0][i]));
      if (bad) throw new Error(`layer ${name}: cannot concatenate ${shapes.map((s) => `[${s.join(',')}]`).join(' ')} on axis ${c.axis}`);
      return shapes[0].map((d, i) => (i === ax - 1 ? shapes.reduce((a, s) => a + s[i], 0) : d));
    },
    weights: noWeights,
    forward: (c, xs) => tf.concat(xs, c.axis),
    tfjs: (c, name) => tf.layers.concatenate({ name, axis: c.axis }),
  }),
};

/** Erase a kind's config type so the kinds can share one table (each entry parses its own config). */
function kind<C>(k: LayerKind<C>): LayerKind<never> {
  return k as unknown as LayerKind<never>;
}

export const layerClassNames: readonly string[] = Object.keys(layerKinds);
