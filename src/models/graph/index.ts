import * as tf from '@tensorflow/tfjs';
import { ExtraInputError } from '../../errors.js';
import type { FunctionalModel, ModelSpec } from '../types.js';
import { compileGraph, graphForward, graphTfjsModel, inferredLoss, taskLossKinds, type CompiledGraph, type TaskLoss } from './compile.js';
import { parseTopology, type GraphSpec } from './topology.js';
import { taskKind } from '../../tasks/index.js';

export { parseTopology, graphSpecSchema, type GraphSpec, type GraphLayer, type ParsedTopology } from './topology.js';
export { compileGraph, graphForward, graphTfjsModel, graphWeightsOf, graphTorchTensors, inferredLoss, taskLossKinds, type CompiledGraph, type StatisticSpec, type TaskLoss } from './compile.js';
export { layerKinds, layerClassNames } from './kinds.js';

const compiled = new WeakMap<GraphSpec, CompiledGraph>();

/** The compiled graph of a graph spec (memoized per spec object). */
export function compiledGraphOf(spec: ModelSpec): CompiledGraph {
  if (!spec.graph) throw new ExtraInputError(`model '${spec.arch}' has no layer graph`);
  let g = compiled.get(spec.graph);
  if (!g) {
    g = compileGraph(spec.graph, spec.inputShape);
    compiled.set(spec.graph, g);
  }
  return g;
}

/** Why a graph spec does not fit its tasks (null when it does): output count, units and losses. */
export function checkGraphSpec(spec: ModelSpec): string | null {
  let g: CompiledGraph;
  try {
    g = compiledGraphOf(spec);
  } catch (e) {
    return (e as Error).message;
  }
  const K = spec.numClasses.length;
  if (g.outputs.length !== K) return `the model has ${g.outputs.length} output(s) but the data set has ${K} task(s) (${spec.taskNames.join(', ')})`;
  const losses = spec.losses ?? [];
  if (losses.length !== K) return `the model needs one loss per task (${K}), has ${losses.length}`;
  for (let k = 0; k < K; k++) {
    const units = g.outputUnits[k];
    const name = g.graph.outputs[k];
    const kind = taskKind(losses[k]);
    if (kind.perPixel || g.outputShapes[k].length !== 1) {
      const bad = kind.checkOutput(g.outputShapes[k], { classes: spec.numClasses[k] });
      if (bad) return `output '${name}' does not fit task ${spec.taskNames[k]} (loss ${losses[k]}): ${bad}`;
      if (kind.perPixel && g.outputShapes[k].slice(0, 2).join(',') !== spec.inputShape.slice(0, 2).join(',')) {
        return `output '${name}' (task ${spec.taskNames[k]}, loss ${losses[k]}) is ${g.outputShapes[k][0]}×${g.outputShapes[k][1]} per pixel; the input and its labels are ${spec.inputShape[0]}×${spec.inputShape[1]}`;
      }
      continue;
    }
    if (losses[k] !== 'mse' && spec.numClasses[k] === 1) return `task ${spec.taskNames[k]} is a regression (real-valued targets); its output '${name}' needs loss mse, not ${losses[k]}`;
    if (losses[k] === 'ce' && units !== spec.numClasses[k]) return `output '${name}' has ${units} units but task ${spec.taskNames[k]} has ${spec.numClasses[k]} classes (loss ce)`;
    if (losses[k] === 'bce' && (units !== 1 || spec.numClasses[k] !== 2)) return `output '${name}' (loss bce) needs 1 unit and a binary task; it has ${units} units and task ${spec.taskNames[k]} has ${spec.numClasses[k]} classes`;
    if (losses[k] === 'mse' && (units !== 1 || spec.numClasses[k] !== 1)) return `output '${name}' (loss mse) needs 1 unit and a regression task (real-valued targets); it has ${units} units and task ${spec.taskNames[k]} ${spec.numClasses[k] === 1 ? 'is a regression' : `has ${spec.numClasses[k]} classes`}`;
  }
  return null;
}

/**
 * The spec of a user's model for a data set: the topology's input must hold the data's inputs (the
 * same shape, or a flat vector of the same size) and its outputs are the tasks, in order. Losses are
 * given per task or inferred from each output's final activation.
 */
export function graphModelSpec(
  topology: unknown,
  where: string,
  data: { inputShape: number[]; numClasses: number[]; taskNames: string[]; taskKinds?: TaskLoss[] },
  losses?: TaskLoss[],
  outputs?: string[],
): ModelSpec {
  const parsed = parseTopology(topology, where);
  return graphSpecFor(parsed.graph, parsed.inputShape, where, data, losses, outputs);
}

/** The same for a layer graph already in extra's form (an ONNX import). */
export function graphSpecFor(
  graph0: GraphSpec,
  inputShape: number[],
  where: string,
  data: { inputShape: number[]; numClasses: number[]; taskNames: string[]; taskKinds?: TaskLoss[] },
  losses?: TaskLoss[],
  outputs?: string[],
  extra: Partial<Pick<ModelSpec, 'onnx'>> = {},
): ModelSpec {
  let graph = graph0;
  if (outputs) {
    // which layer answers which task, in the data set's task order (any layer with a flat output)
    const names = new Set(graph.layers.map((l) => l.name));
    const unknown = outputs.filter((o) => !names.has(o));
    if (unknown.length) throw new ExtraInputError(`--tasks names ${unknown.map((u) => `'${u}'`).join(', ')}, not layers of ${where} (its outputs: ${graph.outputs.join(', ')})`);
    if (new Set(outputs).size !== outputs.length) throw new ExtraInputError('--tasks names a layer twice');
    graph = { ...graph, outputs: [...outputs] };
  }
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  if (inputShape.join(',') !== data.inputShape.join(',') && !(inputShape.length === 1 && size(inputShape) === size(data.inputShape))) {
    throw new ExtraInputError(`${where}: the model's input is [${inputShape.join(',')}] but the data set's inputs are [${data.inputShape.join(',')}]`);
  }
  const g = compileGraph(graph, inputShape, where);
  const K = data.taskNames.length;
  if (g.outputs.length !== K) throw new ExtraInputError(`${where}: the model has ${g.outputs.length} output(s) but the data set has ${K} task(s) (${data.taskNames.join(', ')})`);
  if (losses && losses.length !== K) throw new ExtraInputError(`--losses names ${losses.length} losses for ${K} tasks`);
  const chosen = losses ?? g.outputs.map((_, k) => {
    // a per-pixel task's kind is the data set's: an activation cannot tell seg from depth
    const declared = data.taskKinds?.[k];
    if (declared && taskKind(declared).perPixel) return declared;
    const l = inferredLoss(g.outputActivations[k], g.outputUnits[k], data.numClasses[k]);
    if (!l) throw new ExtraInputError(`${where}: output '${graph.outputs[k]}' ends in ${g.outputActivations[k]}; say its loss with --losses (${taskLossKinds.join(', ')})`);
    return l;
  });
  const clash = data.taskKinds ? chosen.findIndex((l, k) => l !== data.taskKinds![k] && (taskKind(l).perPixel || taskKind(data.taskKinds![k]).perPixel)) : -1;
  if (clash >= 0) throw new ExtraInputError(`${where}: task ${data.taskNames[clash]} is a per-pixel task of kind ${data.taskKinds![clash]} in the data set; its loss cannot be ${chosen[clash]}`);
  const spec: ModelSpec = { arch: 'graph', inputShape, numClasses: [...data.numClasses], taskNames: [...data.taskNames], graph, losses: chosen, ...extra };
  const bad = checkGraphSpec(spec);
  if (bad) throw new ExtraInputError(`${where}: ${bad}`);
  assertGraphRuns(spec, where);
  return spec;
}

/**
 * Run the model once before any training: built as tfjs layers (the checkpoint format, so tfjs' own
 * rules such as Flatten's input rank apply now and not at the first checkpoint) and one zero sample
 * through the forward, in training and in inference mode. Only after the size check passed.
 */
function assertGraphRuns(spec: ModelSpec, where: string): void {
  const g = compiledGraphOf(spec);
  let built: tf.LayersModel | null = null;
  try {
    built = graphTfjsModel(g);
  } catch (e) {
    throw new ExtraInputError(`${where}: ${(e as Error).message.split('\n')[0]} (checkpoints are tfjs layers models)`);
  } finally {
    built?.dispose();
  }
  const model = graphModel(spec);
  try {
    tf.tidy(() => {
      const params = model.params.map((p) => tf.zeros(p.shape));
      const stats = model.statistics.map((st) => (st.name.endsWith('running_var') ? tf.ones(st.shape) : tf.zeros(st.shape)));
      const x = tf.zeros([1, ...spec.inputShape]);
      model.forward(params, x);
      if (stats.length) model.forward(params, x, stats);
    });
  } catch (e) {
    throw new ExtraInputError(`${where}: the model does not run on one input of shape [${spec.inputShape.join(',')}]: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** A user's graph spec as a functional model (its losses from the spec). */
export function graphModel(spec: ModelSpec): FunctionalModel {
  return functionalModelOf(spec, compiledGraphOf(spec), spec.losses ?? compiledGraphOf(spec).outputs.map(() => 'ce'));
}

/** The functional model of a compiled graph: parameters, statistics, and the pure forward. */
export function functionalModelOf(spec: ModelSpec, g: CompiledGraph, losses: TaskLoss[]): FunctionalModel {
  const keepActivation = losses.map((l) => taskKind(l).keepActivation);
  return {
    spec,
    params: g.params,
    statistics: g.statistics,
    footprint: g.footprint,
    losses,
    labelShapes: losses.map((l, k) => taskKind(l).labelShape(g.outputShapes[k])),
    forward: (params, x, statistics) => graphForward(g, params, x, statistics && statistics.length ? statistics : undefined, undefined, keepActivation),
    batchStatistics(params, x) {
      const out: tf.Tensor[] = new Array(g.statistics.length);
      graphForward(g, params, x, undefined, (s, mean, variance) => {
        out[s] = mean;
        out[s + 1] = variance;
      });
      return out;
    },
  };
}
