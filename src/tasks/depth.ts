import * as tf from '@tensorflow/tfjs';
import type { TaskKindEntry, TaskMetrics } from './types.js';
import { maskedMean, perPixelOutputProblem } from './valid.js';

/** |prediction − target| per pixel and the valid mask (target ≠ 0), for a [B,H,W,1] output and [B,H,W] targets. */
function depthTerms(out: tf.Tensor, target: tf.Tensor): { abs: tf.Tensor; mask: tf.Tensor } {
  const pred = tf.reshape(out, target.shape);
  const mask = tf.cast(tf.notEqual(target, 0), 'float32');
  return { abs: tf.abs(tf.sub(pred, target)), mask };
}

/**
 * The median of the non-zero values (the best constant predictor under L1), and their mean distance to it;
 * on a large split (NYUv2's test split has 72 M depths) from at most 2^20 evenly spaced measured values.
 */
function medianDeviation(y: ArrayLike<number>): number {
  let measured = 0;
  for (let i = 0; i < y.length; i++) if (y[i] !== 0) measured++;
  if (!measured) return 1;
  const step = Math.max(1, Math.ceil(measured / 2 ** 20));
  const v = new Float64Array(Math.ceil(measured / step));
  for (let i = 0, seen = 0, n = 0; i < y.length && n < v.length; i++) if (y[i] !== 0 && seen++ % step === 0) v[n++] = y[i];
  v.sort();
  const m = v[Math.floor(v.length / 2)];
  let s = 0;
  for (const d of v) s += Math.abs(d - m);
  return s / v.length || 1;
}

/** depth: a real depth per pixel, 0 where there is no measurement (the NYUv2 / CityScapes depth task). */
export const depthKind: TaskKindEntry = {
  name: 'depth',
  description: 'per-pixel L1 over measured pixels (target ≠ 0); absolute and relative error',
  perPixel: true,
  labelDtype: 'float32',
  keepActivation: true,
  checkOutput: (s) => perPixelOutputProblem(s, 1, 'depth'),
  labelShape: (s) => [s[0], s[1]],
  loss: (out, labels) =>
    tf.tidy(() => {
      const { abs, mask } = depthTerms(out, labels);
      return maskedMean(abs, mask);
    }),
  accumulator: () => {
    let absSum = 0;
    let relSum = 0;
    let valid = 0;
    return {
      add(out, labels) {
        const sums = tf.tidy(() => {
          const { abs, mask } = depthTerms(out, labels);
          // the relative error divides by the target only where it is measured (elsewhere by 1, then masked)
          const safe = tf.add(labels, tf.sub(1, mask));
          return tf.stack([tf.sum(tf.mul(abs, mask)), tf.sum(tf.mul(tf.div(abs, safe), mask)), tf.sum(mask)]);
        });
        const [a, r, n] = sums.dataSync();
        sums.dispose();
        absSum += a;
        relSum += r;
        valid += n;
      },
      result: (): TaskMetrics => {
        const n = Math.max(1, valid);
        return { loss: absSum / n, absErr: absSum / n, relErr: relSum / n };
      },
    };
  },
  error: (m) => (m.relErr === undefined ? null : m.relErr),
  lossReference: (y) => medianDeviation(y),
};
