import { ExtraInputError } from '../errors.js';
import { lenetArch } from './lenet.js';
import { mlpArch } from './mlp.js';
import { segnetArch } from './segnet.js';
import type { Architecture, ArchOptions, FunctionalModel, ModelSpec, TaskLoss } from './types.js';
import { taskKind } from '../tasks/index.js';
import { checkGraphSpec, compiledGraphOf, compileGraph, functionalModelOf, type CompiledGraph } from './graph/index.js';

/** The arch name of a user's own layer graph (`--model-json`): its spec carries the graph itself. */
export const GRAPH_ARCH = 'graph';

/** The architectures, by name. A new one is one file in this folder and one line here. */
export const architectures: Readonly<Record<string, Architecture>> = {
  'lenet-mtl': lenetArch,
  'mlp-mtl': mlpArch,
  'segnet-mtl': segnetArch,
};

export const modelArchs: readonly string[] = Object.keys(architectures);

export function getArchitecture(name: string): Architecture {
  const a = Object.hasOwn(architectures, name) ? architectures[name] : undefined;
  if (!a) throw new ExtraInputError(`unknown model architecture '${name}' (known: ${modelArchs.join(', ')})`);
  return a;
}

const builtinGraphs = new WeakMap<ModelSpec, CompiledGraph>();

/**
 * The compiled layer graph of any spec — a user's own (spec.graph) or a built-in architecture's,
 * derived from the spec and memoized per spec object: the one model representation.
 */
export function modelGraph(spec: ModelSpec): CompiledGraph {
  if (spec.arch === GRAPH_ARCH) {
    const bad = checkGraphSpec(spec);
    if (bad) throw new ExtraInputError(bad);
    return compiledGraphOf(spec);
  }
  let g = builtinGraphs.get(spec);
  if (!g) {
    const arch = getArchitecture(spec.arch);
    const bad = arch.checkSpec(spec);
    if (bad) throw new ExtraInputError(bad);
    g = compileGraph(arch.graph(spec), spec.inputShape, spec.arch);
    builtinGraphs.set(spec, g);
  }
  return g;
}

/** The losses of a spec: a user's graph says its own; a built-in's task with one "class" is a regression (one linear output, squared error). */
function lossesOf(spec: ModelSpec, g: CompiledGraph): TaskLoss[] {
  if (spec.arch === GRAPH_ARCH) return spec.losses ?? g.outputs.map(() => 'ce');
  // a built-in for a per-pixel data set carries the data set's task kinds
  return spec.losses ?? spec.numClasses.map((c) => (c === 1 ? 'mse' : 'ce'));
}

/** Why a built-in's outputs cannot answer its tasks' kinds (a per-sample head for a per-pixel task), or null. */
function outputsProblem(spec: ModelSpec, g: CompiledGraph, losses: TaskLoss[]): string | null {
  for (let k = 0; k < losses.length; k++) {
    const bad = taskKind(losses[k]).checkOutput(g.outputShapes[k], { classes: spec.numClasses[k] });
    if (bad) return `${spec.arch} cannot answer task ${spec.taskNames[k]} (${losses[k]}): ${bad}${taskKind(losses[k]).perPixel ? ' (per-pixel tasks: --arch segnet-mtl, or your own model)' : ''}`;
  }
  return null;
}

/** The functional model of a spec: its graph's parameters, statistics and pure forward. */
export function buildModel(spec: ModelSpec): FunctionalModel {
  const g = modelGraph(spec);
  const losses = lossesOf(spec, g);
  if (spec.arch !== GRAPH_ARCH) {
    const bad = outputsProblem(spec, g, losses);
    if (bad) throw new ExtraInputError(bad);
  }
  return functionalModelOf(spec, g, losses);
}

/** The tfjs model's name in checkpoints. */
export function kerasModelName(spec: ModelSpec): string {
  return spec.arch === GRAPH_ARCH ? 'extra_graph' : getArchitecture(spec.arch).kerasName;
}

/** Why a spec is not a valid model (null when it is): the architecture's own check, or the graph's. */
export function checkModelSpec(spec: ModelSpec): string | null {
  if (spec.arch === GRAPH_ARCH) return checkGraphSpec(spec);
  const arch = Object.hasOwn(architectures, spec.arch) ? architectures[spec.arch] : undefined;
  if (!arch) return `unknown architecture '${spec.arch}' (known: ${modelArchs.join(', ')}, or your own with --model-json)`;
  if (spec.graph) return `${spec.arch} takes no layer graph`;
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
export function defaultModelSpec(arch: string, inputShape: number[], numClasses: number[], taskNames: string[], hidden?: number[], taskKinds?: TaskLoss[]): ModelSpec {
  const a = getArchitecture(arch);
  const options: ArchOptions = hidden ? { hidden } : {};
  const spec0 = a.spec(inputShape, numClasses, taskNames, options);
  // a data set with per-pixel tasks says each task's kind; the architecture's outputs must fit them
  const spec = taskKinds?.some((k) => taskKind(k).perPixel) ? { ...spec0, losses: [...taskKinds] } : spec0;
  const bad = a.checkSpec(spec);
  if (bad) throw new ExtraInputError(bad);
  buildModel(spec); // an input too small for the trunk, or a model too large for memory, is refused here
  return spec;
}
