import * as tf from '@tensorflow/tfjs';
import type { FunctionalModel } from '../models/index.js';
import { evaluateSplit, recomputeStatistics, makeProgress, statisticsRows, errorRates, type LabelledSplit, type TaskMetrics } from '../train/index.js';
import { taskKind, deltaMPercent, type BaselineNumbers } from '../tasks/index.js';
import { hypervolume, nonDominated, spearman } from '../pareto/index.js';
import { curvePoint, type WeightCurve } from './curve.js';
import { identityObjectives, objectiveMetrics, type ObjectiveMap, type CurveOrientation } from './types.js';
import { currentBackend } from '../backend/index.js';
import { dataParallelAvailable } from '../parallel/pool.js';
import { evaluateInWorkers } from '../parallel/eval-pool.js';
import { curveProgramSpec } from './program-spec.js';
import { z } from 'zod';
import { finite, count, taskMetricsSchema } from '../io/json-file.js';

export interface ProfilePoint {
  t: number;
  val: TaskMetrics[];
  test: TaskMetrics[];
}

export interface CurveProfile {
  taskNames: string[];
  /** the trade-off's objectives (tasks, or groups of tasks) and their per-point metrics */
  objectives: ObjectiveMap;
  objectivePoints: ProfilePoint[];
  points: ProfilePoint[];
  /** indices into points of the non-dominated test-loss vectors */
  nonDominatedTestLoss: number[];
  /** empty when an objective is a regression (it has a loss and an MAE, no error rate) */
  nonDominatedTestError: number[];
  hypervolume: {
    /** `refFrom: 'run'`: no point beat the fixed reference, so the reference is the sweep's worst value per objective × 1.1 */
    testLoss: { ref: number[]; curve: number; endpoints: number; refFrom?: 'run' };
    /** null when an objective is a regression */
    testError: { ref: number[]; curve: number; endpoints: number; refFrom?: 'run' } | null;
  };
  /** Spearman rank correlation of each objective's validation loss with t */
  spearmanValLoss: Record<string, number>;
  spearmanTestLoss: Record<string, number>;
}

const pointSchema = z.object({ t: finite.min(0).max(1), val: z.array(taskMetricsSchema).min(1), test: z.array(taskMetricsSchema).min(1) });

/** profile.json as `extra curve eval` writes it: a curve's profile with what produced it (validated on read by profileFileSchema). */
export interface StoredProfile extends CurveProfile {
  format: 'extra-profile';
  curve: string;
  kind: string;
  endpoints: [string, string];
  orientation: CurveOrientation;
  /** curveFingerprint of the curve this profile measured (readProfile refuses it once the curve changed) */
  curveFingerprint?: string;
  seconds: number;
  /** how BatchNormalization statistics were obtained at each t (models with BatchNormalization) */
  batchNorm?: string;
  /**
   * Δm% of every point (aligned with `points`) against the run's single-task numbers (RUN/baseline.json),
   * where the run has them: on the test split, and on validation where the baseline has validation numbers
   */
  deltaM?: { source: string; test: (number | null)[]; val: (number | null)[] | null };
}

export const profileFileSchema = z
  .object({
    format: z.literal('extra-profile'),
    curve: z.string(),
    kind: z.string(),
    endpoints: z.tuple([z.string(), z.string()]),
    taskNames: z.array(z.string()).min(1),
    objectives: z.object({ names: z.array(z.string()).min(1), members: z.array(z.array(count).min(1)).min(1) }),
    points: z.array(pointSchema).min(2),
    objectivePoints: z.array(pointSchema).min(2),
    nonDominatedTestLoss: z.array(count),
    nonDominatedTestError: z.array(count),
    hypervolume: z.object({
      testLoss: z.object({ ref: z.array(finite), curve: finite, endpoints: finite, refFrom: z.literal('run').optional() }),
      testError: z.object({ ref: z.array(finite), curve: finite, endpoints: finite, refFrom: z.literal('run').optional() }).nullable(),
    }),
    // NaN (an undefined rank correlation) is stored as null by JSON
    spearmanValLoss: z.record(z.number().nullable().transform((v) => v ?? NaN)),
    spearmanTestLoss: z.record(z.number().nullable().transform((v) => v ?? NaN)),
    orientation: z.object({ taskA: count, taskB: count, aligned: count.nullable().optional() }),
    curveFingerprint: z.string().optional(),
    seconds: finite,
    /** how BatchNormalization statistics were obtained (models with BatchNormalization only) */
    batchNorm: z.string().optional(),
    deltaM: z.object({ source: z.string(), test: z.array(finite.nullable()), val: z.array(finite.nullable()).nullable() }).optional(),
  })
  .passthrough()
  .refine((p) => p.points.every((q) => q.val.length === p.taskNames.length && q.test.length === p.taskNames.length), {
    message: 'every point needs one val and one test entry per task',
    path: ['points'],
  })
  .refine((p) => p.objectivePoints.length === p.points.length && p.objectivePoints.every((q) => q.val.length === p.objectives.names.length), {
    message: 'objectivePoints must match points and objectives',
    path: ['objectivePoints'],
  })
  .refine((p) => p.points.every((q, i) => i === 0 || q.t > p.points[i - 1].t), { message: 'the t grid must increase', path: ['points'] })
  .refine((p) => !p.deltaM || (p.deltaM.test.length === p.points.length && (p.deltaM.val === null || p.deltaM.val.length === p.points.length)), { message: 'deltaM must have one entry per point', path: ['deltaM'] });

/** Δm% of every point of a profile against single-task numbers (test, and validation where given). */
export function profileDeltaM(taskNames: string[], points: ProfilePoint[], baseline: { source: string; test: BaselineNumbers; val?: BaselineNumbers }): NonNullable<StoredProfile['deltaM']> {
  return {
    source: baseline.source,
    test: points.map((p) => deltaMPercent(taskNames, p.test, baseline.test)),
    val: baseline.val ? points.map((p) => deltaMPercent(taskNames, p.val, baseline.val!)) : null,
  };
}

export function tGrid(points: number): number[] {
  return Array.from({ length: points }, (_, i) => (points === 1 ? 0 : i / (points - 1)));
}

/** Per-task metrics at one t on the given splits. */
export function evaluateAt(
  model: FunctionalModel,
  curve: WeightCurve,
  trainable: readonly tf.Tensor[],
  t: number,
  splits: LabelledSplit[],
  batchSize = 1000,
  train?: LabelledSplit,
): TaskMetrics[][] {
  const params = curvePoint(curve, trainable, t);
  const statistics = statisticsAt(model, curve, params, t, train);
  try {
    return splits.map((s) => evaluateSplit(model, params, s, batchSize, statistics));
  } finally {
    params.forEach((p) => p.dispose());
    tf.dispose(statistics);
  }
}

/**
 * BatchNormalization statistics of C(t): at t = 0 and t = 1 the endpoints' own (what the user
 * measured where the endpoints were trained), elsewhere recomputed on training rows. Owned by the caller.
 */
export function statisticsAt(model: FunctionalModel, curve: WeightCurve, params: readonly tf.Tensor[], t: number, train?: LabelledSplit): tf.Tensor[] {
  const own = curve.endStatistics && (t === 0 ? curve.endStatistics[0] : t === 1 ? curve.endStatistics[1] : null);
  if (own && own.length === model.statistics.length && own.length) return own.map((s) => s.clone());
  return recomputeStatistics(model, params, train);
}

/**
 * The test-loss hypervolume's reference point, per objective: each task kind's own (src/tasks): 2 for a
 * cross-entropy (a little below ln 10, the loss of a uniform guess over ten classes — the convention of
 * the built-in benchmarks), for a regression the variance of its test targets (the squared error of
 * always predicting their mean), ln C for a segmentation, the L1 of the median depth, 1 for normals: a
 * point counts only where it beats that trivial predictor. A group averages its members'.
 */
export function lossReference(model: FunctionalModel, test: LabelledSplit, objectives?: ObjectiveMap): number[] {
  const perTask = model.losses.map((kind, k) => taskKind(kind).lossReference(test.y[k], { classes: model.spec.numClasses[k] }));
  const map = objectives ?? { names: perTask.map(String), members: perTask.map((_, k) => [k]) };
  return map.members.map((m) => m.reduce((a, k) => a + perTask[k], 0) / m.length);
}

/**
 * The hypervolume of the sweep and of its endpoints alone. Where no point beats the fixed reference (weak
 * models: every cross-entropy above 2), both would be 0 and say nothing; the reference is then the sweep's own
 * worst value per objective × 1.1 (a nadir point), marked `refFrom: 'run'`, so the two numbers still compare.
 */
function hypervolumes(values: number[][], fixed: number[], ends: number[]): { ref: number[]; curve: number; endpoints: number; refFrom?: 'run' } {
  const curve = hypervolume(values, fixed);
  if (curve > 0 || !values.length || values.some((v) => v.some((x) => !Number.isFinite(x)))) return { ref: fixed, curve, endpoints: hypervolume(ends.map((i) => values[i]), fixed) };
  const ref = fixed.map((_, k) => 1.1 * Math.max(...values.map((v) => v[k])));
  return { ref, curve: hypervolume(values, ref), endpoints: hypervolume(ends.map((i) => values[i]), ref), refFrom: 'run' };
}

/** Summary quantities of a sweep (pure function of the points; also used for baselines). */
export function summarizeProfile(taskNames: string[], taskPoints: ProfilePoint[], lossRef?: number[], errRef?: number[], objectives?: ObjectiveMap): CurveProfile {
  const map = objectives ?? identityObjectives(taskNames);
  const points = taskPoints.map((p) => ({ t: p.t, val: objectiveMetrics(p.val, map), test: objectiveMetrics(p.test, map) }));
  const K = map.names.length;
  const lref = lossRef ?? Array(K).fill(2);
  const eref = errRef ?? Array(K).fill(1);
  const testLoss = points.map((p) => p.test.map((m) => m.loss));
  const errs = points.map((p) => errorRates(p.test));
  const testErr = errs.every((e) => e !== null) ? (errs as number[][]) : null;
  const ends = [0, points.length - 1];
  const ts = points.map((p) => p.t);
  const sp = (split: 'val' | 'test'): Record<string, number> => {
    const out: Record<string, number> = {};
    map.names.forEach((n, k) => (out[n] = points.length >= 2 ? spearman(ts, points.map((p) => p[split][k].loss)) : NaN));
    return out;
  };
  return {
    taskNames,
    objectives: map,
    objectivePoints: points,
    points: taskPoints,
    nonDominatedTestLoss: nonDominated(testLoss),
    nonDominatedTestError: testErr ? nonDominated(testErr) : [],
    hypervolume: {
      testLoss: hypervolumes(testLoss, lref, ends),
      testError: testErr && hypervolumes(testErr, eref, ends),
    },
    spearmanValLoss: sp('val'),
    spearmanTestLoss: sp('test'),
  };
}

export function profileCurve(
  model: FunctionalModel,
  curve: WeightCurve,
  trainable: readonly tf.Tensor[],
  data: { taskNames: string[]; val: LabelledSplit; test: LabelledSplit; train?: LabelledSplit },
  nPoints = 61,
  opts: { progress?: boolean; batchSize?: number; objectives?: ObjectiveMap } = {},
): CurveProfile {
  const progress = makeProgress('profile', opts.progress ?? true);
  const points: ProfilePoint[] = [];
  const grid = tGrid(nPoints);
  const t0 = performance.now();
  grid.forEach((t, i) => {
    const [val, test] = evaluateAt(model, curve, trainable, t, [data.val, data.test], opts.batchSize, data.train);
    points.push({ t, val, test });
    const el = (performance.now() - t0) / 1000;
    progress.update(`t ${i + 1}/${grid.length}, ${el.toFixed(0)} s, eta ${((el / (i + 1)) * (grid.length - i - 1)).toFixed(0)} s`);
  });
  progress.done(`${grid.length} points in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return summarizeProfile(data.taskNames, points, lossReference(model, data.test, opts.objectives), undefined, opts.objectives);
}

/**
 * profileCurve on `threads` worker threads (each evaluates whole points; the result is identical to
 * profileCurve's, whatever the thread count). Falls back to profileCurve for one thread.
 */
export async function profileCurveInWorkers(
  model: FunctionalModel,
  curve: WeightCurve,
  trainable: readonly tf.Tensor[],
  data: { taskNames: string[]; val: LabelledSplit; test: LabelledSplit; train?: LabelledSplit },
  nPoints = 61,
  opts: { progress?: boolean; objectives?: ObjectiveMap; threads?: number; backend?: string } = {},
): Promise<CurveProfile> {
  const threads = opts.threads ?? 1;
  if (threads <= 1 || !dataParallelAvailable()) return profileCurve(model, curve, trainable, data, nPoints, opts);
  const progress = makeProgress('profile', opts.progress ?? true);
  const grid = tGrid(nPoints);
  const t0 = performance.now();
  const values = (ts: readonly tf.Tensor[]) => ts.map((t) => t.dataSync() as Float32Array);
  const results = await evaluateInWorkers<TaskMetrics>(
    threads,
    opts.backend ?? currentBackend() ?? 'wasm',
    // evaluation only: the training objective is not used
    curveProgramSpec(model.spec, curve),
    values(trainable),
    grid,
    { inputShape: model.spec.inputShape, splits: [data.val, data.test], statistics: model.statistics.length ? statisticsRows(data.train) : undefined },
    (done) => {
      const el = (performance.now() - t0) / 1000;
      progress.update(`t ${done}/${grid.length} on ${threads} threads, ${el.toFixed(0)} s, eta ${((el / done) * (grid.length - done)).toFixed(0)} s`);
    },
  );
  progress.done(`${grid.length} points in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${threads} threads`);
  const points: ProfilePoint[] = grid.map((t, i) => ({ t, val: results[i][0], test: results[i][1] }));
  return summarizeProfile(data.taskNames, points, lossReference(model, data.test, opts.objectives), undefined, opts.objectives);
}
