import { ExtraInputError } from '../../errors.js';
import { modelGraph } from '../registry.js';
import type { FunctionalModel } from '../types.js';
import type { CompiledGraph } from '../graph/compile.js';
import { encodeOnnx, FLOAT, INT64 } from './proto.js';

/**
 * A layer graph (built-in, Keras or any other) written as an ONNX model, opset 17, in NCHW as
 * PyTorch and onnxruntime expect, with the state_dict tensors as initializers under their names.
 * Each Keras value of rank 3 ([H,W,C] inside) is an NCHW tensor in the file; a flattened image
 * stays an image until a reader needs it flat, so a Dense (whose rows the state_dict holds in NCHW
 * flatten order) reads ONNX's Flatten, and any other reader the NHWC order extra computes in.
 */
const OPSET = 17;

type Attr = { name: string; type: number; i?: number; f?: number; ints?: number[]; floats?: number[]; s?: Uint8Array };
type NodeObj = { input: string[]; output: string[]; name: string; op_type: string; attribute: Attr[] };
const int = (name: string, i: number): Attr => ({ name, type: 2, i });
const float = (name: string, f: number): Attr => ({ name, type: 1, f });
const ints = (name: string, v: number[]): Attr => ({ name, type: 7, ints: v });
const str = (name: string, v: string): Attr => ({ name, type: 3, s: new TextEncoder().encode(v) });

/** How one Keras value is held in the ONNX graph. */
type Held = { kind: 'plain'; name: string; rank: number } | { kind: 'image'; name: string } | { kind: 'flatOfImage'; image: string };

export function graphToOnnx(model: FunctionalModel, stateDict: { name: string; shape: number[]; data: Float32Array }[]): Uint8Array {
  const g: CompiledGraph = modelGraph(model.spec);
  const nodes: NodeObj[] = [];
  const initializers: Record<string, unknown>[] = [];
  const byName = new Map(stateDict.map((t) => [t.name, t]));
  let counter = 0;
  const fresh = (base: string) => `${base}_${counter++}`;
  const emit = (op: string, input: string[], attribute: Attr[] = [], base = op): string => {
    const out = fresh(base);
    nodes.push({ input, output: [out], name: out, op_type: op, attribute });
    return out;
  };
  const constant = (values: number[], dims: number[], dtype: 'float' | 'int64'): string => {
    const name = fresh('const');
    const raw = dtype === 'float' ? new Uint8Array(Float32Array.from(values).buffer) : new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
    initializers.push({ name, dims, data_type: dtype === 'float' ? FLOAT : INT64, raw_data: raw });
    return name;
  };
  const weight = (name: string): string => {
    const t = byName.get(name);
    if (!t) throw new Error(`internal: the state_dict lacks ${name}`);
    if (!initializers.some((i) => i.name === name)) initializers.push({ name, dims: t.shape, data_type: FLOAT, raw_data: new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)) });
    return name;
  };
  const inShape = g.inputShape;
  const input = 'input';
  const held: Held[] = [inShape.length === 3 ? { kind: 'image', name: input } : { kind: 'plain', name: input, rank: inShape.length }];

  /** The value with its elements in extra's (NHWC) order: images transposed, flattened images flattened in HWC order. */
  const physical = (h: Held): string => {
    if (h.kind === 'plain') return h.name;
    if (h.kind === 'image') return emit('Transpose', [h.name], [ints('perm', [0, 2, 3, 1])], 'to_nhwc');
    return emit('Flatten', [emit('Transpose', [h.image], [ints('perm', [0, 2, 3, 1])], 'to_nhwc')], [int('axis', 1)]);
  };
  /** A tensor laid out as the ONNX graph holds it (images NCHW; a flattened image flattened HWC). */
  const plainOrImage = (h: Held): string => (h.kind === 'flatOfImage' ? physical(h) : h.name);
  /** An elementwise op: applied to the image before flattening, which it commutes with. */
  const elementwise = (h: Held, f: (x: string) => string): Held => (h.kind === 'flatOfImage' ? { kind: 'flatOfImage', image: f(h.image) } : h.kind === 'image' ? { kind: 'image', name: f(h.name) } : { kind: 'plain', name: f(h.name), rank: h.rank });
  const activation = (h: Held, act: string, channelsAxis: number): Held => {
    switch (act) {
      case 'linear':
        return h;
      case 'relu':
        return elementwise(h, (x) => emit('Relu', [x]));
      case 'elu':
        return elementwise(h, (x) => emit('Elu', [x], [float('alpha', 1)]));
      case 'tanh':
        return elementwise(h, (x) => emit('Tanh', [x]));
      case 'sigmoid':
        return elementwise(h, (x) => emit('Sigmoid', [x]));
      case 'gelu':
        // the exact GELU x·(1 + erf(x/√2))/2 (the Gelu op needs opset 20)
        return elementwise(h, (x) => emit('Mul', [emit('Mul', [x, emit('Add', [emit('Erf', [emit('Div', [x, constant([Math.SQRT2], [], 'float')])]), constant([1], [], 'float')])]), constant([0.5], [], 'float')]));
      case 'softmax': {
        const x = plainOrImage(h);
        return h.kind === 'image' ? { kind: 'image', name: emit('Softmax', [x], [int('axis', channelsAxis)]) } : { kind: 'plain', name: emit('Softmax', [x], [int('axis', -1)]), rank: h.kind === 'plain' ? h.rank : 1 };
      }
      default:
        throw new ExtraInputError(`export --format onnx: activation ${act} has no ONNX form here`);
    }
  };
  /** TF-'same' pads [top, left, bottom, right] of a window over an [H, W] image. */
  const samePads = (hw: number[], k: number[], s: number[]) => {
    const t = [0, 1].map((i) => Math.max((Math.ceil(hw[i] / s[i]) - 1) * s[i] + k[i] - hw[i], 0));
    return [t[0] >> 1, t[1] >> 1, t[0] - (t[0] >> 1), t[1] - (t[1] >> 1)];
  };
  const shapes = [inShape, ...g.nodes.map((n) => n.outShape)];
  const image = (h: Held, what: string): string => {
    if (h.kind !== 'image') throw new ExtraInputError(`export --format onnx: ${what} reads a value that is not an image`);
    return h.name;
  };

  g.nodes.forEach((n) => {
    const c = n.config as unknown as Record<string, unknown>;
    const xs = n.inputs.map((i) => held[i]);
    const inS = shapes[n.inputs[0]];
    const names = n.weights.map((w, q) => (w.statistic ? g.statistics[n.index[q]].name : g.params[n.index[q]].name));
    const act = typeof c.activation === 'string' ? c.activation : 'linear';
    let out: Held;
    switch (n.layer.class) {
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const k = c.kernel_size as number[];
        const s = c.strides as number[];
        const pads = c.padding === 'same' ? samePads(inS, k, s) : [0, 0, 0, 0];
        const attrs = [ints('kernel_shape', k), ints('strides', s), ints('pads', pads), ...(n.layer.class === 'DepthwiseConv2D' ? [int('group', inS[2])] : [])];
        const y = emit('Conv', [image(xs[0], n.layer.name), ...names.map(weight)], attrs, 'conv');
        out = activation({ kind: 'image', name: y }, act, 1);
        break;
      }
      case 'Dense': {
        // the state_dict's rows follow NCHW flattening, except for a graph read from ONNX (its rows are extra's own order)
        const x = xs[0].kind === 'flatOfImage' && !model.spec.onnx ? emit('Flatten', [xs[0].image], [int('axis', 1)]) : inS.length === 1 ? plainOrImage(xs[0]) : physical(xs[0]);
        if (inS.length === 1) out = activation({ kind: 'plain', name: emit('Gemm', [x, ...names.map(weight)], [int('transB', 1)], 'gemm'), rank: 1 }, act, 1);
        else {
          // on the last axis of a [.., in] value: x · Wᵀ (+ b); rank 3 comes out as extra's [H, W, C], an image again
          const y0 = emit('MatMul', [x, emit('Transpose', [weight(names[0])], [ints('perm', [1, 0])])], [], 'matmul');
          const y = names[1] ? emit('Add', [y0, weight(names[1])]) : y0;
          out = activation(inS.length === 3 ? { kind: 'image', name: emit('Transpose', [y], [ints('perm', [0, 3, 1, 2])], 'to_nchw') } : { kind: 'plain', name: y, rank: inS.length }, act, 1);
        }
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const k = c.pool_size as number[];
        const s = (c.strides as number[] | null | undefined) ?? k;
        const pads = c.padding === 'same' ? samePads(inS, k, s) : [0, 0, 0, 0];
        out = { kind: 'image', name: emit(n.layer.class === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [image(xs[0], n.layer.name)], [ints('kernel_shape', k), ints('strides', s), ints('pads', pads), ...(n.layer.class === 'AveragePooling2D' ? [int('count_include_pad', 0)] : [])], 'pool') };
        break;
      }
      case 'GlobalAveragePooling2D':
        out = { kind: 'plain', name: emit('Flatten', [emit('GlobalAveragePool', [image(xs[0], n.layer.name)])], [int('axis', 1)]), rank: 1 };
        break;
      case 'Flatten':
        out = xs[0].kind === 'image' ? { kind: 'flatOfImage', image: xs[0].name } : { kind: 'plain', name: emit('Flatten', [plainOrImage(xs[0])], [int('axis', 1)]), rank: 1 };
        break;
      case 'Reshape':
      case 'Permute': {
        const x = physical(xs[0]);
        const target = n.outShape;
        const y = n.layer.class === 'Reshape' ? emit('Reshape', [x, constant([0, ...target], [target.length + 1], 'int64')]) : emit('Transpose', [x], [ints('perm', [0, ...(c.dims as number[])])]);
        out = target.length === 3 ? { kind: 'image', name: emit('Transpose', [y], [ints('perm', [0, 3, 1, 2])], 'to_nchw') } : { kind: 'plain', name: y, rank: target.length };
        break;
      }
      case 'Conv2DTranspose': {
        // Keras' lengths: 'same' n·s, 'valid' n·s + max(k − s, 0); ONNX gives (n−1)·s + k − pads + output_padding
        const k = c.kernel_size as number[];
        const s = c.strides as number[];
        const total = [0, 1].map((i) => (c.padding === 'same' ? Math.max(k[i] - s[i], 0) : 0));
        const pads = [total[0] >> 1, total[1] >> 1, total[0] - (total[0] >> 1), total[1] - (total[1] >> 1)];
        const attrs = [ints('kernel_shape', k), ints('strides', s), ints('pads', pads), ints('output_padding', [0, 1].map((i) => Math.max(s[i] - k[i], 0)))];
        out = activation({ kind: 'image', name: emit('ConvTranspose', [image(xs[0], n.layer.name), ...names.map(weight)], attrs, 'convt') }, act, 1);
        break;
      }
      case 'UpSampling2D': {
        const size = c.size as number[];
        const attrs = [str('mode', c.interpolation === 'bilinear' ? 'linear' : 'nearest'), str('coordinate_transformation_mode', 'asymmetric'), str('nearest_mode', 'floor')];
        out = { kind: 'image', name: emit('Resize', [image(xs[0], n.layer.name), '', constant([1, 1, size[0], size[1]], [4], 'float')], attrs, 'resize') };
        break;
      }
      case 'Resize2D': {
        // sizes [N, C, oh, ow], N and C read from the input
        const x = image(xs[0], n.layer.name);
        const sizes = emit('Concat', [emit('Shape', [x], [int('start', 0), int('end', 2)]), constant(c.size as number[], [2], 'int64')], [int('axis', 0)]);
        const attrs = [str('mode', c.interpolation === 'bilinear' ? 'linear' : 'nearest'), str('coordinate_transformation_mode', c.coordinate as string), str('nearest_mode', c.nearest_mode as string)];
        out = { kind: 'image', name: emit('Resize', [x, '', '', sizes], attrs, 'resize') };
        break;
      }
      case 'Cropping2D': {
        const cr = c.cropping as [[number, number], [number, number]];
        const [h, w] = inS;
        out = { kind: 'image', name: emit('Slice', [image(xs[0], n.layer.name), constant([cr[0][0], cr[1][0]], [2], 'int64'), constant([h - cr[0][1], w - cr[1][1]], [2], 'int64'), constant([2, 3], [2], 'int64')], [], 'crop') };
        break;
      }
      case 'Dropout':
        out = xs[0];
        break;
      case 'Activation':
        out = activation(xs[0], act, 1);
        break;
      case 'ReLU':
        out = typeof c.max_value === 'number' ? elementwise(xs[0], (x) => emit('Clip', [x, constant([0], [], 'float'), constant([c.max_value as number], [], 'float')])) : elementwise(xs[0], (x) => emit('Relu', [x]));
        break;
      case 'LeakyReLU':
        out = elementwise(xs[0], (x) => emit('LeakyRelu', [x], [float('alpha', c.alpha as number)]));
        break;
      case 'Rescaling':
        out = elementwise(xs[0], (x) => emit('Add', [emit('Mul', [x, constant([c.scale as number], [], 'float')]), constant([(c.offset as number) ?? 0], [], 'float')]));
        break;
      case 'ZeroPadding2D': {
        const p = c.padding as [[number, number], [number, number]];
        out = { kind: 'image', name: emit('Pad', [image(xs[0], n.layer.name), constant([0, 0, p[0][0], p[1][0], 0, 0, p[0][1], p[1][1]], [8], 'int64')], [], 'pad') };
        break;
      }
      case 'BatchNormalization': {
        // scale and bias default to ones and zeros when the layer has none
        const C = inS[inS.length - 1];
        const gamma = c.scale === false ? constant(Array(C).fill(1), [C], 'float') : weight(names[0]);
        const beta = c.center === false ? constant(Array(C).fill(0), [C], 'float') : weight(names[c.scale === false ? 0 : 1]);
        const [mean, variance] = names.slice(-2).map(weight);
        const x = plainOrImage(xs[0]);
        const y = emit('BatchNormalization', [x, gamma, beta, mean, variance], [float('epsilon', c.epsilon as number)], 'bn');
        out = xs[0].kind === 'image' ? { kind: 'image', name: y } : { kind: 'plain', name: y, rank: 1 };
        break;
      }
      case 'LayerNormalization': {
        const F = inS[inS.length - 1];
        const gamma = c.scale === false ? constant(Array(F).fill(1), [F], 'float') : weight(names[0]);
        const beta = c.center === false ? constant(Array(F).fill(0), [F], 'float') : weight(names[c.scale === false ? 0 : 1]);
        const x = physical(xs[0]);
        const y = emit('LayerNormalization', [x, gamma, beta], [int('axis', -1), float('epsilon', c.epsilon as number)], 'ln');
        out = xs[0].kind === 'image' ? { kind: 'image', name: emit('Transpose', [y], [ints('perm', [0, 3, 1, 2])], 'to_nchw') } : { kind: 'plain', name: y, rank: inS.length };
        break;
      }
      case 'Add':
      case 'Multiply': {
        const allImages = xs.every((h) => h.kind === 'image');
        const parts = xs.map((h) => (allImages ? h.kind === 'image' ? h.name : '' : physical(h)));
        const op = n.layer.class === 'Add' ? 'Add' : 'Mul';
        const y = parts.slice(1).reduce((acc, p) => emit(op, [acc, p]), parts[0]);
        out = allImages ? { kind: 'image', name: y } : { kind: 'plain', name: y, rank: inS.length };
        break;
      }
      case 'Concatenate': {
        const rank = inS.length;
        const axis = (c.axis as number) < 0 ? rank + 1 + (c.axis as number) : (c.axis as number);
        if (rank === 3 && xs.every((h) => h.kind === 'image')) {
          const onnxAxis = [0, 2, 3, 1][axis];
          out = { kind: 'image', name: emit('Concat', xs.map((h) => (h as { name: string }).name), [int('axis', onnxAxis)]) };
        } else out = { kind: 'plain', name: emit('Concat', xs.map(physical), [int('axis', axis)]), rank };
        break;
      }
      case 'GroupConv2D': {
        const attrs = [ints('kernel_shape', c.kernel_size as number[]), ints('strides', c.strides as number[]), ints('dilations', c.dilation_rate as number[]), ints('pads', [0, 0, 0, 0]), int('group', c.group as number)];
        out = { kind: 'image', name: emit('Conv', [image(xs[0], n.layer.name), ...names.map(weight)], attrs, 'conv') };
        break;
      }
      case 'Pool2D': {
        const p = c.pads as [[number, number], [number, number]];
        const extra = c.ceil_extra as [number, number];
        const counted = c.mode === 'avg' && c.count_include_pad === true;
        // a max never reads its padding and an uncounted average does not count it: ceil_mode's windows are more padding
        const pads = counted ? [p[0][0], p[1][0], p[0][1], p[1][1]] : [p[0][0], p[1][0], p[0][1] + extra[0], p[1][1] + extra[1]];
        const attrs = [ints('kernel_shape', c.pool_size as number[]), ints('strides', c.strides as number[]), ints('pads', pads), ...(counted && (extra[0] || extra[1]) ? [int('ceil_mode', 1)] : [])];
        if ((c.dilation_rate as number[]).some((d) => d !== 1)) attrs.push(ints('dilations', c.dilation_rate as number[]));
        if (c.mode === 'avg') attrs.push(int('count_include_pad', counted ? 1 : 0));
        out = { kind: 'image', name: emit(c.mode === 'max' ? 'MaxPool' : 'AveragePool', [image(xs[0], n.layer.name)], attrs, 'pool') };
        break;
      }
      case 'Pointwise': {
        const fn = c.fn as string;
        const simple: Record<string, string> = { softplus: 'Softplus', exp: 'Exp', log: 'Log', abs: 'Abs', neg: 'Neg', sqrt: 'Sqrt', reciprocal: 'Reciprocal', softsign: 'Softsign', hard_swish: 'HardSwish', erf: 'Erf' };
        out = elementwise(xs[0], (x) => {
          if (simple[fn]) return emit(simple[fn], [x]);
          if (fn === 'hard_sigmoid') return emit('HardSigmoid', [x], [float('alpha', c.alpha as number), float('beta', c.beta as number)]);
          if (fn === 'selu') return emit('Selu', [x], [float('alpha', c.alpha as number), float('gamma', c.gamma as number)]);
          if (fn === 'mish') return emit('Mul', [x, emit('Tanh', [emit('Softplus', [x])])]);
          if (fn === 'square') return emit('Mul', [x, x]);
          throw new ExtraInputError(`export --format onnx: Pointwise ${fn} has no ONNX form here`);
        });
        break;
      }
      case 'Arithmetic':
      case 'ArithmeticWith':
      case 'Slice':
      case 'Gather':
      case 'Reduce':
      case 'Softmax':
      case 'MatMul':
      case 'BroadcastTo':
      case 'BroadcastWeight': {
        // in extra's own (physical) element order, axes as the layer counts them
        const x = physical(xs[0]);
        const binaryOps: Record<string, string> = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', max: 'Max', min: 'Min', prelu: 'PRelu' };
        let y: string;
        if (n.layer.class === 'Arithmetic') y = emit(binaryOps[c.op as string], [x, physical(xs[1])]);
        else if (n.layer.class === 'ArithmeticWith') {
          const shape = c.operand_shape as number[];
          const b = c.broadcast_shape as number[];
          const perm = c.perm as number[] | null | undefined;
          const logical = perm ? perm.map((_, i) => b[perm.indexOf(i)]) : b;
          const raw = c.values ? constant(c.values as number[], shape, 'float') : weight(names[0]);
          const r = emit('Reshape', [raw, constant([1, ...logical], [logical.length + 1], 'int64')]);
          const operand = perm ? emit('Transpose', [r], [ints('perm', [0, ...perm.map((a) => a + 1)])]) : r;
          y = emit(binaryOps[c.op as string], c.reverse ? [operand, x] : [x, operand]);
        } else if (n.layer.class === 'Slice') {
          const axis = c.axis as number;
          const end = (c.end as number) === -1 ? -(inS[axis - 1] + 1) : (c.end as number);
          y = emit('Slice', [x, constant([c.begin as number], [1], 'int64'), constant([end], [1], 'int64'), constant([axis], [1], 'int64'), constant([c.step as number], [1], 'int64')]);
        } else if (n.layer.class === 'Gather') y = emit('Gather', [x, constant(c.indices as number[], c.indices_shape as number[], 'int64')], [int('axis', c.axis as number)]);
        else if (n.layer.class === 'Reduce') {
          const op = { mean: 'ReduceMean', sum: 'ReduceSum', max: 'ReduceMax', min: 'ReduceMin' }[c.op as string]!;
          const keep = int('keepdims', c.keepdims ? 1 : 0);
          y = op === 'ReduceSum' ? emit(op, [x, constant(c.axes as number[], [(c.axes as number[]).length], 'int64')], [keep]) : emit(op, [x], [ints('axes', c.axes as number[]), keep]);
        } else if (n.layer.class === 'Softmax') y = emit(c.log ? 'LogSoftmax' : 'Softmax', [x], [int('axis', c.axis as number)]);
        else if (n.layer.class === 'MatMul') y = emit('MatMul', [x, physical(xs[1])]);
        else if (n.layer.class === 'BroadcastTo') y = emit('Expand', [x, constant([1, ...(c.shape as number[])], [(c.shape as number[]).length + 1], 'int64')]);
        else {
          // a weight repeated over the batch of the layer's input
          const per = n.outShape;
          const ws = c.weight_shape as number[];
          const aligned = ws.length > per.length ? ws.slice(1) : [...Array(per.length - ws.length).fill(1), ...ws];
          const w = emit('Reshape', [weight(names[0]), constant([1, ...aligned], [aligned.length + 1], 'int64')]);
          const batch = emit('Slice', [emit('Shape', [x]), constant([0], [1], 'int64'), constant([1], [1], 'int64')]);
          y = emit('Expand', [w, emit('Concat', [batch, constant(per, [per.length], 'int64')], [int('axis', 0)])]);
        }
        const rank = n.outShape.length;
        out = rank === 3 ? { kind: 'image', name: emit('Transpose', [y], [ints('perm', [0, 3, 1, 2])], 'to_nchw') } : { kind: 'plain', name: y, rank };
        break;
      }
      default:
        throw new ExtraInputError(`export --format onnx: layer '${n.layer.name}' (${n.layer.class}) has no ONNX form here`);
    }
    held.push(out);
  });
  // a per-pixel output [H,W,C] is N×C×H×W, as PyTorch writes it
  const outputs = g.outputs.map((o, k) => {
    const h = held[o + 1];
    const s = g.nodes[o].outShape;
    const name = h.kind === 'image' ? h.name : physical(h);
    const final = `output_${k}`;
    nodes.push({ input: [name], output: [final], name: final, op_type: 'Identity', attribute: [] });
    return { name: final, dims: h.kind === 'image' ? [s[2], s[0], s[1]] : [g.outputUnits[k]] };
  });
  const dim = (d: number | 'batch') => (d === 'batch' ? { dim_param: 'batch' } : { dim_value: d });
  const onnxIn = inShape.length === 3 ? [inShape[2], inShape[0], inShape[1]] : inShape;
  const tensorType = (dims: (number | 'batch')[]) => ({ tensor_type: { elem_type: FLOAT, shape: { dim: dims.map(dim) } } });
  return encodeOnnx({
    ir_version: 8,
    producer_name: 'extra',
    producer_version: '0.1.0',
    opset_import: [{ domain: '', version: OPSET }],
    graph: {
      name: model.spec.arch,
      node: nodes,
      initializer: initializers,
      input: [{ name: input, type: tensorType(['batch', ...onnxIn]) }],
      output: outputs.map((o) => ({ name: o.name, type: tensorType(['batch', ...o.dims]) })),
    },
  });
}
