import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, afterAll } from 'vitest';
import { selectBackend, nativeKernelsDecision, nativeBatchNormTraining, setNativeThreads } from '../../src/backend/index.js';
import { randomArray, maxRelErr } from './values.js';

// The fused BatchNormalization training step of the native kernels (src/backend/wasm/batch-norm.ts)
// against the textbook ops on the cpu backend: tf.moments, then (x − mean)/√(var + ε)·γ + β, and
// tf.grads of both.
const native = nativeKernelsDecision();
const available = native.use || process.env.CI === 'true';

function reference(xv: Float32Array, shape: number[], gv: Float32Array, bv: Float32Array, up: Float32Array, eps: number): Float32Array[] {
  return tf.tidy(() => {
    const axes = shape.slice(0, -1).map((_, i) => i);
    const norm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, axes);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
    };
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(norm(x, g, b), tf.tensor(up, shape))) as tf.Scalar;
    const args = [tf.tensor(xv, shape), tf.tensor(gv), tf.tensor(bv)] as const;
    return [norm(...args), ...tf.grads(f)([...args])].map((t) => t.dataSync() as Float32Array);
  });
}

function fused(xv: Float32Array, shape: number[], gv: Float32Array, bv: Float32Array, up: Float32Array, eps: number): Float32Array[] {
  const bn = nativeBatchNormTraining();
  if (!bn) throw new Error('the native batch norm did not load');
  return tf.tidy(() => {
    const args = [tf.tensor(xv, shape), tf.tensor(gv), tf.tensor(bv)];
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn(x, g, b, eps), tf.tensor(up, shape))) as tf.Scalar;
    return [bn(args[0], args[1], args[2], eps), ...tf.grads(f)(args)].map((t) => t.dataSync() as Float32Array);
  });
}

describe.runIf(available)('BatchNormalization training on the native kernels', () => {
  afterAll(async () => {
    setNativeThreads(1);
    await tf.setBackend('cpu');
  });
  const cases: { name: string; shape: number[] }[] = [
    { name: 'NHWC, 64 channels (a ResNet stage)', shape: [5, 6, 7, 64] },
    { name: 'odd channel count, one image', shape: [1, 9, 4, 13] },
    { name: 'a [N, C] feature batch', shape: [33, 21] },
    { name: 'a 2×2 map of 512 channels (a ResNet last stage)', shape: [16, 2, 2, 512] },
  ];
  for (const c of cases) {
    it(`output and gradients (x, γ, β) equal the textbook ops on cpu: ${c.name}`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const C = c.shape[c.shape.length - 1];
      // an offset mean, so that centring matters
      const xv = Float32Array.from(randomArray(n, 31), (v) => v * 3 + 1.5);
      const gv = Float32Array.from(randomArray(C, 32), (v) => 1 + v);
      const bv = randomArray(C, 33);
      const up = randomArray(n, 34);
      await tf.setBackend('cpu');
      const want = reference(xv, c.shape, gv, bv, up, 1e-3);
      await selectBackend({ prefer: 'wasm', quiet: true });
      const got = fused(xv, c.shape, gv, bv, up, 1e-3);
      ['output', 'dx', 'dγ', 'dβ'].forEach((what, i) => expect(maxRelErr(got[i], want[i]), what).toBeLessThan(1e-4));
    });
  }

  it('a mean far from zero against its spread (ε 1e-5): within 1e-4 of the textbook in float64', async () => {
    const [N, C, eps] = [64, 96, 1e-5];
    const noise = randomArray(N * C, 51);
    const x = Float32Array.from(noise, (v, i) => 3 + (i % C) * 0.01 + 0.05 * v);
    const g = Float32Array.from(randomArray(C, 52), (v) => 1 + 0.1 * v);
    const b = randomArray(C, 53);
    const up = randomArray(N * C, 54);
    const want = { y: new Float64Array(N * C), dx: new Float64Array(N * C), dg: new Float64Array(C), db: new Float64Array(C) };
    for (let c = 0; c < C; c++) {
      let m = 0;
      for (let r = 0; r < N; r++) m += x[r * C + c] / N;
      let v = 0;
      for (let r = 0; r < N; r++) v += (x[r * C + c] - m) ** 2 / N;
      const rs = 1 / Math.sqrt(v + eps);
      let sdy = 0;
      let sdyc = 0;
      for (let r = 0; r < N; r++) {
        sdy += up[r * C + c];
        sdyc += up[r * C + c] * (x[r * C + c] - m);
      }
      want.db[c] = sdy;
      want.dg[c] = rs * sdyc;
      for (let r = 0; r < N; r++) {
        const cc = x[r * C + c] - m;
        want.y[r * C + c] = g[c] * rs * cc + b[c];
        want.dx[r * C + c] = g[c] * rs * (up[r * C + c] - sdy / N - (cc * rs * rs * sdyc) / N);
      }
    }
    await selectBackend({ prefer: 'wasm', quiet: true });
    const got = fused(x, [N, C], g, b, up, eps);
    const f32 = (a: Float64Array) => Float32Array.from(a);
    [want.y, want.dx, want.dg, want.db].forEach((w, i) => expect(maxRelErr(got[i], f32(w)), ['output', 'dx', 'dγ', 'dβ'][i]).toBeLessThan(1e-4));
  });

  it('gives the same bits on 1, 2 and 3 threads', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    // large enough for every kernel to split its work between threads (≥ 2M operations)
    const shape = [40, 16, 16, 112];
    const n = shape.reduce((a, b) => a * b, 1);
    const args = [randomArray(n, 41), Float32Array.from(randomArray(112, 42), (v) => 1 + v), randomArray(112, 43), randomArray(n, 44)] as const;
    const runs = [1, 2, 3].map((t) => {
      setNativeThreads(t);
      return fused(args[0], shape, args[1], args[2], args[3], 1e-5).map((a) => Array.from(a));
    });
    setNativeThreads(1);
    for (const r of runs.slice(1)) r.forEach((v, i) => expect(v, `output ${i}`).toEqual(runs[0][i]));
  });
});
