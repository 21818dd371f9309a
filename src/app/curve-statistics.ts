import * as tf from '@tensorflow/tfjs';
import { ExtraInputError } from '../errors.js';
import { curvePoint } from '../curves/index.js';
import { describeStatistics, evaluateSplit, recomputeStatistics, type TaskMetrics } from '../train/index.js';
import { closeCurve, openCurve } from './curve.js';
import { loadRunDataset, openRun, useBackend } from './run.js';

export const statisticsComparisonDefaults = { ts: [0.25, 0.5, 0.75] as readonly number[] };

export interface StatisticsComparisonRequest {
  run: string;
  curve?: string;
  /** points of the curve compared (default ¼, ½, ¾), each in [0, 1] */
  ts?: readonly number[];
  backend?: string;
}

/** Test metrics per task at C(t) under three choices of BatchNormalization statistics. */
export interface StatisticsComparisonRow {
  t: number;
  /** recomputed at C(t) on training rows (what extra does) */
  recomputed: TaskMetrics[];
  /** the two endpoints' stored statistics, interpolated (1 − t)·A + t·B */
  interpolated: TaskMetrics[];
  /** endpoint A's (t = 0) stored statistics as they are */
  endpointA: TaskMetrics[];
}

export interface StatisticsComparison {
  taskNames: string[];
  /** the curve's endpoints: A at t = 0, B at t = 1 */
  endpoints: string[];
  /** how the statistics are recomputed (rows, batch size) */
  recomputedOn: string;
  rows: StatisticsComparisonRow[];
}

/**
 * Why extra recomputes BatchNormalization statistics along a curve (docs/design.md, src/train/statistics.ts):
 * the test metrics at points of the curve with the statistics recomputed at C(t), with the endpoints' stored
 * statistics interpolated, and with endpoint A's alone. Refused for a model without BatchNormalization.
 */
export async function compareCurveStatistics(req: StatisticsComparisonRequest): Promise<StatisticsComparison> {
  const ts = req.ts ?? statisticsComparisonDefaults.ts;
  const bad = ts.find((t) => !(t >= 0 && t <= 1));
  if (bad !== undefined) throw new ExtraInputError(`--t must be in [0, 1], got ${bad}`);
  const run = await openRun(req.run, 'comparing BatchNormalization statistics needs a fitted curve');
  if (!run.model.statistics.length) throw new ExtraInputError(`the model of ${req.run} has no BatchNormalization layers: it has no statistics to compare`);
  const c = await openCurve(run, req.curve ?? 'curve');
  try {
    const stored = c.curve.endStatistics;
    if (!stored) throw new ExtraInputError(`the endpoints ${c.file.endpoints.join(', ')} of ${req.run} hold no BatchNormalization statistics of their own (tfjs checkpoints with moving averages): nothing to interpolate`);
    await useBackend(req.backend);
    const ds = await loadRunDataset(run.info);
    const evaluate = (params: tf.Tensor[], statistics: tf.Tensor[]): TaskMetrics[] => {
      try {
        return evaluateSplit(run.model, params, ds.test, 1000, statistics);
      } finally {
        tf.dispose(statistics);
      }
    };
    const rows = ts.map((t) => {
      const params = curvePoint(c.curve, c.trainable, t);
      try {
        return {
          t,
          recomputed: evaluate(params, recomputeStatistics(run.model, params, ds.train)),
          interpolated: evaluate(params, tf.tidy(() => stored[0].map((s, i) => tf.add(tf.mul(s, 1 - t), tf.mul(stored[1][i], t))))),
          endpointA: evaluate(params, stored[0].map((s) => s.clone())),
        };
      } finally {
        tf.dispose(params);
      }
    });
    return { taskNames: ds.taskNames, endpoints: [...c.file.endpoints], recomputedOn: describeStatistics(run.model, ds.train) ?? '', rows };
  } finally {
    closeCurve(c);
  }
}
