import { ExtraInputError } from '../../errors.js';
import type { GraphLayer } from '../types.js';
import type { OnnxNode, OnnxTensor } from './proto.js';

/**
 * What an ONNX value is while a graph is translated into extra's layer graph. ONNX computes in NCHW;
 * the layer graph in NHWC (what tfjs' kernels want). A tensor value therefore carries its ONNX
 * shape (`shape`, without the batch axis) and how the layer holding it lays that out:
 *   'nhwc'    an image [C,H,W] held as [H,W,C] (convolutions, pooling, BatchNorm produce these)
 *   'logical' elements in ONNX order (its layer's shape may differ from `shape` only by reshaping)
 * Constants (initializers, Constant nodes, folded shape arithmetic) are values too; `pending`
 * values are recognized arithmetic (x·s + o, the parts of GELU's erf form and of LayerNorm's
 * primitive form) kept symbolic until they are fused into one layer or materialized.
 */
export type TensorValue = { kind: 'tensor'; layer: string; shape: number[]; layout: 'nhwc' | 'logical'; physical: number[]; nonNegative: boolean };
/** `batch` marks entries standing for the batch size (from Shape), which only a Reshape's first entry may use. */
export type ConstValue = { kind: 'const'; shape: number[]; float?: Float32Array; ints?: number[]; batch?: boolean[]; initializer?: string };
export type PendingValue =
  | { kind: 'affine'; of: TensorValue; scale: number; offset: number }
  | { kind: 'erf'; of: TensorValue } // erf(x/√2)
  | { kind: 'onePlusErf'; of: TensorValue }
  | { kind: 'halfX'; of: TensorValue } // the 0.5·x half of GELU when it comes first
  | { kind: 'xOnePlusErf'; of: TensorValue } // x·(1 + erf(x/√2)) (GELU before its 0.5)
  | { kind: 'mean'; of: TensorValue } // ReduceMean over the last axis, keepdims
  | { kind: 'centered'; of: TensorValue }
  | { kind: 'squared'; of: TensorValue }
  | { kind: 'variance'; of: TensorValue }
  | { kind: 'varianceEps'; of: TensorValue; eps: number }
  | { kind: 'std'; of: TensorValue; eps: number }
  | { kind: 'normalized'; of: TensorValue; eps: number; gamma?: string; beta?: string };
export type Value = TensorValue | ConstValue | PendingValue;

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The layer graph being built, and the bookkeeping of the translation. */
export class GraphBuilder {
  readonly layers: GraphLayer[] = [];
  readonly values = new Map<string, Value>();
  /** initializers by name (weights; shape constants are read from them too) */
  readonly initializers: Map<string, OnnxTensor>;
  /** how many nodes read each value */
  readonly uses = new Map<string, number>();
  /** initializers that became parameters or statistics, and the node that took each */
  readonly weightOwner = new Map<string, string>();
  /** parameters whose file layout is the transpose of the state_dict's (MatMul [in,out], Gemm transB=0) */
  readonly transposed = new Set<string>();
  /** parameter name → the initializer holding it, where they differ (a Linear's weight the exporter renamed) */
  readonly renamed = new Map<string, string>();
  private taken = new Set<string>();
  /** the file's opset (Softmax before 13 flattens from its axis) */
  opset = 0;
  /** the network's input (what a weight broadcast over the batch reads for its size) */
  input: TensorValue | null = null;

  constructor(initializers: Map<string, OnnxTensor>, readonly where: string) {
    this.initializers = initializers;
  }

  /** One line naming the node, its op and what to do. */
  fail(node: OnnxNode, why: string): never {
    throw new ExtraInputError(`${this.where}: node '${node.name || node.output[0]}' (${node.op_type}): ${why}`);
  }

  /** A unique Keras layer name from an ONNX name (Keras names hold letters, digits, _ . - only; no leading digit). */
  layerName(base: string): string {
    let n = base.replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+|_+$/g, '').replace(/_+/g, '_') || 'layer';
    if (!/^[A-Za-z]/.test(n)) n = `l_${n}`;
    let out = n;
    for (let i = 1; this.taken.has(out); i++) out = `${n}_${i}`;
    this.taken.add(out);
    return out;
  }

  /** Append a layer; its output becomes a tensor value. */
  add(node: OnnxNode | null, cls: string, config: Record<string, unknown>, inputs: TensorValue[], out: { shape: number[]; layout: 'nhwc' | 'logical'; physical: number[]; nonNegative?: boolean }, weightNames?: string[], hint?: string): TensorValue {
    const name = this.layerName(hint ?? node?.name ?? node?.output[0] ?? cls);
    this.layers.push({ name, class: cls, config, inputs: inputs.map((v) => v.layer), ...(weightNames ? { weightNames } : {}) });
    return { kind: 'tensor', layer: name, shape: out.shape, layout: out.layout, physical: out.physical, nonNegative: out.nonNegative ?? false };
  }

  /** A float initializer taken as a weight by a node (each once: tied weights are not supported). */
  takeWeight(node: OnnxNode, name: string): string {
    const owner = this.weightOwner.get(name);
    if (owner !== undefined) this.fail(node, `initializer '${name}' is already used by node '${owner}' (tied weights are not supported)`);
    this.weightOwner.set(name, node.name || node.output[0]);
    return name;
  }

  /** The same image in NHWC (a Permute, or only a Reshape when the element order already agrees). */
  asImage(node: OnnxNode, v: TensorValue): TensorValue {
    if (v.shape.length !== 3) this.fail(node, `needs an image [C,H,W] per sample, got [${v.shape.join(',')}]`);
    if (v.layout === 'nhwc') return v;
    const [c, h, w] = v.shape;
    const nhwc = [h, w, c];
    const x = v.physical.join(',') === v.shape.join(',') ? v : this.add(null, 'Reshape', { target_shape: v.shape }, [v], { shape: v.shape, layout: 'logical', physical: v.shape, nonNegative: v.nonNegative }, undefined, `${v.layer}_chw`);
    if (c === 1 || h * w === 1) return this.add(null, 'Reshape', { target_shape: nhwc }, [x], { shape: v.shape, layout: 'nhwc', physical: nhwc, nonNegative: v.nonNegative }, undefined, `${v.layer}_nhwc`);
    return this.add(null, 'Permute', { dims: [2, 3, 1] }, [x], { shape: v.shape, layout: 'nhwc', physical: nhwc, nonNegative: v.nonNegative }, undefined, `${v.layer}_nhwc`);
  }

  /** The value with its elements in ONNX order, its layer's shape `target` (default: the ONNX shape). */
  asLogical(v: TensorValue, target: number[] = v.shape): TensorValue {
    if (size(target) !== size(v.shape)) throw new Error(`internal: reshape of [${v.shape.join(',')}] to [${target.join(',')}]`);
    let x = v;
    if (v.layout === 'nhwc') {
      const [c, h, w] = v.shape;
      if (c === 1 || h * w === 1) x = { ...v, layout: 'logical' };
      else x = this.add(null, 'Permute', { dims: [3, 1, 2] }, [v], { shape: v.shape, layout: 'logical', physical: v.shape, nonNegative: v.nonNegative }, undefined, `${v.layer}_nchw`);
    }
    if (x.physical.join(',') === target.join(',')) return x;
    return this.add(null, target.length === 1 ? 'Flatten' : 'Reshape', target.length === 1 ? {} : { target_shape: target }, [x], { shape: v.shape, layout: 'logical', physical: target, nonNegative: v.nonNegative }, undefined, `${v.layer}_r`);
  }

  /** Materialize a pending value as layers (those that exist alone), or refuse it. */
  materialize(node: OnnxNode, v: Value): TensorValue | ConstValue {
    if (v.kind === 'tensor' || v.kind === 'const') return v;
    // once made, the same layer serves every later reader of the value
    const done = this.made.get(v);
    if (done) return done;
    const t = this.make(node, v);
    this.made.set(v, t);
    return t;
  }

  private made = new WeakMap<PendingValue, TensorValue>();

  /** A pending value that has been materialized already reads as its layer. */
  resolve(v: Value): Value {
    return v.kind === 'tensor' || v.kind === 'const' ? v : (this.made.get(v) ?? v);
  }

  private make(node: OnnxNode, v: PendingValue): TensorValue {
    if (v.kind === 'affine') {
      return this.add(null, 'Rescaling', { scale: v.scale, offset: v.offset }, [v.of], { shape: v.of.shape, layout: v.of.layout, physical: v.of.physical, nonNegative: v.of.nonNegative && v.scale >= 0 && v.offset >= 0 }, undefined, `${v.of.layer}_affine`);
    }
    if (v.kind === 'halfX') return this.add(null, 'Rescaling', { scale: 0.5, offset: 0 }, [v.of], { ...v.of }, undefined, `${v.of.layer}_half`);
    if (v.kind === 'normalized') return this.layerNorm(v);
    if (v.kind === 'mean') {
      // a mean over the last axis that no LayerNorm completed: a reduction of its own
      const x = this.asLogical(v.of);
      const shape = [...v.of.shape.slice(0, -1), 1];
      return this.add(null, 'Reduce', { op: 'mean', axes: [v.of.shape.length], keepdims: true }, [x], { shape, layout: 'logical', physical: shape, nonNegative: v.of.nonNegative }, undefined, `${v.of.layer}_mean`);
    }
    // the other pieces of LayerNorm's and GELU's primitive forms, when something else reads them: layers of their own
    const lg = (u: TensorValue) => this.asLogical(u);
    const out = (u: TensorValue, shape = u.shape) => ({ shape, layout: 'logical' as const, physical: shape });
    const last = [...v.of.shape.slice(0, -1), 1];
    switch (v.kind) {
      case 'centered':
        return this.add(null, 'Arithmetic', { op: 'sub' }, [lg(v.of), this.materialize(node, { kind: 'mean', of: v.of }) as TensorValue], out(v.of), undefined, `${v.of.layer}_centered`);
      case 'squared': {
        // (a layer reading one tensor twice breaks tfjs-layers' predict: a square of its own)
        const c = lg(this.materialize(node, { kind: 'centered', of: v.of }) as TensorValue);
        return this.add(null, 'Pointwise', { fn: 'square' }, [c], { ...out(v.of), nonNegative: true }, undefined, `${v.of.layer}_squared`);
      }
      case 'variance': {
        const sq = this.materialize(node, { kind: 'squared', of: v.of }) as TensorValue;
        return this.add(null, 'Reduce', { op: 'mean', axes: [v.of.shape.length], keepdims: true }, [sq], { ...out(v.of, last), nonNegative: true }, undefined, `${v.of.layer}_variance`);
      }
      case 'varianceEps':
        return this.add(null, 'Rescaling', { scale: 1, offset: v.eps }, [this.materialize(node, { kind: 'variance', of: v.of }) as TensorValue], { ...out(v.of, last), nonNegative: true }, undefined, `${v.of.layer}_variance_eps`);
      case 'std':
        return this.add(null, 'Pointwise', { fn: 'sqrt' }, [this.materialize(node, { kind: 'varianceEps', of: v.of, eps: v.eps }) as TensorValue], { ...out(v.of, last), nonNegative: true }, undefined, `${v.of.layer}_std`);
      case 'erf': {
        const scaled = this.add(null, 'Rescaling', { scale: Math.SQRT1_2, offset: 0 }, [v.of], { shape: v.of.shape, layout: v.of.layout, physical: v.of.physical }, undefined, `${v.of.layer}_scaled`);
        return this.add(null, 'Pointwise', { fn: 'erf' }, [scaled], { shape: v.of.shape, layout: v.of.layout, physical: v.of.physical }, undefined, `${v.of.layer}_erf`);
      }
      case 'onePlusErf': {
        const e = this.materialize(node, { kind: 'erf', of: v.of }) as TensorValue;
        return this.add(null, 'Rescaling', { scale: 1, offset: 1 }, [e], { shape: e.shape, layout: e.layout, physical: e.physical, nonNegative: true }, undefined, `${v.of.layer}_one_plus_erf`);
      }
      case 'xOnePlusErf': {
        const e = this.materialize(node, { kind: 'onePlusErf', of: v.of }) as TensorValue;
        return this.add(null, 'Multiply', {}, [v.of, e], { shape: e.shape, layout: e.layout, physical: e.physical }, undefined, `${v.of.layer}_x_one_plus_erf`);
      }
    }
    return v satisfies never;
  }

  /** A LayerNormalization over the last ONNX axis (its elements in ONNX order). */
  layerNorm(v: Extract<PendingValue, { kind: 'normalized' }>): TensorValue {
    const x = this.asLogical(v.of);
    const names = [...(v.gamma ? [v.gamma] : []), ...(v.beta ? [v.beta] : [])];
    return this.add(null, 'LayerNormalization', { axis: -1, epsilon: v.eps, center: v.beta !== undefined, scale: v.gamma !== undefined }, [x], { shape: x.shape, layout: 'logical', physical: x.physical }, names.length ? names : undefined, `${v.of.layer}_ln`);
  }
}

export function isTensor(v: Value | undefined): v is TensorValue {
  return v?.kind === 'tensor';
}
