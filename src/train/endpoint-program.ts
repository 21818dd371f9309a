import * as tf from '@tensorflow/tfjs';
import { buildModel, type ModelSpec } from '../models/index.js';
import { programModule, registerShardProgram, type ShardProgramSpec } from '../parallel/program.js';
import { labelDtype, taskLoss } from './losses.js';
import { perTaskGradients } from './per-task-gradients.js';

/** The pool program of an endpoint training: the model's task losses on a shard, or its per-task gradients. */
export interface EndpointProgramSpec extends ShardProgramSpec {
  kind: 'endpoint';
  spec: ModelSpec;
}

export function endpointProgramSpec(spec: ModelSpec): EndpointProgramSpec {
  return { kind: 'endpoint', module: programModule(new URL(import.meta.url)), spec };
}

registerShardProgram<EndpointProgramSpec>('endpoint', (p) => {
  const model = buildModel(p.spec);
  return {
    inputShape: model.spec.inputShape,
    labelDtypes: model.losses.map(labelDtype),
    shapes: model.params.map((q) => q.shape),
    losses: (params, x, y) => model.forward(params, x).map((o, k) => taskLoss(model.losses[k], o, y[k])),
    perTaskGradients: (params, x, y, rows) => perTaskGradients(model, params, { x, y: y, size: rows }),
  };
});
