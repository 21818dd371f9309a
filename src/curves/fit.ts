import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import type { FunctionalModel } from '../models/index.js';
import { runTrainingLoop, evaluateSplit, byTaskName, softmaxCrossEntropy, type LoopConfig, type Trainable, type LabelledSplit, type EpochRecord } from '../train/index.js';
import { spearman } from '../pareto/index.js';
import { makeRng, deriveSeed } from '../util/rng.js';
import { initTrainable, curvePoint, trainableNames, trainableShapes, type WeightCurve } from './curve.js';
import { orderRegularizer, stratifiedTs } from './order.js';
import type { CurveOrientation, ObjectiveMap } from './types.js';

export interface CurveFitConfig extends Omit<LoopConfig, 'checkpointFile' | 'logFile' | 'label'> {
  dir: string;
  /** weight of R_order; 0 turns it off */
  alpha: number;
  /** values of t per batch (≥ 2 for the order term) */
  samplesPerBatch: number;
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

/** One batch: task losses at m values of t on the same batch, mean loss + α·R_order (+ L2). */
export function curveLossFn(
  model: FunctionalModel,
  curve: WeightCurve,
  cfg: Pick<CurveFitConfig, 'alpha' | 'l2' | 'orientation' | 'taskWeights' | 'objectives' | 'beta'>,
  x: tf.Tensor,
  y: tf.Tensor1D[],
  ts: number[],
  record: (lossesAtT: number[][]) => void,
): (...trainable: tf.Tensor[]) => tf.Scalar {
  const K = model.spec.numClasses.length;
  const lambda = cfg.taskWeights ?? Array(K).fill(1 / K);
  const nParams = curve.ends[0].reduce((a, t) => a + t.size, 0);
  return (...trainable) => {
    const losses: tf.Scalar[][] = [];
    const l2Terms: tf.Tensor[] = [];
    for (const t of ts) {
      const params = curvePoint(curve, trainable, t);
      const outs = model.forward(params, x);
      losses.push(outs.map((o, k) => softmaxCrossEntropy(o, y[k])));
      if (cfg.l2 > 0) l2Terms.push(tf.div(tf.addN(params.map((p) => tf.sum(tf.square(p)))), nParams));
    }
    record(losses.map((ls) => ls.map((l) => l.dataSync()[0])));
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
    if (l2Terms.length) total = tf.add(total, tf.mul(tf.div(tf.addN(l2Terms), ts.length), cfg.l2));
    return total as tf.Scalar;
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
  const trainable: Trainable<Record<string, never>> = {
    names: trainableNames(curve),
    shapes: trainableShapes(curve),
    init: () => initTrainable(curve, cfg.noise, cfg.seed),
    initialState: () => ({}),
    step(tensors, batch, _state, ctx) {
      const rng = makeRng(deriveSeed(cfg.seed, `curve-t/${ctx.epoch}/${ctx.step}`));
      const ts = stratifiedTs(cfg.samplesPerBatch, () => rng.next());
      let perT: number[][] = [];
      const f = curveLossFn(model, curve, cfg, batch.x, batch.y, ts, (l) => (perT = l));
      const { value, grads } = tf.valueAndGrads(f)(tensors as tf.Tensor[]);
      value.dispose();
      const K = model.spec.numClasses.length;
      const mean = Array.from({ length: K }, (_, k) => perT.reduce((a, l) => a + l[k], 0) / perT.length);
      return { grads, losses: mean };
    },
    evaluate(tensors) {
      const rows = cfg.evalTs.map((t) => {
        const params = curvePoint(curve, tensors, t);
        const m = evaluateSplit(model, params, data.val, evalBs);
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
      checkpointFile: path.join(cfg.dir, 'checkpoint.safetensors'),
      logFile: path.join(cfg.dir, 'train.jsonl'),
      label: 'curve',
    },
    data.train,
    data.inputShape,
    trainable,
  );
  return { trainable: res.tensors, history: res.history, resumedFromEpoch: res.resumedFromEpoch };
}
