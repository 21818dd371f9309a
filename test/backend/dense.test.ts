import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, afterAll } from 'vitest';
import { selectBackend, nativeKernelsDecision, nativeDenseWithBias, setNativeThreads } from '../../src/backend/index.js';
import { randomArray, maxRelErr } from './values.js';

// The dense layer's product and bias in one pass on the native kernels (src/backend/wasm/dense.ts):
// the same bits as the product and then the addition on the same kernels, and the gradients of
// tf.matMul + tf.add on the cpu backend.
const native = nativeKernelsDecision();
const available = native.use || process.env.CI === 'true';

describe.runIf(available)('dense layer with its bias on the native kernels', () => {
  afterAll(async () => {
    setNativeThreads(1);
    await tf.setBackend('cpu');
  });
  const cases: { name: string; m: number; k: number; n: number }[] = [
    { name: 'a transformer MLP layer, 48 columns a panel', m: 130, k: 192, n: 768 },
    { name: 'a width that is no whole number of vectors', m: 37, k: 19, n: 13 },
    { name: 'k over one block of the product (256), sums in several parts', m: 21, k: 600, n: 70 },
    { name: 'a B over 1 MB read as it lies', m: 9, k: 3000, n: 96 },
  ];
  for (const c of cases) {
    it(`equals matMul then add bit for bit, and its gradients those of cpu: ${c.name}`, async () => {
      const xv = randomArray(c.m * c.k, 91);
      const wv = randomArray(c.k * c.n, 92, 0.1);
      const bv = randomArray(c.n, 93);
      const up = randomArray(c.m * c.n, 94);
      const withOps = () =>
        tf.tidy(() => {
          const [x, w, b] = [tf.tensor2d(xv, [c.m, c.k]), tf.tensor2d(wv, [c.k, c.n]), tf.tensor1d(bv)];
          const f = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D), r), tf.tensor2d(up, [c.m, c.n]))) as tf.Scalar;
          return [tf.add(tf.matMul(x, w), b), ...tf.grads(f)([x, w, b])].map((t) => t.dataSync() as Float32Array);
        });
      await tf.setBackend('cpu');
      const cpu = withOps();
      await selectBackend({ prefer: 'wasm', quiet: true });
      const ops = withOps();
      const dense = nativeDenseWithBias();
      expect(dense).not.toBeNull();
      if (!dense) return;
      for (const threads of [1, 2]) {
        setNativeThreads(threads);
        const got = tf.tidy(() => {
          const [x, w, b] = [tf.tensor2d(xv, [c.m, c.k]), tf.tensor2d(wv, [c.k, c.n]), tf.tensor1d(bv)];
          const f = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(dense(p as tf.Tensor2D, q as tf.Tensor2D, r as tf.Tensor1D), tf.tensor2d(up, [c.m, c.n]))) as tf.Scalar;
          return [dense(x, w, b), ...tf.grads(f)([x, w, b])].map((t) => t.dataSync() as Float32Array);
        });
        const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
        expect(bits(got[0]).equals(bits(ops[0])), `output, ${threads} threads`).toBe(true);
        ['output', 'dx', 'dW', 'db'].forEach((what, i) => expect(maxRelErr(got[i], cpu[i]), `${what}, ${threads} threads`).toBeLessThan(1e-5));
      }
      setNativeThreads(1);
    });
  }
});
