import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { selectBackend } from '../../src/backend/index.js';
import { momentsWithGradient } from '../../src/models/graph/moments.js';
import { randomArray, maxRelErr } from '../backend/values.js';

// The normalisation layers' moments with their gradient written out, against tf.moments and its
// autodiff gradient (the oracle), on the cpu backend.
beforeAll(async () => {
  await selectBackend({ prefer: 'cpu', quiet: true });
});

describe('momentsWithGradient', () => {
  const cases: { name: string; shape: number[]; axes: number[]; keepDims: boolean }[] = [
    { name: 'BatchNormalization (every axis but the channels)', shape: [3, 5, 4, 7], axes: [0, 1, 2], keepDims: false },
    { name: 'LayerNormalization (the last axis, kept)', shape: [6, 9], axes: [-1], keepDims: true },
    { name: 'a middle axis', shape: [2, 5, 3], axes: [1], keepDims: false },
  ];
  for (const c of cases) {
    it(`equals tf.moments and its gradient: ${c.name}`, () => {
      const size = c.shape.reduce((a, b) => a * b, 1);
      const xv = randomArray(size, 1);
      const run = (moments: (x: tf.Tensor) => { mean: tf.Tensor; variance: tf.Tensor }) =>
        tf.tidy(() => {
          const x = tf.tensor(xv, c.shape);
          const m0 = moments(x);
          // a loss that weighs every mean and variance entry differently
          const loss = (t: tf.Tensor) => {
            const m = moments(t);
            return tf.add(tf.sum(tf.mul(m.mean, tf.linspace(-1, 2, m.mean.size).reshape(m.mean.shape))), tf.sum(tf.mul(m.variance, tf.linspace(0.5, 3, m.variance.size).reshape(m.variance.shape)))) as tf.Scalar;
          };
          const g = tf.grad(loss)(x);
          return [m0.mean.shape.join('x'), m0.mean.dataSync() as Float32Array, m0.variance.dataSync() as Float32Array, g.dataSync() as Float32Array] as const;
        });
      const ours = run((x) => momentsWithGradient(x, c.axes, c.keepDims));
      const oracle = run((x) => tf.moments(x, c.axes, c.keepDims));
      expect(ours[0]).toBe(oracle[0]);
      expect(maxRelErr(ours[1], oracle[1]), 'mean').toBeLessThan(1e-6);
      expect(maxRelErr(ours[2], oracle[2]), 'variance').toBeLessThan(1e-6);
      expect(maxRelErr(ours[3], oracle[3]), 'gradient').toBeLessThan(1e-5);
    });
  }
});
