import * as tf from '@tensorflow/tfjs';
import { buildModel, type FunctionalModel, type ModelSpec } from '../models/index.js';
import { taskLoss } from '../train/losses.js';
import type { LabelledSplit } from '../train/batches.js';
import type { TaskMetrics } from '../train/evaluate.js';
import { evaluateAt } from '../curves/profile.js';
import type { CurveGeometry } from '../curves/types.js';
import { curveTaskLosses, curveL2, type CurveLossConfig } from '../curves/fit.js';
import { trainableShapes, type WeightCurve } from '../curves/curve.js';
import { shardRange } from './pool.js';
import { evaluateSplits } from '../train/evaluate.js';
import { planePoint } from '../landscape/plane.js';
import { hyperForward, hyperParamSpecs } from '../hypernet/hypernet.js';

/**
 * What a data-parallel worker computes on its shard, described by plain data (it crosses the thread
 * boundary as workerData). One entry per kind in `programBuilders` below.
 */
export type ShardProgramSpec =
  | { kind: 'endpoint'; spec: ModelSpec }
  | {
      kind: 'curve';
      spec: ModelSpec;
      geometry: CurveGeometry;
      paramNames: string[];
      /** endpoint parameter values (the frozen control points P_0 and P_n) */
      ends: [Float32Array[], Float32Array[]];
      loss: CurveLossConfig;
    }
  | {
      /** a Pareto hypernetwork: trainable = its parameters, θ(ray) feeds the model (src/hypernet) */
      kind: 'hypernet';
      spec: ModelSpec;
      hidden: number;
    }
  | {
      /** models origin + a·u + b·v of a plane in weight space (evaluation only) */
      kind: 'plane';
      spec: ModelSpec;
      origin: Float32Array[];
      u: Float32Array[];
      v: Float32Array[];
    };

export interface ShardProgram {
  model: FunctionalModel;
  /** shapes of the trainable tensors, in the order the pool sends their values */
  shapes: number[][];
  /**
   * the shard's loss vector (tf scalars; null for a loss none of the shard's rows enter), e.g. one per
   * task, or per t and task for a curve. The shard is rows [lo, hi) of an n-row batch.
   */
  losses(trainable: tf.Tensor[], x: tf.Tensor, y: tf.Tensor1D[], inputs: Record<string, unknown>, rows: { lo: number; hi: number; n: number }): (tf.Scalar | null)[];
  /** a data-independent term of the objective, added once per step (by shard 0) */
  extra?(trainable: tf.Tensor[], inputs: Record<string, unknown>): tf.Scalar | null;
  /** per-task metrics of the model at a point on each split (curves: [t]; planes: [a, b]) */
  evaluateAt?(trainable: tf.Tensor[], point: number[], splits: LabelledSplit[], train?: LabelledSplit): TaskMetrics[][];
}

function tsOf(inputs: Record<string, unknown>): number[] {
  const ts = inputs.ts;
  if (!Array.isArray(ts) || !ts.every((t) => typeof t === 'number')) throw new Error('curve step without its values of t');
  return ts as number[];
}

const programBuilders: { [K in ShardProgramSpec['kind']]: (spec: Extract<ShardProgramSpec, { kind: K }>) => ShardProgram } = {
  endpoint(p) {
    const model = buildModel(p.spec);
    return {
      model,
      shapes: model.params.map((q) => q.shape),
      losses: (params, x, y) => model.forward(params, x).map((o, k) => taskLoss(model.losses[k], o, y[k])),
    };
  },
  curve(p) {
    const model = buildModel(p.spec);
    const shapes = model.params.map((q) => q.shape);
    const curve: WeightCurve = {
      geometry: p.geometry,
      paramNames: p.paramNames,
      ends: [p.ends[0].map((v, i) => tf.tensor(v, shapes[i])), p.ends[1].map((v, i) => tf.tensor(v, shapes[i]))],
    };
    return {
      model,
      shapes: trainableShapes(curve),
      losses: (trainable, x, y, inputs, rows) => {
        const ts = tsOf(inputs);
        if (!p.loss.splitBatch) return curveTaskLosses(model, curve, trainable, x, y, ts).flat();
        // split batch: t_s sees rows [a_s, b_s) of the batch; this shard evaluates only its part of those
        const K = model.spec.numClasses.length;
        return ts.flatMap((t, s) => {
          const [a, b] = shardRange(rows.n, ts.length, s);
          const lo = Math.max(a, rows.lo);
          const hi = Math.min(b, rows.hi);
          if (hi <= lo) return Array<null>(K).fill(null);
          const xs = tf.slice(x, lo - rows.lo, hi - lo);
          const ys = y.map((v) => tf.slice(v, lo - rows.lo, hi - lo));
          return curveTaskLosses(model, curve, trainable, xs, ys, [t])[0];
        });
      },
      extra: (trainable, inputs) => curveL2(curve, trainable, tsOf(inputs), p.loss.l2),
      evaluateAt: (trainable, point, splits, train) => evaluateAt(model, curve, trainable, point[0], splits, 1000, train),
    };
  },
  hypernet(p) {
    const model = buildModel(p.spec);
    return {
      model,
      shapes: hyperParamSpecs(model, { hidden: p.hidden }).map((s) => s.shape),
      losses: (trainable, x, y, inputs) => {
        const ray = inputs.ray;
        if (!Array.isArray(ray) || !ray.every((r) => typeof r === 'number')) throw new Error('hypernet step without its ray');
        const theta = hyperForward(model, trainable, ray as number[]);
        return model.forward(theta, x).map((o, k) => taskLoss(model.losses[k], o, y[k]));
      },
    };
  },
  plane(p) {
    const model = buildModel(p.spec);
    return {
      model,
      shapes: [],
      losses: () => {
        throw new Error('a plane program only evaluates');
      },
      evaluateAt: (_trainable, point, splits, train) => {
        const params = planePoint(p.origin, p.u, p.v, point[0], point[1]).map((w, i) => tf.tensor(w, model.params[i].shape));
        try {
          return evaluateSplits(model, params, splits, train);
        } finally {
          tf.dispose(params);
        }
      },
    };
  },
};

export function buildShardProgram(spec: ShardProgramSpec): ShardProgram {
  const build = programBuilders[spec.kind] as (s: ShardProgramSpec) => ShardProgram;
  if (!build) throw new Error(`unknown shard program '${(spec as { kind: string }).kind}'`);
  return build(spec);
}
