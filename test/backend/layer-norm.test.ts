import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, afterAll } from 'vitest';
import { selectBackend, nativeKernelsDecision, nativeLayerNorm, setNativeThreads } from '../../src/backend/index.js';
import { randomArray, maxRelErr } from './values.js';

// LayerNormalization over the last axis on the native kernels (src/backend/wasm/layer-norm.ts) against
// the textbook ops on the cpu backend — tf.moments over the last axis, then (x − mean)/√(var + ε)·γ + β,
// and tf.grads of both — and against the textbook in float64.
const native = nativeKernelsDecision();
const available = native.use || process.env.CI === 'true';

function reference(xv: Float32Array, shape: number[], gv: Float32Array, bv: Float32Array, up: Float32Array, eps: number): Float32Array[] {
  return tf.tidy(() => {
    const norm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, [x.rank - 1], true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
    };
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(norm(x, g, b), tf.tensor(up, shape))) as tf.Scalar;
    const args = [tf.tensor(xv, shape), tf.tensor(gv), tf.tensor(bv)] as const;
    return [norm(...args), ...tf.grads(f)([...args])].map((t) => t.dataSync() as Float32Array);
  });
}

function fused(xv: Float32Array, shape: number[], gv: Float32Array, bv: Float32Array, up: Float32Array, eps: number): Float32Array[] {
  const ln = nativeLayerNorm();
  if (!ln) throw new Error('the native layer norm did not load');
  return tf.tidy(() => {
    const args = [tf.tensor(xv, shape), tf.tensor(gv), tf.tensor(bv)];
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(ln(x, g, b, eps), tf.tensor(up, shape))) as tf.Scalar;
    return [ln(args[0], args[1], args[2], eps), ...tf.grads(f)(args)].map((t) => t.dataSync() as Float32Array);
  });
}

describe.runIf(available)('LayerNormalization on the native kernels', () => {
  afterAll(async () => {
    setNativeThreads(1);
    await tf.setBackend('cpu');
  });
  const cases: { name: string; shape: number[] }[] = [
    { name: 'a transformer block [batch, tokens, 192]', shape: [4, 65, 192] },
    { name: 'an odd row length (not a multiple of 4)', shape: [7, 13] },
    { name: 'one row', shape: [1, 50] },
    { name: 'rows of one value (output β, gradient 0)', shape: [6, 1] },
  ];
  for (const c of cases) {
    it(`output and gradients (x, γ, β) equal the textbook ops on cpu: ${c.name}`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const C = c.shape[c.shape.length - 1];
      // an offset mean, so that centring matters
      const xv = Float32Array.from(randomArray(n, 61), (v) => v * 3 + 1.5);
      const gv = Float32Array.from(randomArray(C, 62), (v) => 1 + v);
      const bv = randomArray(C, 63);
      const up = randomArray(n, 64);
      await tf.setBackend('cpu');
      const want = reference(xv, c.shape, gv, bv, up, 1e-5);
      await selectBackend({ prefer: 'wasm', quiet: true });
      const got = fused(xv, c.shape, gv, bv, up, 1e-5);
      ['output', 'dx', 'dγ', 'dβ'].forEach((what, i) => {
        expect(got[i].length, what).toBe(want[i].length);
        expect(maxRelErr(got[i], want[i]), what).toBeLessThan(1e-4);
      });
    });
  }

  it('a mean far from zero against its spread (ε 1e-6): within 1e-4 of the textbook in float64', async () => {
    const [N, C, eps] = [50, 96, 1e-6];
    const x = Float32Array.from(randomArray(N * C, 71), (v, i) => 40 + Math.floor(i / C) + 0.01 * v);
    const g = Float32Array.from(randomArray(C, 72), (v) => 1 + 0.1 * v);
    const b = randomArray(C, 73);
    const up = randomArray(N * C, 74);
    const want = { y: new Float64Array(N * C), dx: new Float64Array(N * C), dg: new Float64Array(C), db: new Float64Array(C) };
    for (let r = 0; r < N; r++) {
      let m = 0;
      for (let c = 0; c < C; c++) m += x[r * C + c] / C;
      let v = 0;
      for (let c = 0; c < C; c++) v += (x[r * C + c] - m) ** 2 / C;
      const rs = 1 / Math.sqrt(v + eps);
      let sg = 0;
      let sgx = 0;
      for (let c = 0; c < C; c++) {
        const xh = (x[r * C + c] - m) * rs;
        sg += up[r * C + c] * g[c];
        sgx += up[r * C + c] * g[c] * xh;
        want.dg[c] += up[r * C + c] * xh;
        want.db[c] += up[r * C + c];
      }
      for (let c = 0; c < C; c++) {
        const xh = (x[r * C + c] - m) * rs;
        want.y[r * C + c] = g[c] * xh + b[c];
        want.dx[r * C + c] = rs * (up[r * C + c] * g[c] - sg / C - (xh * sgx) / C);
      }
    }
    await selectBackend({ prefer: 'wasm', quiet: true });
    const got = fused(x, [N, C], g, b, up, eps);
    [want.y, want.dx, want.dg, want.db].forEach((w, i) => expect(maxRelErr(got[i], Float32Array.from(w)), ['output', 'dx', 'dγ', 'dβ'][i]).toBeLessThan(1e-4));
  });

  it('gives the same bits on 1, 2 and 3 threads', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    // large enough for every kernel to split its work between threads (≥ 2M operations)
    const shape = [64, 65, 192];
    const n = shape.reduce((a, b) => a * b, 1);
    const args = [randomArray(n, 81), Float32Array.from(randomArray(192, 82), (v) => 1 + v), randomArray(192, 83), randomArray(n, 84)] as const;
    const runs = [1, 2, 3].map((t) => {
      setNativeThreads(t);
      return fused(args[0], shape, args[1], args[2], args[3], 1e-5);
    });
    setNativeThreads(1);
    const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const r of runs.slice(1)) r.forEach((v, i) => expect(bits(v).equals(bits(runs[0][i])), `output ${i}`).toBe(true));
  });
});
