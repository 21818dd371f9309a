import * as tf from '@tensorflow/tfjs';
import { buildModel, type ModelSpec } from '../models/index.js';
import { programModule, registerShardProgram, type ShardProgramSpec } from '../parallel/program.js';
import { evaluateSplits } from '../train/evaluate.js';
import { labelDtype } from '../train/losses.js';
import { planePoint } from './plane.js';

/** The pool program of a loss-landscape plane: the model origin + a·u + b·v at a point (a, b); evaluation only. */
export interface PlaneProgramSpec extends ShardProgramSpec {
  kind: 'plane';
  spec: ModelSpec;
  origin: Float32Array[];
  u: Float32Array[];
  v: Float32Array[];
}

export function planeProgramSpec(spec: ModelSpec, origin: Float32Array[], u: Float32Array[], v: Float32Array[]): PlaneProgramSpec {
  return { kind: 'plane', module: programModule(new URL(import.meta.url)), spec, origin, u, v };
}

registerShardProgram<PlaneProgramSpec>('plane', (p) => {
  const model = buildModel(p.spec);
  return {
    inputShape: model.spec.inputShape,
    labelDtypes: model.losses.map(labelDtype),
    shapes: [],
    // no losses: a plane is only evaluated (the evaluation pool never asks)
    losses: () => [],
    evaluateAt: (_trainable, point, splits, train) => {
      const params = planePoint(p.origin, p.u, p.v, point[0], point[1]).map((w, i) => tf.tensor(w, model.params[i].shape));
      try {
        return evaluateSplits(model, params, splits, train);
      } finally {
        tf.dispose(params);
      }
    },
  };
});
