import type * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { selectBackend } from '../backend/index.js';
import { loadDataset, type MultiTaskDataset } from '../data/index.js';
import { datasetRecipeOf } from '../data/types.js';
import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import { buildModel, defaultModelSpec, loadLayersModelFromDir, GRAPH_ARCH, type FunctionalModel, type ModelSpec } from '../models/index.js';
import { graphModelSpec, type TaskLoss } from '../models/graph/index.js';
import { readJsonWith } from '../io/json-file.js';
import { assertFootprintFits } from '../models/footprint.js';
import { ExtraInputError } from '../errors.js';
import { taskKind } from '../tasks/index.js';
import { parsePreference } from '../objectives/index.js';
import { readGrouping, groupPreferenceToTasks } from '../grouping/index.js';
import { assertWritableDir, curveDir, listEndpoints, packageVersions, readRun, requireRun, writeRun, type DatasetRecipe, type EndpointInfo, type RunInfo } from '../run/index.js';
import { keepSourceOnnx, onnxFileSpec, onnxGraphDifferences } from './onnx.js';

/** A request with its defaults filled in: each of `defaults`' fields the request leaves undefined. */
export type WithDefaults<R, D> = Omit<R, keyof D> & { [K in keyof D]: K extends keyof R ? Exclude<R[K], undefined> | D[K] : D[K] };

export function withDefaults<R extends object, D extends object>(req: R, defaults: D): WithDefaults<R, D> {
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(req));
  for (const [k, v] of Object.entries(defaults)) if (out[k] === undefined) out[k] = v;
  // the loop above gave every key of D a value: the request's own, or the default
  return out as WithDefaults<R, D>;
}

/** Where an application function reports what it did (a line at a time); front ends decide where it goes. */
export type Log = (line: string) => void;
export const silent: Log = () => {};

/**
 * Pick the compute backend (given name > EXTRA_BACKEND > best available) and return its name.
 * tfjs keeps one backend per process, so this is process-global state.
 */
export async function useBackend(prefer?: string, quiet = true): Promise<string> {
  const r = await selectBackend({ prefer: prefer ?? process.env.EXTRA_BACKEND ?? undefined, quiet });
  return r.name;
}

/** The run's data set, rebuilt from its recipe and refused if its fingerprint differs from the run's. */
export async function loadRunDataset(info: RunInfo, quiet = true): Promise<MultiTaskDataset> {
  const d = info.dataset;
  const { name, ...options } = datasetRecipeOf(d);
  const ds = await loadDataset(name, { ...options, quiet });
  if (d.fingerprint && ds.fingerprint !== d.fingerprint) {
    throw new ExtraInputError(
      `the data set rebuilt for this run has fingerprint ${ds.fingerprint.slice(0, 12)}, but the run was trained on ${d.fingerprint.slice(0, 12)} (source files changed?)`,
    );
  }
  return ds;
}

/** A run directory with its validated run.json and its functional model. */
export interface OpenedRun {
  dir: string;
  info: RunInfo;
  model: FunctionalModel;
}

/** Open an existing run; `what` says why one is needed (it ends the error message when there is none). */
export async function openRun(dir: string, what = ''): Promise<OpenedRun> {
  const info = await requireRun(dir, what);
  return { dir, info, model: buildModel(info.model) };
}

export interface CreateRunRequest {
  run: string;
  /** data set recipe; an empty name means the run's own (or multi-mnist for a new run) */
  dataset: DatasetRecipe;
  /** a built-in architecture; absent: the existing run's own, or lenet-mtl for a new run */
  arch?: string;
  hidden?: number[];
  /** a tfjs-layers / Keras model.json (or its directory): the run's model instead of `arch` */
  modelJson?: string;
  /** an ONNX file (torch.onnx.export): the run's model, and its weights the start of every training */
  modelOnnx?: string;
  losses?: TaskLoss[];
  /** the model's output layers answering the tasks, in task order (default: its outputs as they are) */
  outputs?: string[];
  seed: number;
  /** preferences as text ('0.8,0.2'): per task, or per group for a grouped run */
  prefs: string[];
  /** the training's batch size: the model's activations at it must fit in memory (checked before anything is written) */
  batchSize?: number;
  quiet?: boolean;
}

export interface PreparedRun {
  info: RunInfo;
  /** per-task preferences, one per request preference */
  prefs: number[][];
  /** per-group preferences when the run is grouped */
  groupPrefs?: number[][];
}

/**
 * Ensure run.json exists and agrees with the requested data set and model; returns it with the
 * preferences parsed against it. Everything the caller gave is validated before anything is written.
 */
export async function createOrOpenRun(a: CreateRunRequest, backend: string): Promise<PreparedRun> {
  const existing = await readRun(a.run);
  if (existing) {
    if (a.dataset.name && a.dataset.name !== existing.dataset.name) {
      throw new ExtraInputError(`run ${a.run} uses data set ${existing.dataset.name}, not ${a.dataset.name}; use another --run`);
    }
    if (a.modelOnnx) {
      const { spec: mine } = await onnxFileSpec(a.modelOnnx, existing.dataset, a.losses, a.outputs);
      const bad = existing.model.onnx ? onnxGraphDifferences(existing.model, mine, `run ${a.run}`, a.modelOnnx) : `run ${a.run} was not made from an ONNX file`;
      if (bad) throw new ExtraInputError(`${bad}; use another --run`);
    } else if (a.modelJson) {
      const mine = await modelJsonSpec(a.modelJson, existing.dataset, a.losses, a.outputs);
      if (existing.model.arch !== GRAPH_ARCH || JSON.stringify(existing.model.graph) !== JSON.stringify(mine.graph) || JSON.stringify(existing.model.losses) !== JSON.stringify(mine.losses)) {
        throw new ExtraInputError(`run ${a.run} was made with another model than ${a.modelJson}; use another --run`);
      }
    } else if (a.arch !== undefined && a.arch !== existing.model.arch) throw new ExtraInputError(`run ${a.run} uses model ${existing.model.arch}, not ${a.arch}`);
    // data options given for an existing run (sizes, resolution, ...) must be the run's own: they are never silently ignored
    const d = existing.dataset;
    const asked: [string, number | undefined, number | undefined][] = [
      ['--train-size', a.dataset.trainSize, d.trainSize],
      ['--val-size', a.dataset.valSize, d.valSize],
      ['--test-size', a.dataset.testSize, d.testSize],
      ['--resolution', a.dataset.resolution, d.resolution],
      ['--val-fraction', a.dataset.valFraction, d.valFraction],
      ['--ignore-label', a.dataset.ignoreLabel, d.ignoreLabel],
    ];
    const differ = asked.filter(([, given, had]) => given !== undefined && had !== undefined && given !== had);
    if (differ.length) {
      throw new ExtraInputError(`run ${a.run} was made with ${differ.map(([f, , had]) => `${f} ${had}`).join(', ')}, not ${differ.map(([f, given]) => `${f} ${given}`).join(', ')}; drop the flags or use another --run`);
    }
    const grouping = await readGrouping(a.run);
    const K = existing.dataset.taskNames.length;
    if (grouping) {
      // with task grouping a preference has one entry per group
      const groupPrefs = a.prefs.map((p) => parsePreference(p, grouping.k, `preference over ${grouping.k} groups`));
      return { info: existing, prefs: groupPrefs.map((g) => groupPreferenceToTasks(g, grouping.groups, K)), groupPrefs };
    }
    return { info: existing, prefs: a.prefs.map((p) => parsePreference(p, K)) };
  }
  const name = a.dataset.name || 'multi-mnist';
  // your own arrays are found again from any working directory
  const recipe: DatasetRecipe = { ...a.dataset, name, ...(['npy', 'celeba', 'nyuv2', 'cityscapes', 'cityscapes-19'].includes(name) && a.dataset.dataDir ? { dataDir: path.resolve(a.dataset.dataDir) } : {}) };
  const ds = await loadDataset(recipe.name, { ...recipe, quiet: a.quiet ?? true });
  const prefs = a.prefs.map((p) => parsePreference(p, ds.taskNames.length));
  const own = a.modelJson ?? a.modelOnnx;
  if (a.modelJson && a.modelOnnx) throw new ExtraInputError('give one model: --model-json or --model-onnx');
  if (a.losses && !own) throw new ExtraInputError('--losses is for your own model (--model-json, --model-onnx); the built-in architectures use cross-entropy (squared error for a regression task)');
  if (a.outputs && !own) throw new ExtraInputError('--tasks names the outputs of your own model (--model-json, --model-onnx)');
  const onnx = a.modelOnnx ? await onnxFileSpec(a.modelOnnx, ds, a.losses, a.outputs) : null;
  const spec = onnx ? onnx.spec : a.modelJson ? await modelJsonSpec(a.modelJson, ds, a.losses, a.outputs) : defaultModelSpec(a.arch ?? (ds.taskKinds?.some((k) => taskKind(k).perPixel) ? 'segnet-mtl' : 'lenet-mtl'), ds.inputShape, ds.numClasses, ds.taskNames, a.hidden, ds.taskKinds);
  const footprint = buildModel(spec).footprint;
  if (footprint && a.batchSize !== undefined) assertFootprintFits(footprint, a.batchSize);
  await assertWritableDir(a.run);
  const info: RunInfo = {
    format: 'extra-run',
    version: 1,
    created: new Date().toISOString(),
    dataset: { ...recipe, fingerprint: ds.fingerprint, taskNames: ds.taskNames, numClasses: ds.numClasses, inputShape: ds.inputShape, ...(ds.taskKinds ? { taskKinds: ds.taskKinds } : {}) },
    model: spec,
    seed: a.seed,
    backend,
    packages: packageVersions(),
  };
  // the source file first: a run.json that names an ONNX source always has it
  if (onnx) await keepSourceOnnx(a.run, onnx.bytes);
  await writeRun(a.run, info);
  return { info, prefs };
}

/** A run's model spec from a model.json file (or the directory holding one) for a data set. */
export async function modelJsonSpec(file: string, data: { inputShape: number[]; numClasses: number[]; taskNames: string[]; taskKinds?: TaskLoss[] }, losses?: TaskLoss[], outputs?: string[]): Promise<ModelSpec> {
  let where = file;
  const st = await fsp.stat(file).catch(() => null);
  if (st?.isDirectory()) where = path.join(file, 'model.json');
  const topology = await readJsonWith(z.unknown(), where);
  return graphModelSpec(topology, where, data, losses, outputs);
}

/** The two endpoints a curve joins: given ids, or the most extreme pair of the run's endpoints. */
export async function pickEndpoints(runDir: string, ids?: string[], sides?: [number[], number[]]): Promise<[EndpointInfo, EndpointInfo]> {
  const all = await listEndpoints(runDir);
  if (ids && ids.length) {
    if (ids.length !== 2) throw new ExtraInputError(`--endpoints takes two endpoint ids, got ${ids.length}`);
    if (ids[0] === ids[1]) throw new ExtraInputError(`--endpoints names '${ids[0]}' twice; a curve joins two different endpoints`);
    const found = ids.map((id) => all.find((e) => e.id === id));
    found.forEach((f, i) => {
      if (!f) throw new ExtraInputError(`no finished endpoint '${ids[i]}' in ${runDir} (have: ${all.map((e) => e.id).join(', ') || 'none'})`);
    });
    return [found[0]!, found[1]!];
  }
  if (all.length < 2) {
    throw new ExtraInputError(
      `${runDir} has ${all.length} finished endpoint(s); a curve needs 2 — run 'extra train --run ${runDir} --pref 0.8,0.2 --pref 0.2,0.8' first`,
    );
  }
  // endpoint A favours side 0 (task 0, or the first endpoint group) most, endpoint B side 1
  const [s0, s1] = sides ?? [[0], [1]];
  const weight = (e: EndpointInfo, s: number[]) => s.reduce((a, k) => a + (e.preference[k] ?? 0), 0);
  const score = (e: EndpointInfo) => weight(e, s0) - weight(e, s1);
  const sorted = [...all].sort((a, b) => score(b) - score(a));
  return [sorted[0], sorted[sorted.length - 1]];
}

/** An endpoint's parameter values in the model's parameter order. */
export async function loadEndpointParams(e: EndpointInfo): Promise<tf.Tensor[]> {
  const { model, values } = await loadLayersModelFromDir(e.dir);
  model.dispose();
  return values;
}

/** A curve's directory inside the run (src/run/layout.ts); the name must be a plain directory name. */
export const curveDirOf = (runDir: string, name: string): string => curveDir(runDir, name);
