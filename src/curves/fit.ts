import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import type { FunctionalModel } from '../models/index.js';
import { runTrainingLoop, evaluateSplits, byTaskName, taskLoss, type LoopConfig, type Trainable, type LabelledSplit, type EpochRecord } from '../train/index.js';
import { spearman } from '../pareto/index.js';
import { makeRng, deriveSeed } from '../util/rng.js';
import { initTrainable, curvePoint, trainableNames, trainableShapes, type WeightCurve } from './curve.js';
import { orderRegularizer, stratifiedTs } from './order.js';
import { withPool, unflattenGradient, type GradientPool } from '../parallel/pool.js';
import { shardRange } from '../parallel/shards.js';
import { curveProgramSpec, type CurveLossConfig } from './program-spec.js';
import type { CurveOrientation, ObjectiveMap } from './types.js';
import { trainingFiles } from '../run/layout.js';

export interface CurveFitConfig extends Omit<LoopConfig, 'checkpointFile' | 'logFile' | 'label'> {
  dir: string;
  /** weight of R_order; 0 turns it off */
  alpha: number;
  /** values of t per batch (≥ 2 for the order term) */
  samplesPerBatch: number;
  /**
   * each value of t sees its own 1/m of the batch (contiguous parts) instead of the whole batch: a step
   * costs one pass over the batch, like an endpoint step, and an epoch shows every sample once
   */
  splitBatch?: boolean;
  /** optional L2 penalty β·mean_t ‖C(t)‖² / #params */
  l2: number;
  /** std of the noise added to the initial interior control points, relative to ‖E1 − E0‖ per tensor */
  noise: number;
  orientation: CurveOrientation;
  /** λ_k of the mean task loss (default 1/K each) */
  taskWeights?: number[];
  /** objectives the order term acts on (default: every task alone); groups with task grouping */
  objectives?: ObjectiveMap;
  /** weight β of R_align, pushing objective `orientation.aligned` to be best at t = ½ */
  beta?: number;
  /** t values evaluated on validation after each epoch (logged, with Spearman of each loss vs t) */
  evalTs: number[];
  evalBatchSize?: number;
  /** worker threads splitting every batch (src/parallel); 1 = this thread only */
  threads?: number;
  /** NURBS: learning-rate multiplier of the log-weights ρ (default 1) */
  weightLrScale?: number;
  /** NURBS: initial weights ω = 1 (the line; default) or the EXTRA authors' U(0, 1) */
  weightInit?: 'ones' | 'random';
}

export interface CurveFitData {
  inputShape: number[];
  taskNames: string[];
  train: LabelledSplit;
  val: LabelledSplit;
}

export interface CurveFitResult {
  trainable: tf.Tensor[];
  history: EpochRecord[];
  resumedFromEpoch: number;
}

export type { CurveLossConfig } from './program-spec.js';

/**
 * Task losses at each t on one batch: losses[s][k] is task k's mean loss at C(ts[s]), over the whole
 * batch or, with `splitBatch`, over the s-th of m contiguous parts of it.
 */
export function curveTaskLosses(model: FunctionalModel, curve: WeightCurve, trainable: readonly tf.Tensor[], x: tf.Tensor, y: tf.Tensor[], ts: number[], splitBatch = false): tf.Scalar[][] {
  const n = x.shape[0];
  return ts.map((t, s) => {
    const params = curvePoint(curve, trainable, t);
    if (!splitBatch) return model.forward(params, x).map((o, k) => taskLoss(model.losses[k], o, y[k]));
    const [a, b] = shardRange(n, ts.length, s);
    if (b <= a) throw new Error(`a batch of ${n} rows cannot be split over ${ts.length} values of t`);
    return model.forward(params, tf.slice(x, a, b - a)).map((o, k) => taskLoss(model.losses[k], o, tf.slice(y[k], a, b - a)));
  });
}

/**
 * The curve objective as a function of the task losses at the sampled t (docs/design.md §2.2): the mean
 * λ-weighted loss, α·R_order on the two oriented objectives, β·R_align on the aligned one. It depends
 * on the data only through these mean losses, which is what lets data-parallel workers share it.
 */
export function curveObjective(cfg: CurveLossConfig, ts: number[], losses: tf.Scalar[][]): tf.Scalar {
  const K = losses[0].length;
  const lambda = cfg.taskWeights ?? Array(K).fill(1 / K);
  let total: tf.Tensor = tf.div(tf.addN(losses.map((ls) => tf.addN(ls.map((l, k) => tf.mul(l, lambda[k]))))), ts.length);
  const objLosses = cfg.objectives
    ? losses.map((ls) => cfg.objectives!.members.map((m) => (m.length === 1 ? ls[m[0]] : (tf.div(tf.addN(m.map((k) => ls[k])), m.length) as tf.Scalar))))
    : losses;
  if (cfg.alpha > 0 && ts.length >= 2) {
    total = tf.add(total, tf.mul(orderRegularizer(ts, objLosses, cfg.orientation.taskA, cfg.orientation.taskB), cfg.alpha));
  }
  const r = cfg.orientation.aligned;
  if (r !== undefined && r !== null && (cfg.beta ?? 0) > 0) {
    // R_align = mean_t exp(−|t − ½|) · L_r(C(t)): the aligned group's loss counts most mid-curve
    const terms = ts.map((t, s) => tf.mul(objLosses[s][r], Math.exp(-Math.abs(t - 0.5))));
    total = tf.add(total, tf.mul(tf.div(tf.addN(terms), ts.length), cfg.beta!));
  }
  return total as tf.Scalar;
}

/** The optional L2 term β·mean_t ‖C(t)‖² / #params (no data involved); null when l2 is 0. */
export function curveL2(curve: WeightCurve, trainable: readonly tf.Tensor[], ts: number[], l2: number): tf.Scalar | null {
  if (!(l2 > 0)) return null;
  const nParams = curve.ends[0].reduce((a, t) => a + t.size, 0);
  const terms = ts.map((t) => {
    const params = curvePoint(curve, trainable, t);
    return tf.div(tf.addN(params.map((p) => tf.sum(tf.square(p)))), nParams);
  });
  return tf.mul(tf.div(tf.addN(terms), ts.length), l2) as tf.Scalar;
}

/**
 * ∂objective/∂L at the full-batch losses L (flattened t-major, K per t): the coefficients with which
 * data-parallel workers back-propagate their shards' losses.
 */
export function curveObjectiveCoefficients(cfg: CurveLossConfig, ts: number[], losses: number[]): number[] {
  const K = losses.length / ts.length;
  return tf.tidy(() => {
    const g = tf.grad((v: tf.Tensor) => curveObjective(cfg, ts, ts.map((_, s) => Array.from({ length: K }, (_, k) => tf.reshape(tf.slice(v, [s * K + k], [1]), []) as tf.Scalar))))(tf.tensor1d(losses));
    return Array.from(g.dataSync());
  });
}

/** One batch: task losses at m values of t on the same batch, mean loss + α·R_order (+ L2). */
export function curveLossFn(
  model: FunctionalModel,
  curve: WeightCurve,
  cfg: CurveLossConfig,
  x: tf.Tensor,
  y: tf.Tensor[],
  ts: number[],
  record: (lossesAtT: number[][]) => void,
): (...trainable: tf.Tensor[]) => tf.Scalar {
  return (...trainable) => {
    const losses = curveTaskLosses(model, curve, trainable, x, y, ts, cfg.splitBatch ?? false);
    record(losses.map((ls) => ls.map((l) => l.dataSync()[0])));
    const total = curveObjective(cfg, ts, losses);
    const l2 = curveL2(curve, trainable, ts, cfg.l2);
    return l2 ? (tf.add(total, l2) as tf.Scalar) : total;
  };
}

export async function fitCurve(
  model: FunctionalModel,
  curve: WeightCurve,
  cfg: CurveFitConfig,
  data: CurveFitData,
): Promise<CurveFitResult> {
  const evalBs = cfg.evalBatchSize ?? 1000;
  // a line has nothing to train: it is fully determined by its endpoints
  if (trainableNames(curve).length === 0) return { trainable: [], history: [], resumedFromEpoch: 0 };
  const loss: CurveLossConfig = { alpha: cfg.alpha, l2: cfg.l2, orientation: cfg.orientation, taskWeights: cfg.taskWeights, objectives: cfg.objectives, beta: cfg.beta, splitBatch: cfg.splitBatch };
  const K = model.spec.numClasses.length;
  const pool = {
    size: cfg.threads ?? 1,
    program: curveProgramSpec(model.spec, curve, loss),
    shape: {
      sizes: trainableShapes(curve).map((s) => s.reduce((a, b) => a * b, 1)),
      rowSize: data.inputShape.reduce((a, b) => a * b, 1),
      maxBatch: cfg.batchSize,
      numTasks: K,
      labelShapes: model.labelShapes,
      numLosses: K * cfg.samplesPerBatch,
      mode: 'scalar' as const,
      lossRows: cfg.splitBatch ? { parts: cfg.samplesPerBatch, perPart: K } : undefined,
    },
  };
  return withPool(pool, (p) => fitWith(model, curve, cfg, data, evalBs, p));
}

async function fitWith(model: FunctionalModel, curve: WeightCurve, cfg: CurveFitConfig, data: CurveFitData, evalBs: number, pool: GradientPool | null): Promise<CurveFitResult> {
  const K = model.spec.numClasses.length;
  const trainable: Trainable<Record<string, never>> = {
    names: trainableNames(curve),
    shapes: trainableShapes(curve),
    init: () => initTrainable(curve, cfg.noise, cfg.seed, cfg.weightInit),
    ...(curve.geometry.trainWeights && cfg.weightLrScale !== undefined && cfg.weightLrScale !== 1
      ? { lrScale: trainableNames(curve).map((n) => (n === 'curve.log_weights' ? cfg.weightLrScale! : 1)) }
      : {}),
    initialState: () => ({}),
    async step(tensors, batch, _state, ctx) {
      const rng = makeRng(deriveSeed(cfg.seed, `curve-t/${ctx.epoch}/${ctx.step}`));
      const ts = stratifiedTs(cfg.samplesPerBatch, () => rng.next());
      if (pool) {
        if (!batch.raw) throw new Error('data-parallel step needs the batch as plain arrays');
        const values = tensors.map((t) => t.dataSync() as Float32Array);
        const r = await pool.step(values, { x: batch.raw.x, y: batch.raw.y, size: batch.size }, { ts }, (L) => curveObjectiveCoefficients(cfg, ts, L));
        const grads = unflattenGradient(r.grads[0], tensors.map((t) => t.shape));
        const mean = Array.from({ length: K }, (_, k) => ts.reduce((a, _t, s) => a + r.losses[s * K + k], 0) / ts.length);
        return { grads, losses: mean };
      }
      let perT: number[][] = [];
      const f = curveLossFn(model, curve, cfg, batch.x, batch.y, ts, (l) => (perT = l));
      const { value, grads } = tf.valueAndGrads(f)(tensors as tf.Tensor[]);
      value.dispose();
      const mean = Array.from({ length: K }, (_, k) => perT.reduce((a, l) => a + l[k], 0) / perT.length);
      return { grads, losses: mean };
    },
    evaluate(tensors) {
      const rows = cfg.evalTs.map((t) => {
        const params = curvePoint(curve, tensors, t);
        const [m] = evaluateSplits(model, params, [data.val], data.train, evalBs);
        params.forEach((p) => p.dispose());
        return { t, val: byTaskName(data.taskNames, m) };
      });
      const spearmanVal: Record<string, number> = {};
      if (rows.length >= 3) {
        data.taskNames.forEach((n) => {
          spearmanVal[n] = spearman(
            rows.map((r) => r.t),
            rows.map((r) => r.val[n].loss),
          );
        });
      }
      return { valAlongT: rows, spearmanVal };
    },
  };
  const res = await runTrainingLoop(
    {
      ...cfg,
      ...trainingFiles(cfg.dir),
      label: 'curve',
    },
    data.train,
    data.inputShape,
    trainable,
  );
  return { trainable: res.tensors, history: res.history, resumedFromEpoch: res.resumedFromEpoch };
}
