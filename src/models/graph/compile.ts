import * as tf from '@tensorflow/tfjs';
import { ExtraInputError } from '../../errors.js';
import type { ParamSpec } from '../types.js';
import { activate, layerKinds, type GraphActivation, type LayerKind, type LayerWeight, type NormContext } from './kinds.js';
import type { GraphLayer, GraphSpec } from './topology.js';
import { footprintOf, footprintProblem, type ModelFootprint } from '../footprint.js';
import { nativeAttention } from '../../backend/index.js';
import { attentionFusions, type AttentionFusion } from './attention.js';

import { taskLossKinds, type StatisticSpec, type TaskLoss } from '../types.js';
export { taskLossKinds, type StatisticSpec, type TaskLoss } from '../types.js';

interface Node {
  layer: GraphLayer;
  kind: LayerKind<never>;
  config: never;
  /** indices into the value list (0 is the input, node i is i + 1) */
  inputs: number[];
  outShape: number[];
  weights: LayerWeight[];
  /** per weight: its index in the parameter list, or in the statistics list */
  index: number[];
  /** the first statistic's index for a BatchNormalization (its pair is index, index + 1) */
  statistic: number | null;
}

/** A graph with shapes, parameters and statistics resolved: what the forward and the exports walk. */
export interface CompiledGraph {
  graph: GraphSpec;
  inputShape: number[];
  nodes: Node[];
  params: ParamSpec[];
  statistics: StatisticSpec[];
  /** node index of each output */
  outputs: number[];
  /** the final activation of each output (its loss is inferred from it) */
  outputActivations: GraphActivation[];
  /** each output's units: its last axis (classes, or channels per pixel) */
  outputUnits: number[];
  /** each output's shape without the batch axis: [units] per sample, [H,W,C] per pixel */
  outputShapes: number[][];
  footprint: ModelFootprint;
  /** multi-head attention patterns the forward runs as one fused op where the native kernels do (attention.ts) */
  attention: AttentionFusion[];
}

const regularizerFields = ['kernel', 'bias', 'activity', 'depthwise', 'pointwise', 'beta', 'gamma'].flatMap((w) => [`${w}_regularizer`, `${w}_constraint`]);

/**
 * Keras fields, common to many layer classes, that change what a layer computes or how it trains and
 * that extra does not honour: refused, never silently dropped (the layer table's schemas strip the
 * keys they do not know).
 */
function unsupportedField(cfg: Record<string, unknown>): string | null {
  if (cfg.trainable === false) return 'trainable is false: frozen layers are not supported (extra trains every parameter)';
  for (const k of regularizerFields) if (cfg[k] !== undefined && cfg[k] !== null) return `${k} is set: extra trains without regularizers or constraints (set it to null)`;
  if (cfg.groups !== undefined && cfg.groups !== 1) return `groups is ${JSON.stringify(cfg.groups)}: grouped convolutions are not supported (DepthwiseConv2D is)`;
  if (cfg.renorm === true) return 'renorm is true: batch renormalization is not supported';
  if (cfg.virtual_batch_size !== undefined && cfg.virtual_batch_size !== null) return 'virtual_batch_size is set: ghost batch normalization is not supported';
  if (cfg.rms_scaling === true) return 'rms_scaling is true: RMS normalization is not supported';
  return null;
}

function fail(where: string, e: unknown): never {
  throw new ExtraInputError(`${where}: ${(e as Error).message}`);
}

/**
 * Resolve a graph against an input shape: every layer's config is parsed by its table entry, shapes
 * are propagated, and each weight becomes a named parameter (`layer.weight`, `layer.bias`: PyTorch
 * state_dict names, or the layer's own `weightNames`) or statistic (`layer.running_mean`, `layer.running_var`). A parameter belongs to
 * task k when its layer reaches output k only, otherwise it is shared.
 */
export function compileGraph(graph: GraphSpec, inputShape: number[], where = 'model'): CompiledGraph {
  const index = new Map<string, number>([[graph.input, 0]]);
  const shapes: number[][] = [inputShape];
  const nodes: Node[] = [];
  for (const layer of graph.layers) {
    const kind = Object.hasOwn(layerKinds, layer.class) ? layerKinds[layer.class] : undefined;
    if (!kind || layer.class === 'InputLayer') fail(where, new Error(`layer '${layer.name}' is a ${layer.class}, which a graph cannot hold here`));
    const unhonoured = unsupportedField(layer.config);
    if (unhonoured) fail(where, new Error(`layer '${layer.name}' (${layer.class}): field ${unhonoured}`));
    const parsed = kind.config.safeParse(layer.config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      fail(where, new Error(`layer '${layer.name}' (${layer.class}): config ${issue.path.join('.') || ''} ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`.replace('  ', ' ')));
    }
    const inputs = layer.inputs.map((n) => {
      const i = index.get(n);
      if (i === undefined) fail(where, new Error(`layer '${layer.name}' reads '${n}', which does not come before it`));
      return i;
    });
    if (kind.arity === 1 ? inputs.length !== 1 : inputs.length < 2) fail(where, new Error(`layer '${layer.name}' (${layer.class}) has ${inputs.length} inputs`));
    const inShapes = inputs.map((i) => shapes[i]);
    let outShape: number[];
    let weights: LayerWeight[];
    try {
      outShape = kind.outShape(parsed.data, inShapes, layer.name);
      weights = kind.weights(parsed.data, inShapes);
    } catch (e) {
      fail(where, e);
    }
    if (outShape.some((d) => !(Number.isInteger(d) && d > 0))) fail(where, new Error(`layer '${layer.name}': the input is too small (output [${outShape.join(',')}])`));
    index.set(layer.name, nodes.length + 1);
    shapes.push(outShape);
    nodes.push({ layer, kind, config: parsed.data, inputs, outShape, weights, index: [], statistic: null });
  }
  const outputs = graph.outputs.map((o) => {
    const i = index.get(o);
    if (i === undefined || i === 0) fail(where, new Error(`output '${o}' is not a layer of the graph`));
    return i - 1;
  });
  // which outputs each node reaches: a node's parameters are a task's own when it reaches one output
  const reach: Set<number>[] = nodes.map(() => new Set());
  outputs.forEach((o, k) => reach[o].add(k));
  for (let i = nodes.length - 1; i >= 0; i--) for (const j of nodes[i].inputs) if (j > 0) reach[i].forEach((k) => reach[j - 1].add(k));
  const params: ParamSpec[] = [];
  const statistics: StatisticSpec[] = [];
  const taken = new Set<string>();
  nodes.forEach((n, i) => {
    const own = reach[i].size === 1 ? [...reach[i]][0] : undefined;
    const given = n.layer.weightNames;
    if (given && given.length !== n.weights.length) fail(where, new Error(`layer '${n.layer.name}' (${n.layer.class}) names ${given.length} weights; it has ${n.weights.length} (${n.weights.map((w) => w.torch).join(', ') || 'none'})`));
    n.weights.forEach((w, q) => {
      const name = given ? given[q] : `${n.layer.name}.${w.torch}`;
      if (taken.has(name)) fail(where, new Error(`two weights are named '${name}'`));
      taken.add(name);
      if (w.statistic) {
        if (n.statistic === null) n.statistic = statistics.length;
        n.index.push(statistics.length);
        statistics.push({ name, shape: w.shape });
      } else {
        n.index.push(params.length);
        params.push({ name, shape: w.shape, init: w.init, shared: own === undefined, ...(own === undefined ? {} : { task: own }) });
      }
    });
  });
  // sizes are known now, before anything is allocated: a model that cannot be trained here stops here
  const footprint = footprintOf([...params, ...statistics], [inputShape, ...nodes.map((n) => n.outShape)]);
  const tooBig = footprintProblem(footprint);
  if (tooBig) fail(where, new Error(tooBig));
  const outputActivations = outputs.map((o) => nodes[o].kind.activation?.(nodes[o].config) ?? 'linear');
  const outputShapes = outputs.map((o, k) => {
    const s = nodes[o].outShape;
    if (s.length !== 1 && s.length !== 3) fail(where, new Error(`output ${k} ('${nodes[o].layer.name}') has shape [${s.join(',')}]; a task output is flat (per sample) or [H,W,C] (per pixel)`));
    return s;
  });
  const outputUnits = outputShapes.map((s) => s[s.length - 1]);
  const attention = attentionFusions(inputShape, nodes, outputs);
  return { graph, inputShape, nodes, params, statistics, outputs, outputActivations, outputUnits, outputShapes, footprint, attention };
}

/**
 * The loss a task's output implies: softmax (or several linear units) → ce, sigmoid → bce, one linear
 * unit → mse for a regression task (numClasses 1, real-valued targets) and bce for a binary one.
 */
export function inferredLoss(activation: GraphActivation, units: number, numClasses: number): TaskLoss | null {
  if (activation === 'softmax') return 'ce';
  if (activation === 'sigmoid') return units === 1 ? 'bce' : null;
  if (activation === 'linear') return units > 1 ? 'ce' : numClasses === 1 ? 'mse' : 'bce';
  return null;
}

/**
 * The graph's forward: one logits tensor per output (a final softmax / sigmoid is left out, as the
 * cross-entropies take logits; an output with `keepActivation[k]` — a regression's — keeps it, since
 * its loss compares the output itself). `statistics` given: BatchNormalization uses them (inference);
 * absent: batch statistics (training), each reported to `collect` when given.
 */
export function graphForward(
  g: CompiledGraph,
  params: readonly tf.Tensor[],
  x: tf.Tensor,
  statistics?: readonly tf.Tensor[],
  collect?: (statistic: number, mean: tf.Tensor, variance: tf.Tensor) => void,
  keepActivation?: readonly boolean[],
): tf.Tensor[] {
  const kept = new Set(g.outputs.filter((_, k) => keepActivation?.[k]));
  // values a fused attention replaces stay unset (nothing outside the pattern reads them)
  const values: (tf.Tensor | null)[] = [x.rank === g.inputShape.length + 1 ? x : x.reshape([-1, ...g.inputShape])];
  const value = (j: number): tf.Tensor => {
    const v = values[j];
    if (!v) throw new Error(`graph forward: value ${j} was fused away but is read`);
    return v;
  };
  const attend = g.attention.length ? nativeAttention() : null;
  const fusedAt = new Map(attend ? g.attention.map((f) => [f.node, f]) : []);
  const skipped = new Set(attend ? g.attention.flatMap((f) => f.covered) : []);
  const logits = new Map<number, tf.Tensor>();
  const outputSet = new Set(g.outputs);
  g.nodes.forEach((n, i) => {
    if (skipped.has(i)) {
      values.push(null);
      return;
    }
    const fusion = fusedAt.get(i);
    if (attend && fusion) {
      values.push(attend(fusion.inputs.map(value), fusion.layout));
      return;
    }
    const xs = n.inputs.map(value);
    const p = n.weights.flatMap((w, q) => (w.statistic ? [] : [params[n.index[q]]]));
    const s = n.statistic;
    const norm: NormContext =
      s === null ? {} : statistics ? { statistics: [statistics[s], statistics[s + 1]] } : collect ? { collect: (m, v) => collect(s, m, v) } : {};
    const act = n.kind.activation?.(n.config) ?? 'linear';
    if (outputSet.has(i) && !kept.has(i) && n.kind.forwardLogits && (act === 'softmax' || act === 'sigmoid')) {
      const z = n.kind.forwardLogits(n.config, xs, p, norm);
      logits.set(i, z);
      values.push(activate(z, act));
    } else values.push(n.kind.forward(n.config, xs, p, norm));
  });
  return g.outputs.map((o) => logits.get(o) ?? value(o + 1));
}

/** The graph as a tfjs LayersModel (the tfjs layers of the table), its weights set per layer when given. */
export function graphTfjsModel(g: CompiledGraph, params?: readonly tf.Tensor[], statistics?: readonly tf.Tensor[], name = 'extra_graph'): tf.LayersModel {
  const input = tf.input({ shape: g.inputShape, name: g.graph.input });
  const values: tf.SymbolicTensor[] = [input];
  const layers = g.nodes.map((n) => {
    const layer = n.kind.tfjs(n.config, n.layer.name);
    const xs = n.inputs.map((j) => values[j]);
    values.push(layer.apply(xs.length === 1 ? xs[0] : xs) as tf.SymbolicTensor);
    return layer;
  });
  const model = tf.model({ inputs: input, outputs: g.outputs.map((o) => values[o + 1]), name });
  if (params) {
    g.nodes.forEach((n, i) => {
      if (!n.weights.length) return;
      const ws = n.weights.map((w, q) => {
        if (!w.statistic) return params[n.index[q]];
        // without statistics a BatchNormalization keeps its initial ones (mean 0, variance 1)
        return statistics ? statistics[n.index[q]] : (w.torch === 'running_mean' ? tf.zeros(w.shape) : tf.ones(w.shape));
      });
      layers[i].setWeights(ws);
    });
  }
  return model;
}

/** Parameters and statistics of a tfjs model built from this graph, read per layer by name. */
export function graphWeightsOf(g: CompiledGraph, model: tf.LayersModel, where: string): { params: tf.Tensor[]; statistics: tf.Tensor[] } {
  const params: tf.Tensor[] = new Array(g.params.length);
  const statistics: tf.Tensor[] = new Array(g.statistics.length);
  for (const n of g.nodes) {
    if (!n.weights.length) continue;
    let layer: tf.layers.Layer;
    try {
      layer = model.getLayer(n.layer.name);
    } catch {
      throw new ExtraInputError(`${where}: has no layer '${n.layer.name}'`);
    }
    const ws = layer.getWeights();
    if (ws.length !== n.weights.length) throw new ExtraInputError(`${where}: layer '${n.layer.name}' has ${ws.length} weights, the model needs ${n.weights.length}`);
    n.weights.forEach((w, q) => {
      if (ws[q].shape.join(',') !== w.shape.join(',')) throw new ExtraInputError(`${where}: ${n.layer.name}.${w.keras} has shape [${ws[q].shape.join(',')}], the model needs [${w.shape.join(',')}]`);
      (w.statistic ? statistics : params)[n.index[q]] = ws[q].clone();
    });
  }
  return { params, statistics };
}

/**
 * Each parameter or statistic in PyTorch layout, in parameter-then-statistic order: the table's
 * per-weight layout, and a Dense reading a flattened [h,w,c] image gets its rows in NCHW order.
 */
export function graphTorchTensors(g: CompiledGraph, params: readonly tf.Tensor[], statistics: readonly tf.Tensor[], reorderFlattened = true): { params: tf.Tensor[]; statistics: tf.Tensor[] } {
  // the [h,w,c] a value is the flattening of (Flatten of an image, through Dropout / Activation);
  // a graph read from ONNX flattens in NCHW order itself (a Permute before its Flatten): no reordering
  const image: ([number, number, number] | null)[] = [null];
  const shapes = [g.inputShape, ...g.nodes.map((n) => n.outShape)];
  g.nodes.forEach((n) => {
    const src = shapes[n.inputs[0]];
    if (n.layer.class === 'Flatten') image.push(src.length === 3 && reorderFlattened ? [src[0], src[1], src[2]] : null);
    else if (['Dropout', 'Activation', 'ReLU', 'LeakyReLU'].includes(n.layer.class)) image.push(image[n.inputs[0]]);
    else image.push(null);
  });
  const outP = [...params];
  const outS = [...statistics];
  g.nodes.forEach((n) => {
    n.weights.forEach((w, q) => {
      const target = w.statistic ? outS : outP;
      // statistics may be left out (parameters only)
      if (n.index[q] >= target.length) return;
      let v = target[n.index[q]];
      const img = image[n.inputs[0]];
      if (n.layer.class === 'Dense' && q === 0 && img) v = v.reshape([img[0], img[1], img[2], -1]).transpose([2, 0, 1, 3]).reshape([img[0] * img[1] * img[2], -1]);
      target[n.index[q]] = n.kind.toTorch ? n.kind.toTorch(n.config, q, v) : v;
    });
  });
  return { params: outP, statistics: outS };
}
