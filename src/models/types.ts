import type * as tf from '@tensorflow/tfjs';

/** How a parameter tensor is initialised (fan-in/fan-out from the layout). */
export type InitKind = 'glorot-uniform' | 'he-uniform' | 'zeros';

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
 * architecture's own options (today: `hidden` widths for mlp-mtl).
 */
export interface ModelSpec {
  arch: string;
  inputShape: number[];
  numClasses: number[];
  taskNames: string[];
  hidden?: number[];
}

/** Options of `extra train` that shape a model (an architecture refuses those it does not use). */
export interface ArchOptions {
  hidden?: number[];
}

/**
 * One architecture, defined once: its shared trunk as parameters + a pure forward, the same trunk
 * as tfjs layers (for checkpoints that tf.loadLayersModel reads), and where its PyTorch layout
 * differs from the generic one. The task heads (one dense layer per task on the trunk's features)
 * are common to all and added by makeModel.
 */
export interface Architecture {
  name: string;
  description: string;
  /** the spec for a data set's input shape and classes; throws ExtraInputError on a mismatch */
  spec(inputShape: number[], numClasses: number[], taskNames: string[], options: ArchOptions): ModelSpec;
  /** why a stored spec is not one of this architecture's (null when it is) */
  checkSpec(spec: ModelSpec): string | null;
  /** the trunk's parameters, in forward order */
  trunkParams(spec: ModelSpec): ParamSpec[];
  /** the width of the trunk's output features (the heads' input) */
  features(spec: ModelSpec): number;
  /** trunk forward: the trunk's parameters and a batch → features [batch, features] */
  trunk(spec: ModelSpec, params: readonly tf.Tensor[], x: tf.Tensor): tf.Tensor2D;
  /** the trunk as tfjs layers applied in order (weights in trunkParams order, Keras layouts) */
  trunkLayers(spec: ModelSpec): tf.layers.Layer[];
  /**
   * A trunk parameter in PyTorch layout when the generic one (conv [out,in,kh,kw], linear [out,in])
   * is not enough (e.g. a flatten's NHWC → NCHW order); null for the generic one.
   */
  pytorchValue?(spec: ModelSpec, name: string, value: tf.Tensor): tf.Tensor | null;
}

/**
 * A model is data plus pure functions: its spec, the list of parameter specs, and
 * `forward(params, x)` that returns one logits tensor per task. A curve feeds C(t) — a
 * parameter list — into the very same forward.
 */
export interface FunctionalModel {
  spec: ModelSpec;
  params: ParamSpec[];
  forward(params: readonly tf.Tensor[], x: tf.Tensor): tf.Tensor2D[];
}
