import * as tf from '@tensorflow/tfjs';
import { ExtraInputError } from '../errors.js';
import { curvePoint } from '../curves/index.js';
import { loadLayersModelFromDir } from '../models/index.js';
import { metricsFile, trainingFiles, tunedDir } from '../run/index.js';
import { batchesPerEpoch, trainEndpoint, type TaskMetrics } from '../train/index.js';
import { removeCreatedOnFailure } from '../util/fs.js';
import { closeCurve, openCurve } from './curve.js';
import { query, writeModelFiles, type ExportFormat, type QueryRequest } from './query.js';
import { loadRunDataset, openRun, useBackend, type OpenedRun } from './run.js';
import type { MultiTaskDataset } from '../data/index.js';

/**
 * Beyond the curve: the model at a preference's t*, trained a few steps more at that preference's own
 * scalarization (Chebyshev for the chebyshev and ray queries, LS for ls), from C(t*) itself. A short
 * training does what the curve, fitted for every preference at once, leaves on the table for this
 * one. The tuned model is kept in RUN/tuned/ID (an endpoint-like directory) and can be exported.
 */
export interface TuneRequest extends Omit<QueryRequest, 'refine'> {
  steps: number;
  lr?: number;
  batchSize?: number;
  quiet?: boolean;
}

export interface TunedNumbers {
  val: Record<string, TaskMetrics>;
  test: Record<string, TaskMetrics>;
  /** the scalarization at the preference of the task losses: max_k p_k L_k (Chebyshev) or Σ_k p_k L_k (LS) */
  valCriterion: number;
  testCriterion: number;
}

export interface TuneResult {
  t: number;
  method: 'chebyshev' | 'ls';
  preference: number[];
  steps: number;
  dir: string;
  before: TunedNumbers;
  after: TunedNumbers;
  seconds: number;
}

export const tuneDefaults = { lr: 1e-4, batchSize: 256 };

const criterion = (method: 'chebyshev' | 'ls', p: number[], m: Record<string, TaskMetrics>, names: string[]) => {
  const l = names.map((n, k) => p[k] * m[n].loss);
  return method === 'ls' ? l.reduce((a, b) => a + b, 0) : Math.max(...l);
};

export async function tuneAt(req: TuneRequest): Promise<TuneResult> {
  if (!Number.isInteger(req.steps) || req.steps < 1 || req.steps > 1_000_000) throw new ExtraInputError(`--tune takes a number of steps from 1 to 1000000, got ${req.steps}`);
  const t0 = performance.now();
  const q = await query({ ...req, refine: 'parabola' });
  const run = await openRun(req.run, 'tuning needs a fitted and evaluated curve');
  if (q.groups) throw new ExtraInputError('--tune: a grouped run is not supported yet (its preference is over groups)');
  const backend = await useBackend(req.backend, true);
  const ds = await loadRunDataset(run.info, true);
  const method = q.method === 'ls' ? 'ls' : 'chebyshev';
  const c = await openCurve(run, req.curve ?? 'curve');
  let initial: Float32Array[];
  try {
    const params = curvePoint(c.curve, c.trainable, q.t);
    initial = params.map((p) => p.dataSync() as Float32Array);
    tf.dispose(params);
  } finally {
    closeCurve(c);
  }
  const id = `${method}-${q.preference.map((v) => v.toFixed(3)).join('_')}-t${q.t.toFixed(4)}-${req.steps}steps`;
  const r = await trainAtPreference({ run, ds, id, method, preference: q.preference, steps: req.steps, lr: req.lr, batchSize: req.batchSize, initial, quiet: req.quiet ?? false, record: { tunedFrom: { curve: req.curve ?? 'curve', t: q.t, query: q.method }, backend } });
  const dir = r.dir;
  const names = ds.taskNames;
  const numbers = (val: Record<string, TaskMetrics>, test: Record<string, TaskMetrics>): TunedNumbers => ({ val, test, valCriterion: criterion(method, q.preference, val, names), testCriterion: criterion(method, q.preference, test, names) });
  return { t: q.t, method, preference: q.preference, steps: req.steps, dir, before: numbers(q.validation, q.predicted), after: numbers(r.val, r.test), seconds: (performance.now() - t0) / 1000 };
}

/**
 * `steps` optimizer steps at a preference's scalarization from `initial` (a curve point) or, without
 * it, from the run's seeded start (the from-scratch baseline of `extra bench tune`), into RUN/tuned/ID.
 */
export async function trainAtPreference(a: {
  run: OpenedRun;
  ds: MultiTaskDataset;
  id: string;
  method: 'chebyshev' | 'ls';
  preference: number[];
  steps: number;
  lr?: number;
  batchSize?: number;
  initial?: Float32Array[];
  quiet: boolean;
  record?: Record<string, unknown>;
}): Promise<{ dir: string; val: Record<string, TaskMetrics>; test: Record<string, TaskMetrics>; criterion: { val: number; test: number } }> {
  const batchSize = a.batchSize ?? tuneDefaults.batchSize;
  const dir = tunedDir(a.run.dir, a.id);
  // a tuning that fails leaves no half-made model directory behind
  const r = await removeCreatedOnFailure(dir, () =>
    trainEndpoint(
      {
        dir,
        ...trainingFiles(dir),
        metricsFile: metricsFile(dir),
        id: a.id,
        spec: a.run.info.model,
        method: a.method,
        preference: a.preference,
        epochs: Math.ceil(a.steps / batchesPerEpoch(a.ds.train.n, batchSize)),
        maxSteps: a.steps,
        batchSize,
        lr: a.lr ?? tuneDefaults.lr,
        optimizer: { name: 'adam' },
        schedule: { name: 'constant' },
        seed: a.run.info.seed,
        resume: false,
        progress: !a.quiet,
        ...(a.initial ? { initial: a.initial } : {}),
        ...(a.record ? { record: a.record } : {}),
      },
      a.ds,
    ),
  );
  tf.dispose(r.params);
  const names = a.ds.taskNames;
  return { dir, val: r.val, test: r.test, criterion: { val: criterion(a.method, a.preference, r.val, names), test: criterion(a.method, a.preference, r.test, names) } };
}

/** Export a tuned model (tuneAt's directory) in a format. */
export async function exportTuned(runDir: string, tuned: TuneResult, format: ExportFormat, out: string): Promise<string[]> {
  const run = await openRun(runDir);
  const m = await loadLayersModelFromDir(tuned.dir);
  m.model.dispose();
  try {
    return await removeCreatedOnFailure(out, () => writeModelFiles(run, m.values, m.statistics, format, out, { tuned: { t: tuned.t, steps: tuned.steps, method: tuned.method, preference: tuned.preference } }, { t: String(tuned.t), tuned: `${tuned.steps} steps of ${tuned.method} at (${tuned.preference.join(', ')})` }));
  } finally {
    tf.dispose([...m.values, ...m.statistics]);
  }
}
