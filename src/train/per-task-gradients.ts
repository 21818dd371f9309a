import * as tf from '@tensorflow/tfjs';
import type { FunctionalModel } from '../models/index.js';
import type { Batch } from './batches.js';
import { taskLoss } from './losses.js';

/**
 * Per-task gradients: one backward pass per task, each only w.r.t. what the task touches (the trunk
 * and its own head). Returns the losses, the full per-task gradient lists (undefined where a task does
 * not reach a parameter) and the flattened trunk gradients. The caller disposes `perTask`.
 */
export function perTaskGradients(
  model: FunctionalModel,
  params: readonly tf.Tensor[],
  batch: Batch,
): { losses: number[]; perTask: (tf.Tensor | undefined)[][]; shared: Float64Array[]; sharedIdx: number[] } {
  const K = model.spec.numClasses.length;
  const sharedIdx = model.params.map((p, i) => (p.shared ? i : -1)).filter((i) => i >= 0);
  const perTask: (tf.Tensor | undefined)[][] = [];
  const losses: number[] = [];
  for (let k = 0; k < K; k++) {
    const idx = model.params.map((p, i) => (p.shared || p.task === k ? i : -1)).filter((i) => i >= 0);
    const { value, grads } = tf.valueAndGrads((...sub: tf.Tensor[]) => {
      const full = [...params];
      idx.forEach((i, q) => (full[i] = sub[q]));
      return taskLoss(model.losses[k], model.forward(full, batch.x)[k], batch.y[k]);
    })(idx.map((i) => params[i]));
    losses.push(value.dataSync()[0]);
    value.dispose();
    const byIndex: (tf.Tensor | undefined)[] = new Array(params.length);
    idx.forEach((i, q) => (byIndex[i] = grads[q]));
    perTask.push(byIndex);
  }
  const shared = perTask.map((g) => {
    const flat = tf.concat(sharedIdx.map((i) => g[i]!.reshape([-1])));
    const out = Float64Array.from(flat.dataSync());
    flat.dispose();
    return out;
  });
  return { losses, perTask, shared, sharedIdx };
}
