import type * as tf from '@tensorflow/tfjs';
import type { ModelFootprint } from './footprint.js';
import type { TaskKind } from '../tasks/index.js';

/* The models' vocabulary: every other file of src/models imports its types from here, never the reverse. */

/**
 * A layer graph — the one representation of every model extra trains: a user's model.json, the
 * built-in architectures (src/models/lenet.ts, mlp.ts) and ONNX imports all become one. One input,
 * layers in topological order with their Keras class, their Keras config (kept as written, parsed
 * by the layer table on use) and the names of the layers feeding them, and the output layers — one
 * per task.
 */
export interface GraphLayer {
  name: string;
  class: string;
  config: Record<string, unknown>;
  inputs: string[];
  /**
   * The parameter / statistic names of this layer's weights, in the layer table's weight order
   * (default `${name}.weight`, `.bias`, …): the checkpoint and state_dict names, so a model keeps
   * the names its author gave (`heads.0.weight`, an ONNX initializer's name).
   */
  weightNames?: string[];
}

export interface GraphSpec {
  input: string;
  layers: GraphLayer[];
  outputs: string[];
}


/**
 * The kinds of task (src/tasks): ce, bce, mse per sample; seg, depth, normal per pixel. The one list that
 * the compile step, the flags and run.json's schema share.
 */
export { taskKindNames as taskLossKinds } from '../tasks/index.js';
export type TaskLoss = TaskKind;

/** A BatchNormalization statistic (moving mean or variance): state recomputed for every point, not trained. */
export interface StatisticSpec {
  name: string;
  shape: number[];
}


/** How a parameter tensor is initialised (fan-in/fan-out from the layout). */
export type InitKind = 'glorot-uniform' | 'he-uniform' | 'zeros' | 'ones';

/** One named parameter. Names are stable: they are the checkpoint names. */
export interface ParamSpec {
  name: string;
  shape: number[];
  init: InitKind;
  /** shared trunk parameter (true) or task-specific head parameter (false) */
  shared: boolean;
  /** the task a head parameter belongs to */
  task?: number;
}

/**
 * A model's spec as stored in run.json and in every checkpoint: the architecture's name (a key of
 * the table in src/models/registry.ts), the input shape, one class count and name per task, and the
 * architecture's own options (today: `hidden` widths for mlp-mtl). A user's own model (`--model-json`)
 * is arch 'graph' with its layer graph and one loss per task.
 */
export interface ModelSpec {
  arch: string;
  inputShape: number[];
  numClasses: number[];
  taskNames: string[];
  hidden?: number[];
  graph?: GraphSpec;
  losses?: TaskLoss[];
  /** a graph read from ONNX: the file it came from (kept in the run) and how its initializers are laid out */
  onnx?: OnnxSource;
}

/** Where an ONNX-imported graph came from: its export writes the same file with new initializers. */
export interface OnnxSource {
  sha256: string;
  opset: number;
  /** parameters the file holds as [in, out] where the state_dict has [out, in] */
  transposed: string[];
  /** parameter name → the file's initializer name, where the exporter renamed it */
  renamed?: Record<string, string>;
}

/** Options of `extra train` that shape a model (an architecture refuses those it does not use). */
export interface ArchOptions {
  hidden?: number[];
}

/**
 * One built-in architecture, defined once as a layer graph for a spec (its trunk and one head per
 * task), compiled by the same code as a user's own graph: parameters, the pure forward, the tfjs
 * layers of checkpoints and the PyTorch layout all come from that graph.
 */
export interface Architecture {
  name: string;
  description: string;
  /** the spec for a data set's input shape and classes */
  spec(inputShape: number[], numClasses: number[], taskNames: string[], options: ArchOptions): ModelSpec;
  /** why a spec is not one of this architecture's (null when it is) */
  checkSpec(spec: ModelSpec): string | null;
  /** the whole model as a layer graph, for a (checked) spec */
  graph(spec: ModelSpec): GraphSpec;
  /** the tfjs model's name in checkpoints */
  kerasName: string;
}

/**
 * A model is data plus pure functions: its spec, the list of parameter specs, and
 * `forward(params, x)` that returns one logits tensor per task. A curve feeds C(t) — a
 * parameter list — into the very same forward.
 */
export interface FunctionalModel {
  spec: ModelSpec;
  params: ParamSpec[];
  /** BatchNormalization statistics (empty for a model without): recomputed for every point, never trained */
  statistics: StatisticSpec[];
  /** its size in memory, from the shapes (checked before anything is allocated) */
  footprint?: ModelFootprint;
  /** one kind per task (src/tasks): its loss and metrics */
  losses: TaskLoss[];
  /** per task, the labels' shape per sample: [] for a per-sample task, [H,W] or [H,W,3] for a per-pixel one */
  labelShapes: number[][];
  /** logits (or values, for a regression) per task: [B, units] per sample, [B,H,W,C] per pixel; BatchNormalization uses `statistics` when given, else the batch's own (training) */
  forward(params: readonly tf.Tensor[], x: tf.Tensor, statistics?: readonly tf.Tensor[]): tf.Tensor[];
  /** the batch statistics each BatchNormalization uses in a training-mode forward, in `statistics` order */
  batchStatistics?(params: readonly tf.Tensor[], x: tf.Tensor): tf.Tensor[];
}
