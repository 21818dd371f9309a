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

export interface LenetSpec {
  arch: 'lenet-mtl';
  inputShape: [number, number, number];
  numClasses: number[];
  taskNames: string[];
}

export interface MlpSpec {
  arch: 'mlp-mtl';
  inputShape: number[];
  hidden: number[];
  numClasses: number[];
  taskNames: string[];
}

export type ModelSpec = LenetSpec | MlpSpec;

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
