import * as tf from '@tensorflow/tfjs';
import type { TaskKindEntry, TaskMetrics } from './types.js';
import { maskedMean, measuredMask, perPixelOutputProblem } from './valid.js';

/** The cosine of prediction and target per pixel (the prediction L2-normalized; the target is unit) and the valid mask. */
function cosineTerms(out: tf.Tensor, target: tf.Tensor): { cos: tf.Tensor; mask: tf.Tensor } {
  // the norm's floor keeps the gradient finite for a zero prediction (PyTorch's F.normalize floors at 1e-12 too)
  const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(out), -1, true), 1e-24));
  return { cos: tf.sum(tf.mul(tf.div(out, norm), target), -1), mask: measuredMask(target) };
}

/** The median of a list of numbers, the mean of the middle two for an even count (NumPy's np.median). */
export function median(values: Float32Array): number {
  if (!values.length) return 0;
  const v = Float32Array.from(values).sort();
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/** Angles of all valid pixels of a split, in degrees, in a growing buffer. */
class AngleList {
  private data = new Float32Array(1024);
  length = 0;
  push(values: ArrayLike<number>, mask: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      if (!mask[i]) continue;
      if (this.length === this.data.length) {
        const grown = new Float32Array(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
      this.data[this.length++] = values[i];
    }
  }
  values(): Float32Array {
    return this.data.subarray(0, this.length);
  }
}

/** normal: a unit surface normal per pixel, (0,0,0) where there is none (the NYUv2 normals task). */
export const normalKind: TaskKindEntry = {
  name: 'normal',
  description: 'per-pixel 1 − cosine of the L2-normalized prediction and the target (target ≠ 0); angle error',
  perPixel: true,
  labelDtype: 'float32',
  keepActivation: true,
  checkOutput: (s) => perPixelOutputProblem(s, 3, 'normal'),
  labelShape: (s) => [s[0], s[1], 3],
  loss: (out, labels) =>
    tf.tidy(() => {
      const { cos, mask } = cosineTerms(out, labels);
      return tf.sub(1, maskedMean(cos, mask)) as tf.Scalar;
    }),
  accumulator: () => {
    const angles = new AngleList();
    let cosSum = 0;
    return {
      add(out, labels) {
        const [deg, mask, cs] = tf.tidy(() => {
          const { cos, mask } = cosineTerms(out, labels);
          return [tf.mul(tf.acos(tf.clipByValue(cos, -1, 1)), 180 / Math.PI), mask, tf.sum(tf.mul(cos, mask))];
        });
        cosSum += cs.dataSync()[0];
        angles.push(deg.dataSync(), mask.dataSync());
        tf.dispose([deg, mask, cs]);
      },
      result(): TaskMetrics {
        const a = angles.values();
        const n = Math.max(1, a.length);
        let sum = 0;
        const within = [0, 0, 0];
        for (const d of a) {
          sum += d;
          if (d < 11.25) within[0]++;
          if (d < 22.5) within[1]++;
          if (d < 30) within[2]++;
        }
        return {
          loss: 1 - cosSum / n,
          meanAngle: sum / n,
          medianAngle: median(a),
          within11_25: within[0] / n,
          within22_5: within[1] / n,
          within30: within[2] / n,
        };
      },
    };
  },
  // the share of the worst angle (180°), so that the error hypervolume's reference 1 fits
  error: (m) => (m.meanAngle === undefined ? null : m.meanAngle / 180),
  // the loss of a prediction orthogonal to every target (cosine 0)
  lossReference: () => 1,
};
