import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ExtraInputError } from '../errors.js';
import { readSafetensors } from '../io/index.js';
import { readJsonWith } from '../io/json-file.js';
import { buildModel, loadLayersModelFromDir, saveLayersModel, valuesFromStateDict, type FunctionalModel } from '../models/index.js';
import { normalizePreference, parsePreference } from '../objectives/index.js';
import { endpointDir, endpointsDir, metricsFile, readRun, runFile, type RunInfo } from '../run/index.js';
import { byTaskName, evaluateSplit, recomputeStatistics, describeStatistics, fitText, type TaskMetrics } from '../train/index.js';
import { removeCreatedOnFailure, writeJsonAtomic } from '../util/fs.js';
import { createOrOpenRun, loadRunDataset, silent, useBackend, type CreateRunRequest, type Log } from './run.js';
import { onnxModelSpec } from '../models/onnx/import.js';
import { onnxGraphDifferences, readOnnxFile } from './onnx.js';
import { readTorchNames, writeTorchNames } from './torch-names.js';

/** One endpoint trained elsewhere: a tfjs model directory or a PyTorch-layout safetensors file. */
export interface ImportedEndpoint {
  /** the endpoint id in the run (a plain name) */
  name: string;
  path: string;
  /** the preference it was trained for (text or numbers); default: uniform */
  pref?: string | readonly number[];
}

export interface ImportRequest {
  run: string;
  endpoints: ImportedEndpoint[];
  /** JSON file {ourName: theirName} for safetensors whose names differ from the model's */
  nameMap?: string;
  /** to create the run when it does not exist: data set and model, as for `extra train` */
  create?: Omit<CreateRunRequest, 'run' | 'prefs'>;
  backend?: string;
  quiet?: boolean;
}

/**
 * Read a PyTorch state_dict (safetensors) into the model's parameters (valuesFromStateDict: the
 * export's layout change, inverted). BatchNormalization running statistics and num_batches_tracked
 * are not parameters (statistics are recomputed); any other unknown name, a missing name or a wrong
 * shape is listed in one error.
 */
export async function paramsFromSafetensors(model: FunctionalModel, file: string, nameMap: Record<string, string> = {}): Promise<tf.Tensor[]> {
  return (await stateFromSafetensors(model, file, nameMap)).params;
}

/** The same, with the file's own BatchNorm statistics (null unless it holds them all) and its num_batches_tracked counters. */
export async function stateFromSafetensors(model: FunctionalModel, file: string, nameMap: Record<string, string> = {}): Promise<{ params: tf.Tensor[]; statistics: tf.Tensor[] | null; counters: Record<string, string> }> {
  const st = await readSafetensors(file, 'skip');
  const byName = new Map(st.tensors.map((t) => [t.name, t]));
  const counters = Object.fromEntries(st.skipped.filter((s) => s.name.endsWith('.num_batches_tracked') && s.int64?.length === 1).map((s) => [s.name, String(s.int64![0])]));
  const r = valuesFromStateDict(model, byName, {
    rename: nameMap,
    absent: (theirs) => {
      const other = st.skipped.find((s) => s.name === theirs);
      return other ? `${theirs} has dtype ${other.dtype} (F32 needed)` : null;
    },
  });
  const problems = [...r.problems];
  const ignorable = /\.(running_mean|running_var|num_batches_tracked)$/;
  for (const t of [...st.tensors.map((x) => x.name), ...st.skipped.map((x) => x.name)]) {
    if (!r.used.has(t) && !ignorable.test(t)) problems.push(`unexpected ${t}`);
  }
  if (problems.length) {
    tf.dispose(r.params);
    const shown = problems.slice(0, 8).join('; ');
    throw new ExtraInputError(`${file} does not match the run's model: ${shown}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`);
  }
  let statistics: tf.Tensor[] | null = null;
  if (model.statistics.length) {
    const withStats = valuesFromStateDict(model, byName, { rename: nameMap, statistics: true });
    if (!withStats.problems.length) {
      tf.dispose(withStats.params);
      statistics = withStats.statistics;
    }
  }
  return { params: r.params, statistics, counters };
}

/** An ONNX endpoint: its graph must be the run's (one line lists every difference); its weights and BatchNorm statistics. */
async function stateFromOnnx(info: RunInfo, model: FunctionalModel, file: string): Promise<{ params: tf.Tensor[]; statistics: tf.Tensor[] | null }> {
  if (!info.model.onnx) throw new ExtraInputError(`import: ${file} is an ONNX model but the run's model was not made from ONNX; import it into a new run (its architecture comes from the file)`);
  const { imp } = await readOnnxFile(file);
  const mine = onnxModelSpec(imp, file, info.dataset, info.model.losses, undefined);
  const bad = onnxGraphDifferences(info.model, { ...mine, losses: info.model.losses }, 'the run', file);
  if (bad) throw new ExtraInputError(`import: ${bad}`);
  const r = valuesFromStateDict(model, imp.weights, { statistics: true });
  if (r.problems.length) throw new ExtraInputError(`import: ${file} does not hold the run's weights: ${r.problems.slice(0, 8).join('; ')}`);
  return { params: r.params, statistics: model.statistics.length ? r.statistics : null };
}

const nameMapSchema = z.record(z.string());

/**
 * Make endpoints of a run from models trained elsewhere: each is read against the run's model
 * (names, shapes, dtypes), evaluated on the run's data (BatchNormalization statistics recomputed)
 * and written as if `extra train` had made it (model.json + weights.bin, metrics.json), so
 * `curve fit` connects them. An existing endpoint name is refused, never overwritten.
 */
export interface ImportedSummary {
  id: string;
  dir: string;
  val: Record<string, TaskMetrics>;
  test: Record<string, TaskMetrics>;
}

export async function importEndpoints(req: ImportRequest, log: Log = silent): Promise<{ endpoints: ImportedSummary[] }> {
  if (!req.endpoints.length) throw new ExtraInputError('import: give at least one --endpoint NAME=PATH');
  const quiet = req.quiet ?? false;
  const backend = await useBackend(req.backend, quiet);
  const seen = new Set<string>();
  for (const e of req.endpoints) {
    if (!/^[A-Za-z0-9._-]+$/.test(e.name) || e.name === '.' || e.name === '..') throw new ExtraInputError(`import: endpoint name '${e.name}' must be a simple name`);
    if (seen.has(e.name)) throw new ExtraInputError(`import: endpoint name '${e.name}' is given twice`);
    seen.add(e.name);
    const st = await fsp.stat(e.path).catch(() => null);
    if (!st) throw new ExtraInputError(`import: ${e.path} does not exist`);
    if (await fsp.stat(endpointDir(req.run, e.name)).catch(() => null)) throw new ExtraInputError(`import: ${req.run} already has an endpoint '${e.name}'; choose another name`);
  }
  // an existing run keeps its data set and model (checked against `create` when given); a new one needs them
  const existing = await readRun(req.run);
  // ONNX endpoints bring their architecture: a new run takes it from the first (data set: the given one, or multi-mnist)
  const firstOnnx = req.endpoints.find((e) => e.path.endsWith('.onnx'));
  let create = req.create;
  if (!existing && firstOnnx && !create?.modelJson && !create?.modelOnnx && !(create?.arch)) {
    create = { ...(create ?? { dataset: { name: '', seed: 0 }, seed: 0 }), modelOnnx: firstOnnx.path };
  }
  req = { ...req, ...(create ? { create } : {}) };
  if (!existing && !req.create) throw new ExtraInputError(`import: ${req.run} has no run.json; say the data set and model (--dataset, --arch or --model-json) to create it`);
  // a run directory this import creates is removed again when the import fails
  return removeCreatedOnFailure(req.run, async () => {
    const info = existing && !req.create ? existing : (await createOrOpenRun({ ...req.create!, run: req.run, prefs: [], quiet: true }, backend)).info;
    try {
      return await importInto(req, info, backend, log);
    } catch (e) {
      // in a directory that was there before: the run.json this import wrote goes, when nothing was imported
      if (!existing && !(await fsp.readdir(endpointsDir(req.run)).catch(() => [])).length) await fsp.rm(runFile(req.run), { force: true });
      throw e;
    }
  });
}

async function importInto(req: ImportRequest, info: RunInfo, backend: string, log: Log): Promise<{ endpoints: ImportedSummary[] }> {
  const model = buildModel(info.model);
  const K = info.dataset.taskNames.length;
  const nameMap = req.nameMap ? await readJsonWith(nameMapSchema, req.nameMap) : {};
  // every endpoint is read and checked before anything is written
  const loaded: { e: ImportedEndpoint; preference: number[]; format: string; params: tf.Tensor[]; statistics: tf.Tensor[] | null }[] = [];
  const counters: Record<string, string> = {};
  try {
    for (const e of req.endpoints) {
      const preference = e.pref === undefined ? Array(K).fill(1 / K) : typeof e.pref === 'string' ? parsePreference(e.pref, K) : normalizePreference([...e.pref], K);
      const isDir = (await fsp.stat(e.path))!.isDirectory();
      let params: tf.Tensor[];
      let statistics: tf.Tensor[] | null = null;
      let format: string;
      if (isDir) {
        const m = await loadLayersModelFromDir(e.path, info.model);
        m.model.dispose();
        params = m.values;
        statistics = m.statistics.length === model.statistics.length && m.statistics.length ? m.statistics : (tf.dispose(m.statistics), null);
        format = 'tfjs';
      } else if (e.path.endsWith('.safetensors')) {
        const st = await stateFromSafetensors(model, e.path, nameMap);
        ({ params, statistics } = st);
        Object.assign(counters, st.counters);
        format = 'safetensors';
      } else if (e.path.endsWith('.onnx')) {
        ({ params, statistics } = await stateFromOnnx(info, model, e.path));
        format = 'onnx';
      } else throw new ExtraInputError(`import: ${e.path} is neither a tfjs model directory nor a .safetensors or .onnx file`);
      loaded.push({ e, preference, format, params, statistics });
    }
  } catch (err) {
    loaded.forEach((l) => tf.dispose([...l.params, ...(l.statistics ?? [])]));
    throw err;
  }
  const ds = await loadRunDataset(info, true);
  const out: ImportedSummary[] = [];
  // a name map and the state_dicts' counters are remembered, so an export gives the user's names back
  if (Object.keys(nameMap).length || Object.keys(counters).length) {
    const before = await readTorchNames(req.run);
    await writeTorchNames(req.run, { nameMap: { ...before.nameMap, ...nameMap }, numBatchesTracked: { ...before.numBatchesTracked, ...counters } });
  }
  for (const { e, preference, format, params, statistics: own } of loaded) {
    const t0 = performance.now();
    // the endpoint's own BatchNorm statistics are exact for it; recomputed only when the file has none
    const statistics = own ?? recomputeStatistics(model, params, ds.train);
    const val = byTaskName(ds.taskNames, evaluateSplit(model, params, ds.val, 1000, statistics));
    const test = byTaskName(ds.taskNames, evaluateSplit(model, params, ds.test, 1000, statistics));
    const dir = endpointDir(req.run, e.name);
    const source = { path: path.resolve(e.path), format };
    // an endpoint folder this import makes goes again when its files cannot be written (a full disk)
    await removeCreatedOnFailure(dir, async () => {
      await saveLayersModel(dir, info.model, params, { endpoint: { id: e.name, method: 'imported', preference, source } }, statistics);
      tf.dispose([...params, ...statistics]);
      // metrics.json last: an endpoint is listed only once it is complete
      await writeJsonAtomic(metricsFile(dir), {
        id: e.name,
        method: 'imported',
        preference,
        source,
        val,
        test,
        seconds: (performance.now() - t0) / 1000,
        backend,
        dataset: info.dataset.name,
        dataFingerprint: info.dataset.fingerprint,
        ...(model.statistics.length ? { batchNorm: own ? `the file's own BatchNormalization running statistics (${format})` : describeStatistics(model, ds.train) } : {}),
      });
    });
    const measured = model.statistics.length ? (own ? ", with the file's own BatchNorm statistics" : ', BatchNorm statistics recomputed on training rows') : '';
    log(`${e.name}: measured by extra on the run's data${measured}: ${ds.taskNames.map((n) => `test ${n} ${fitText(test[n])} (loss ${test[n].loss.toFixed(4)})`).join(', ')} → ${dir}`);
    out.push({ id: e.name, dir, val, test });
  }
  return { endpoints: out };
}
