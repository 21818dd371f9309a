import { assertOutputDir, removeCreatedOnFailure, removeStaleTemps, writeFileAtomic } from '../util/fs.js';
import { promises as fsp } from 'node:fs';
import { readBaseline, readRun, sourceOnnxFile } from '../run/index.js';
import { deltaMPercent } from '../tasks/index.js';
import { readRunOnnxSource } from './onnx.js';
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { preferenceToT, interpolateProfile, queryMethods, evaluateAt, curvePoint, statisticsAt, identityObjectives, objectiveMetrics, interpolatedOptimum, criterionOnSweep, type QueryMethod, type ObjectiveMap } from '../curves/index.js';
import { normalizePreference, parsePreference } from '../objectives/index.js';
import { type TaskMetrics, byTaskName, describeStatistics } from '../train/index.js';
import { saveLayersModel, paramsToPytorchStateDict } from '../models/index.js';
import { writeSafetensors } from '../io/index.js';
import { loadRunDataset, openRun, useBackend, type OpenedRun } from './run.js';
import { closeCurve, openCurve, readProfile, type StoredProfile } from './curve.js';
import { replaceInitializers, transposed2d } from '../models/onnx/proto.js';
import { graphToOnnx } from '../models/onnx/export.js';
import { readTorchNames, torchStateDict } from './torch-names.js';

/** A query method name, checked. */
export function queryMethodOf(s: string | undefined): QueryMethod {
  const m = s ?? 'chebyshev';
  if (!(queryMethods as readonly string[]).includes(m)) throw new ExtraInputError(`--method must be one of ${queryMethods.join(', ')}, got '${m}'`);
  return m as QueryMethod;
}

/** A preference given as text ('0.3,0.7') or numbers, normalized over `n` objectives. */
export function preferenceOf(pref: string | readonly number[], n: number, what?: string): number[] {
  return typeof pref === 'string' ? parsePreference(pref, n, what) : normalizePreference([...pref], n, what);
}

type Metrics = Record<string, TaskMetrics>;

export interface QueryResult {
  t: number;
  method: QueryMethod;
  preference: number[];
  /** per-task test numbers at t */
  predicted: Metrics;
  /** per-task validation numbers at t */
  validation: Metrics;
  /** per-objective test numbers at t (the groups with task grouping, else the tasks) */
  objectives: Metrics;
  /** per-group numbers when the run uses task grouping */
  groups?: Metrics;
  /** 'evaluated': the model at t was run on the data; 'interpolated': read off the profile */
  source: 'evaluated' | 'interpolated';
  gridIndex: number;
  refined: boolean;
  /** Δm% at t against the run's single-task numbers, where it has them; `chosenOn` when t was picked by it (--best-dm) */
  deltaM?: { test: number | null; val: number | null; source: string; chosenOn?: 'validation' | 'test' };
}

export interface QueryRequest {
  run: string;
  /** one non-negative entry per objective (task, or group with grouping), as text or numbers; or 'best-dm': the profile point of best Δm% */
  pref: string | readonly number[] | 'best-dm';
  method?: string;
  curve?: string;
  /**
   * 'interpolate': the best grid point, numbers interpolated from the profile (no model evaluation);
   * 'parabola' (default): refined on parabolas through the grid neighbours and checked by one real
   * evaluation; 'golden': golden-section search on real validation evaluations (slower)
   */
  refine?: 'interpolate' | 'parabola' | 'golden';
  backend?: string;
}

function isGrouped(profile: StoredProfile, objectives: ObjectiveMap): boolean {
  return objectives.names.length !== profile.taskNames.length || objectives.members.some((m, k) => m.length !== 1 || m[0] !== k);
}

/**
 * Preference → t on a run's curve, chosen on validation losses of the trade-off's objectives; the
 * answer carries the test numbers at t. The explorer and `extra query` both answer through here.
 */
export async function query(req: QueryRequest): Promise<QueryResult> {
  const method = queryMethodOf(req.method);
  const curveName = req.curve ?? 'curve';
  const refine = req.refine ?? 'parabola';
  const run = await openRun(req.run, 'querying needs a fitted and evaluated curve');
  const profile = await readProfile(req.run, curveName);
  const objectives = profile.objectives ?? identityObjectives(profile.taskNames);
  const objPoints = profile.objectivePoints ?? profile.points;
  const grouped = isGrouped(profile, objectives);
  const bestDm = req.pref === 'best-dm';
  const preference = bestDm ? [] : preferenceOf(req.pref, objectives.names.length, grouped ? `preference over ${objectives.names.length} groups` : undefined);
  const dmAt = (val: TaskMetrics[], test: TaskMetrics[], chosenOn?: 'validation' | 'test'): Pick<QueryResult, 'deltaM'> => {
    if (!profile.deltaM) return {};
    const b = baselineNow;
    return { deltaM: { test: b ? deltaMPercent(profile.taskNames, test, b.test) : null, val: b?.val ? deltaMPercent(profile.taskNames, val, b.val) : null, source: profile.deltaM.source, ...(chosenOn ? { chosenOn } : {}) } };
  };
  const baselineNow = profile.deltaM ? await readBaseline(req.run) : null;
  const result = (t: number, val: TaskMetrics[], test: TaskMetrics[], source: QueryResult['source'], gridIndex: number, refined: boolean, chosenOn?: 'validation' | 'test'): QueryResult => {
    const objTest = byTaskName(objectives.names, objectiveMetrics(test, objectives));
    return {
      t,
      method,
      preference,
      predicted: byTaskName(profile.taskNames, test),
      validation: byTaskName(profile.taskNames, val),
      objectives: objTest,
      ...(grouped ? { groups: objTest } : {}),
      source,
      gridIndex,
      refined,
      ...dmAt(val, test, chosenOn),
    };
  };
  if (bestDm) {
    // the grid point of least Δm%, chosen on validation where the baseline has validation numbers
    const dm = profile.deltaM;
    if (!dm || !baselineNow) throw new ExtraInputError(`${req.run} has no single-task numbers for Δm%: run 'extra train --run ${req.run} --single-task' or 'extra curve eval --run ${req.run} --baseline FILE' first`);
    const on = dm.val ?? dm.test;
    let best = -1;
    on.forEach((v, i) => {
      if (v !== null && (best < 0 || v < on[best]!)) best = i;
    });
    if (best < 0) throw new ExtraInputError(`${req.run}: the baseline shares no metric with the profile; Δm% is undefined`);
    const p = profile.points[best];
    return result(p.t, p.val, p.test, 'evaluated', best, false, dm.val ? 'validation' : 'test');
  }
  if (refine === 'interpolate') {
    const ans = await preferenceToT(objPoints, preference, method);
    const p = interpolateProfile(profile.points, ans.t);
    return result(ans.t, p.val, p.test, 'interpolated', ans.gridIndex, false);
  }
  const c = await openCurve(run, curveName);
  try {
    await useBackend(req.backend, true);
    const ds = await loadRunDataset(run.info, true);
    if (refine === 'parabola') {
      const grid = await preferenceToT(objPoints, preference, method);
      const cand = interpolatedOptimum(objPoints, preference, method, grid.gridIndex);
      let t = grid.t;
      let refined = false;
      let val = profile.points[grid.gridIndex].val;
      let test = profile.points[grid.gridIndex].test;
      if (cand.t !== grid.t) {
        const [v, te] = evaluateAt(run.model, c.curve, c.trainable, cand.t, [ds.val, ds.test], 1000, ds.train);
        const valCrit = criterionOnSweep(objPoints, preference, method, objectiveMetrics(v, objectives).map((m) => m.loss));
        if (valCrit < grid.criterion) {
          t = cand.t;
          refined = true;
          val = v;
          test = te;
        }
      }
      return result(t, val, test, 'evaluated', grid.gridIndex, refined);
    }
    const ans = await preferenceToT(objPoints, preference, method, (t) => {
      const [val] = evaluateAt(run.model, c.curve, c.trainable, t, [ds.val], 1000, ds.train);
      return objectiveMetrics(val, objectives).map((m) => m.loss);
    });
    const [val, test] = evaluateAt(run.model, c.curve, c.trainable, ans.t, [ds.val, ds.test], 1000, ds.train);
    return result(ans.t, val, test, 'evaluated', ans.gridIndex, ans.refined);
  } finally {
    closeCurve(c);
  }
}

export type ExportFormat = 'tfjs' | 'safetensors' | 'onnx';
export const exportFormats: readonly ExportFormat[] = ['tfjs', 'safetensors', 'onnx'];

/**
 * Write the model at t of a run's curve: tfjs layers format (model.json + weights.bin, loads with
 * tf.loadLayersModel) or safetensors with PyTorch state_dict names and layouts. Returns the files.
 */
export async function exportAt(run: OpenedRun, curveName: string, t: number, format: ExportFormat, out: string, meta: Record<string, unknown> = {}): Promise<string[]> {
  if (!(t >= 0 && t <= 1)) throw new ExtraInputError(`t must be in [0, 1], got ${t}`);
  if (!exportFormats.includes(format)) throw new ExtraInputError(`format must be ${exportFormats.join(', ')}, got '${String(format)}'`);
  // an output directory this export creates is removed again when it fails
  return removeCreatedOnFailure(out, () => writeExport(run, curveName, t, format, out, meta));
}

async function writeExport(run: OpenedRun, curveName: string, t: number, format: ExportFormat, out: string, meta: Record<string, unknown>): Promise<string[]> {
  const c = await openCurve(run, curveName);
  // BatchNormalization statistics of C(t) are recomputed on training rows and exported with it
  const train = run.model.statistics.length ? (await loadRunDataset(run.info, true)).train : undefined;
  const params: tf.Tensor[] = curvePoint(c.curve, c.trainable, t);
  const statistics = statisticsAt(run.model, c.curve, params, t, train);
  const bn = train ? { batchNorm: describeStatistics(run.model, train) } : {};
  try {
    return await writeModelFiles(run, params, statistics, format, out, { curvePoint: { t, ...meta }, ...bn }, { t: String(t), ...(bn.batchNorm ? { batchNorm: bn.batchNorm } : {}) });
  } finally {
    params.forEach((p) => p.dispose());
    tf.dispose(statistics);
    closeCurve(c);
  }
}

/**
 * What an export needs, checked before any work (a query, a tuning): an --out that can be a directory
 * (no file in its path, not read-only) and, for ONNX from an ONNX-made run, the run's own model.onnx.
 */
export async function checkExportTarget(runDir: string, format: ExportFormat, out: string): Promise<void> {
  await assertOutputDir(out, 'export: --out');
  if (format !== 'onnx') return;
  const info = await readRun(runDir);
  if (info?.model.onnx) await readRunOnnxSource(runDir, info.model, info.dataset);
}

/** One model of the run (parameters and BatchNorm statistics) written in a format; returns the files. */
export async function writeModelFiles(run: OpenedRun, params: readonly tf.Tensor[], statistics: readonly tf.Tensor[], format: ExportFormat, out: string, meta: Record<string, unknown>, st: { t: string; batchNorm?: string; tuned?: string }): Promise<string[]> {
  // temporary files an earlier export left when it was killed go first
  await removeStaleTemps(out, 0);
  {
    if (format === 'tfjs') {
      await saveLayersModel(out, run.info.model, params, meta, statistics);
      return [path.join(out, 'model.json'), path.join(out, 'weights.bin')];
    }
    const names = run.model.params.map((p) => p.name);
    const stateDict = paramsToPytorchStateDict(run.info.model, names, params, statistics);
    if (format === 'onnx') {
      const file = path.join(out, 'model.onnx');
      await fsp.mkdir(out, { recursive: true });
      await writeFileAtomic(file, await onnxAt(run, stateDict));
      return [file];
    }
    const file = path.join(out, 'model.safetensors');
    await fsp.mkdir(out, { recursive: true });
    await writeSafetensors(file, torchStateDict(stateDict, await readTorchNames(run.dir)), {
      format: 'pt',
      'extra.t': st.t,
      'extra.arch': run.info.model.arch,
      'extra.spec': JSON.stringify(run.info.model),
      'extra.layout': 'PyTorch: conv [out,in,kh,kw], depthwise [in*mult,1,kh,kw], linear [out,in], fc input in NCHW flatten order; BatchNorm running_mean / running_var (biased)',
      ...(st.batchNorm ? { 'extra.batchNorm': st.batchNorm } : {}),
      ...(st.tuned ? { 'extra.tuned': st.tuned } : {}),
    });
    return [file];
  }
}

/**
 * The model as one ONNX file: an ONNX-made run's own file with the point's initializers (and
 * BatchNorm statistics); any other run's layer graph written as ONNX (src/models/onnx/export.ts).
 */
async function onnxAt(run: OpenedRun, stateDict: { name: string; shape: number[]; data: Float32Array }[]): Promise<Uint8Array> {
  if (run.info.model.onnx) {
    const source = sourceOnnxFile(run.dir);
    const bytes = await readRunOnnxSource(run.dir, run.info.model, run.info.dataset);
    const transposed = new Set(run.info.model.onnx.transposed);
    const renamed = run.info.model.onnx.renamed ?? {};
    const values = new Map(stateDict.map((t) => [renamed[t.name] ?? t.name, transposed.has(t.name) ? transposed2d(t.data, t.shape[0], t.shape[1]) : t.data]));
    return replaceInitializers(bytes, values, source);
  }
  return graphToOnnx(run.model, stateDict);
}

export interface ExportRequest {
  run: string;
  /** the point of the curve: t itself, or a preference answered by `query` */
  at: { t: number } | { pref: string | readonly number[]; method?: string };
  format: ExportFormat;
  out: string;
  curve?: string;
  backend?: string;
}

/** Export the model at t (or at a preference's t) of a run's curve. */
export async function exportModel(req: ExportRequest): Promise<{ t: number; format: ExportFormat; files: string[]; query?: QueryResult }> {
  const curveName = req.curve ?? 'curve';
  await checkExportTarget(req.run, req.format, req.out);
  let t: number;
  let q: QueryResult | undefined;
  let meta: Record<string, unknown> = {};
  if ('t' in req.at) t = req.at.t;
  else {
    q = await query({ run: req.run, pref: req.at.pref, method: req.at.method, curve: curveName, backend: req.backend });
    t = q.t;
    meta = { preference: q.preference, method: q.method, predicted: q.predicted };
  }
  const run = await openRun(req.run, 'exporting needs a fitted curve');
  await useBackend(req.backend, true);
  const files = await exportAt(run, curveName, t, req.format, req.out, meta);
  return { t, format: req.format, files, ...(q ? { query: q } : {}) };
}
