import { spatialOut } from '../ops.js';
import { tensorValues, type OnnxAttribute, type OnnxNode } from './proto.js';
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

const conv: OnnxOp = (b, node, [x, w, bias]) => {
  const img = b.asImage(node, tensorIn(b, node, x));
  const [cIn, h, wd] = img.shape;
  if (!w || w.kind !== 'const' || w.shape.length !== 4) return b.fail(node, 'needs a 4-D weight initializer (2-D convolutions only)');
  const weight = weightIn(b, node, w, 'its weight');
  const [cOut, perGroup, kh, kw] = weight.shape;
  checkDilations(b, node);
  const group = intAttr(node, 'group', 1);
  const strides = pair(node, 'strides', 1);
  const pad = windowPadding(node, [h, wd], [kh, kw], strides);
  let input = img;
  let padding: 'valid' | 'same' = 'valid';
  if ('explicit' in pad) input = zeroPad(b, node, img, pad.explicit);
  else padding = pad.padding;
  const biasName = bias ? weightIn(b, node, bias, 'its bias', [cOut]).initializer : undefined;
  const names = [weight.initializer, ...(biasName ? [biasName] : [])];
  const [ih, iw] = input.physical;
  const oh = spatialOut(ih, kh, strides[0], padding);
  const ow = spatialOut(iw, kw, strides[1], padding);
  const out = { shape: [cOut, oh, ow], layout: 'nhwc' as const, physical: [oh, ow, cOut] };
  if (group === 1) {
    if (perGroup !== cIn) return b.fail(node, `its weight reads ${perGroup} channels, the input has ${cIn}`);
    return [b.add(node, 'Conv2D', { filters: cOut, kernel_size: [kh, kw], strides, padding, use_bias: biasName !== undefined }, [input], out, names)];
  }
  if (group === cIn && perGroup === 1 && cOut % cIn === 0) {
    return [b.add(node, 'DepthwiseConv2D', { kernel_size: [kh, kw], strides, padding, depth_multiplier: cOut / cIn, use_bias: biasName !== undefined }, [input], out, names)];
  }
  return b.fail(node, `group ${group} on ${cIn} channels: only ordinary (group 1) and depthwise (group = channels) convolutions are supported`);
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
    const sp = scalarOf(p);
    const sq = scalarOf(q);
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
    if (op === 'Mul' && isTensor(p) && isTensor(q)) {
      // x·σ(x) (SiLU), gates: elementwise products of two tensors of one shape
      if (p.shape.join(',') !== q.shape.join(',')) return b.fail(node, `multiplies [${p.shape.join(',')}] and [${q.shape.join(',')}]; extra multiplies tensors of one shape (no broadcasting)`);
      const rank3 = p.shape.length === 3;
      const x = rank3 ? b.asImage(node, p) : b.asLogical(p);
      const y = rank3 ? b.asImage(node, q) : b.asLogical(q);
      return [b.add(node, 'Multiply', {}, [x, y], { shape: p.shape, layout: x.layout, physical: x.physical, nonNegative: p.nonNegative && q.nonNegative })];
    }
    if (op === 'Add' && isTensor(p) && isTensor(q)) {
      const [u, v] = [p, q];
      const rank3 = u.shape.length === 3;
      const x = rank3 ? b.asImage(node, u) : b.asLogical(u);
      const y = rank3 ? b.asImage(node, v) : b.asLogical(v);
      if (u.shape.join(',') !== v.shape.join(',')) return b.fail(node, `adds [${u.shape.join(',')}] and [${v.shape.join(',')}]; extra adds tensors of one shape (no broadcasting)`);
      return [b.add(node, 'Add', {}, [x, y], { shape: u.shape, layout: x.layout, physical: x.physical, nonNegative: u.nonNegative && v.nonNegative })];
    }
    const a = b.materialize(node, p);
    const c = b.materialize(node, q);
    if (a !== p || c !== q) return binary(op)(b, node, [a, c]);
    return b.fail(node, `${op} of ${describe(p)} and ${describe(q)} is not supported (extra reads Add of two tensors of one shape, and arithmetic with a single number)`);
  };
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
    const kernel = pair(node, 'kernel_shape', 1);
    const strides = pair(node, 'strides', 1);
    checkDilations(b, node);
    if (intAttr(node, 'ceil_mode', 0) !== 0) return b.fail(node, 'ceil_mode = 1 is not supported (ceil_mode=False)');
    if (intAttr(node, 'storage_order', 0) !== 0) return b.fail(node, 'storage_order = 1 is not supported');
    if (node.output.length > 1 && node.output[1]) return b.fail(node, 'its Indices output is not supported');
    const [c, h, w] = img.shape;
    const pad = windowPadding(node, [h, w], kernel, strides);
    let input = img;
    let padding: 'valid' | 'same' = 'valid';
    const pads = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
    if (kind === 'avg' && intAttr(node, 'count_include_pad', 0) === 1 && pads.some((p) => p !== 0)) {
      // an average that counts the padding is zero padding, then an unpadded average
      input = zeroPad(b, node, img, [[pads[0], pads[2]], [pads[1], pads[3]]]);
    } else if ('explicit' in pad) {
      // (TF 'same' average pooling leaves the padding out of the count, as count_include_pad = 0 does)
      if (kind === 'avg') return b.fail(node, `pads [${pads.join(',')}] without count_include_pad: only TF-'same' pads or count_include_pad = 1 are exact here`);
      // zeros are exact for a max over values ≥ 0 (after a ReLU): every window holds a real element
      if (!img.nonNegative) return b.fail(node, `pads [${pads.join(',')}] on an input that can be negative: only TF-'same' pads, or padding after a ReLU, are exact here`);
      input = zeroPad(b, node, img, pad.explicit);
    } else padding = pad.padding;
    const [ih, iw] = input.physical;
    const oh = spatialOut(ih, kernel[0], strides[0], padding);
    const ow = spatialOut(iw, kernel[1], strides[1], padding);
    return [b.add(node, kind === 'max' ? 'MaxPooling2D' : 'AveragePooling2D', { pool_size: kernel, strides, padding }, [input], { shape: [c, oh, ow], layout: 'nhwc', physical: [oh, ow, c], nonNegative: img.nonNegative })];
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
  const of = x.kind === 'squared' ? x.of : isTensor(x) ? x : x.kind === 'centered' ? null : null;
  if (!of) return b.fail(node, 'is supported only as a part of LayerNorm (mean over the last axis)');
  const rank = of.shape.length + 1;
  const axes = axesOf(node, inputs, rank, b);
  if (!axes || axes.length !== 1 || axes[0] !== rank - 1 || intAttr(node, 'keepdims', 1) !== 1) return b.fail(node, 'is supported only as a part of LayerNorm (mean over the last axis, keepdims)');
  return [x.kind === 'squared' ? { kind: 'variance', of } : { kind: 'mean', of }];
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
  const axis = intAttr(node, 'axis', -1);
  if (v.shape.length !== 1 || !(axis === -1 || axis === 1)) return b.fail(node, 'over anything but the classes of a flat output is not supported');
  // log-softmax differs from its logits by a constant per sample: the cross-entropy and argmax are those of the logits
  return [b.add(node, 'Activation', { activation: name === 'softmax' ? 'softmax' : 'linear' }, [b.asLogical(v)], { shape: v.shape, layout: 'logical', physical: v.shape })];
};

export const onnxOps: Readonly<Record<string, OnnxOp>> = {
  Conv: conv,
  Gemm: gemm,
  MatMul: matMul,
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
    return b.fail(node, 'is supported only inside GELU (erf(x/√2)); export nn.GELU as it is');
  },
  Pow: (b, node, [x, e]) => {
    if (x?.kind === 'centered' && scalarOf(e) === 2) return [{ kind: 'squared', of: x.of }];
    return b.fail(node, 'is supported only inside LayerNorm ((x − mean)²)');
  },
  Sqrt: (b, node, [x]) => {
    if (x?.kind === 'varianceEps') return [{ kind: 'std', of: x.of, eps: x.eps }];
    return b.fail(node, 'is supported only inside LayerNorm (√(var + ε))');
  },
  ReduceMean: reduceMean,
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
    if (perm[0] !== 0) return b.fail(node, 'moves the batch axis');
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
    const vs = inputs.map((v, i) => tensorIn(b, node, v, `input ${i}`));
    const rank = vs[0].shape.length + 1;
    let axis = intAttr(node, 'axis', 1);
    if (axis < 0) axis += rank;
    if (axis !== 1 || !(rank === 2 || rank === 4)) return b.fail(node, `concatenates on axis ${intAttr(node, 'axis', 1)} of rank ${rank}; extra concatenates channels (axis 1) of images or features`);
    const xs = vs.map((v) => (rank === 4 ? b.asImage(node, v) : b.asLogical(v)));
    const channels = vs.reduce((a, v) => a + v.shape[0], 0);
    const shape = [channels, ...vs[0].shape.slice(1)];
    return [b.add(node, 'Concatenate', { axis: -1 }, xs, rank === 4 ? { shape, layout: 'nhwc', physical: [shape[1], shape[2], channels] } : { shape, layout: 'logical', physical: shape })];
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
    if (!isTensor(x)) return b.fail(node, 'of a constant is not supported');
    const start = intAttr(node, 'start', 0);
    const endA = attr(node, 'end');
    const full = [0, ...x.shape];
    const rank = full.length;
    const norm = (i: number) => Math.min(Math.max(i < 0 ? i + rank : i, 0), rank);
    const s = norm(start);
    const e = endA ? norm(endA.i) : rank;
    const idx = full.map((_, i) => i).slice(s, e);
    return [{ kind: 'const', shape: [idx.length], ints: idx.map((i) => (i === 0 ? 0 : full[i])), batch: idx.map((i) => i === 0) }];
  },
  Gather: (b, node, [x, i]) => {
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
