import * as tf from '@tensorflow/tfjs';
import { ExtraInputError } from '../errors.js';
import { lenetArch } from './lenet.js';
import { mlpArch } from './mlp.js';
import type { Architecture, ArchOptions, FunctionalModel, ModelSpec, ParamSpec } from './types.js';
import { trunkForward, trunkParamSpecs, trunkShapes } from './sequential.js';
import { checkGraphSpec, graphModel } from './graph/index.js';
import { footprintOf, footprintProblem } from './footprint.js';

/** The arch name of a user's own layer graph (`--model-json`): its spec carries the graph itself. */
export const GRAPH_ARCH = 'graph';

/** The architectures, by name. A new one is one file in this folder and one line here. */
export const architectures: Readonly<Record<string, Architecture>> = {
  'lenet-mtl': lenetArch,
  'mlp-mtl': mlpArch,
};

export const modelArchs: readonly string[] = Object.keys(architectures);

export function getArchitecture(name: string): Architecture {
  const a = Object.hasOwn(architectures, name) ? architectures[name] : undefined;
  if (!a) throw new ExtraInputError(`unknown model architecture '${name}' (known: ${modelArchs.join(', ')})`);
  return a;
}

/** One dense head per task on the trunk's features: heads.k.weight [features, C_k], heads.k.bias [C_k]. */
export function headParams(spec: ModelSpec, features: number): ParamSpec[] {
  return spec.numClasses.flatMap((c, k): ParamSpec[] => [
    { name: `heads.${k}.weight`, shape: [features, c], init: 'glorot-uniform', shared: false, task: k },
    { name: `heads.${k}.bias`, shape: [c], init: 'zeros', shared: false, task: k },
  ]);
}

/** The functional model of a spec: trunk parameters, then the heads; forward = heads(trunk(x)). */
export function buildModel(spec: ModelSpec): FunctionalModel {
  if (spec.arch === GRAPH_ARCH) {
    const bad = checkGraphSpec(spec);
    if (bad) throw new ExtraInputError(bad);
    return graphModel(spec);
  }
  const arch = getArchitecture(spec.arch);
  const bad = arch.checkSpec(spec);
  if (bad) throw new ExtraInputError(bad);
  const layers = arch.trunk(spec);
  const trunk = trunkParamSpecs(layers, spec.inputShape);
  const shapes = trunkShapes(layers, spec.inputShape);
  const features = shapes[shapes.length - 1].reduce((a, b) => a * b, 1);
  const nTrunk = trunk.length;
  const params = [...trunk, ...headParams(spec, features)];
  // sizes from the shapes alone, before anything is allocated
  const footprint = footprintOf(params, [...shapes, ...spec.numClasses.map((c) => [c])]);
  const tooBig = footprintProblem(footprint);
  if (tooBig) throw new ExtraInputError(`${spec.arch}: ${tooBig}`);
  return {
    spec,
    params,
    footprint,
    statistics: [],
    // a task with one "class" is a regression (real-valued targets): one linear output, squared error
    losses: spec.numClasses.map((c) => (c === 1 ? 'mse' : 'ce')),
    forward(p, x) {
      const z = trunkForward(layers, spec.inputShape, p.slice(0, nTrunk), x);
      return spec.numClasses.map((_, k) => tf.add(tf.matMul(z, p[nTrunk + 2 * k] as tf.Tensor2D), p[nTrunk + 2 * k + 1]) as tf.Tensor2D);
    },
  };
}

/** Why a spec is not a valid model (null when it is): the architecture's own check, or the graph's. */
export function checkModelSpec(spec: ModelSpec): string | null {
  if (spec.arch === GRAPH_ARCH) return checkGraphSpec(spec);
  const arch = Object.hasOwn(architectures, spec.arch) ? architectures[spec.arch] : undefined;
  if (!arch) return `unknown architecture '${spec.arch}' (known: ${modelArchs.join(', ')}, or your own with --model-json)`;
  if (spec.graph || spec.losses) return `${spec.arch} takes no layer graph or losses`;
  const bad = arch.checkSpec(spec);
  if (bad) return bad;
  try {
    buildModel(spec); // shapes and sizes (nothing is allocated)
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

/** The spec of an architecture for a data set's input shape and classes, checked. */
export function defaultModelSpec(arch: string, inputShape: number[], numClasses: number[], taskNames: string[], hidden?: number[]): ModelSpec {
  const a = getArchitecture(arch);
  const options: ArchOptions = hidden ? { hidden } : {};
  const spec = a.spec(inputShape, numClasses, taskNames, options);
  const bad = a.checkSpec(spec);
  if (bad) throw new ExtraInputError(bad);
  buildModel(spec); // an input too small for the trunk, or a model too large for memory, is refused here
  return spec;
}
