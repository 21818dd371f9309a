import { buildModel, type ModelSpec } from '../models/index.js';
import { programModule, registerShardProgram, type ShardProgramSpec } from '../parallel/program.js';
import { labelDtype, taskLoss } from '../train/losses.js';
import { hyperForward, hyperParamSpecs } from './hypernet.js';

/** The pool program of a Pareto hypernetwork: trainable = its parameters, θ(ray) feeds the model. */
export interface HyperNetProgramSpec extends ShardProgramSpec {
  kind: 'hypernet';
  spec: ModelSpec;
  hidden: number;
}

export function hyperNetProgramSpec(spec: ModelSpec, hidden: number): HyperNetProgramSpec {
  return { kind: 'hypernet', module: programModule(new URL(import.meta.url)), spec, hidden };
}

registerShardProgram<HyperNetProgramSpec>('hypernet', (p) => {
  const model = buildModel(p.spec);
  return {
    inputShape: model.spec.inputShape,
    labelDtypes: model.losses.map(labelDtype),
    shapes: hyperParamSpecs(model, { hidden: p.hidden }).map((s) => s.shape),
    losses: (trainable, x, y, inputs) => {
      const ray = inputs.ray;
      if (!Array.isArray(ray) || !ray.every((r) => typeof r === 'number')) throw new Error('hypernet step without its ray');
      const theta = hyperForward(model, trainable, ray as number[]);
      return model.forward(theta, x).map((o, k) => taskLoss(model.losses[k], o, y[k]));
    },
  };
});
