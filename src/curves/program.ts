import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../models/index.js';
import { registerShardProgram } from '../parallel/program.js';
import { shardRange } from '../parallel/shards.js';
import { labelDtype } from '../train/losses.js';
import { trainableShapes, type WeightCurve } from './curve.js';
import { curveL2, curveTaskLosses } from './fit.js';
import { evaluateAt } from './profile.js';
import type { CurveProgramSpec } from './program-spec.js';

function tsOf(inputs: Record<string, unknown>): number[] {
  const ts = inputs.ts;
  if (!Array.isArray(ts) || !ts.every((t) => typeof t === 'number')) throw new Error('curve step without its values of t');
  return ts as number[];
}

/** A curve in a pool worker: task losses at the step's values of t on a shard, and the model at a t. */
registerShardProgram<CurveProgramSpec>('curve', (p) => {
  const model = buildModel(p.spec);
  const shapes = model.params.map((q) => q.shape);
  const curve: WeightCurve = {
    geometry: p.geometry,
    paramNames: p.paramNames,
    ends: [p.ends[0].map((v, i) => tf.tensor(v, shapes[i])), p.ends[1].map((v, i) => tf.tensor(v, shapes[i]))],
    ...(p.endStatistics ? { endStatistics: [p.endStatistics[0].map((v, i) => tf.tensor(v, model.statistics[i].shape)), p.endStatistics[1].map((v, i) => tf.tensor(v, model.statistics[i].shape))] as [tf.Tensor[], tf.Tensor[]] } : {}),
  };
  return {
    inputShape: model.spec.inputShape,
    labelDtypes: model.losses.map(labelDtype),
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
    dispose: () => tf.dispose([...curve.ends.flat(), ...(curve.endStatistics?.flat() ?? [])]),
  };
});
