import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, afterAll } from 'vitest';
import { selectBackend, nativeKernelsDecision, nativeAttention, setNativeThreads, type HeadLayout } from '../../src/backend/index.js';
import { randomArray, maxRelErr } from './values.js';

// Multi-head attention on the native kernels (src/backend/wasm/attention.ts) against the ops it replaces
// on the cpu backend — slices, head splits (reshape + transpose), tf.matMul, tf.softmax, the merge — and
// tf.grads of those ops for the inputs' gradients.
const native = nativeKernelsDecision();
const available = native.use || process.env.CI === 'true';

interface Case {
  name: string;
  /** the inputs' shapes [B, T, C] */
  shapes: number[][];
  layout: HeadLayout;
}

function textbook(xs: tf.Tensor[], l: HeadLayout): tf.Tensor {
  const [B, T] = xs[0].shape;
  const heads = (p: { input: number; column: number }) =>
    tf.transpose(tf.reshape(tf.slice(xs[p.input], [0, 0, p.column], [B, T, l.heads * l.dim]), [B, T, l.heads, l.dim]), [0, 2, 1, 3]);
  const a = tf.softmax(tf.mul(tf.matMul(heads(l.q), heads(l.k), false, true), l.scale));
  return tf.reshape(tf.transpose(tf.matMul(a, heads(l.v)), [0, 2, 1, 3]), [B, T, l.heads * l.dim]);
}

/** The output and each input's gradient of Σ out·up. */
function run(f: (xs: tf.Tensor[], l: HeadLayout) => tf.Tensor, c: Case, values: Float32Array[], up: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const xs = c.shapes.map((s, i) => tf.tensor(values[i], s));
    const out = f(xs, c.layout);
    const upT = tf.tensor(up, out.shape);
    const grads = tf.grads((...ins: tf.Tensor[]) => tf.sum(tf.mul(f(ins, c.layout), upT)) as tf.Scalar)(xs);
    return [out, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function fused(): (xs: tf.Tensor[], l: HeadLayout) => tf.Tensor {
  const f = nativeAttention();
  if (!f) throw new Error('the native attention did not load');
  return f;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe.runIf(available)('multi-head attention on the native kernels', () => {
  afterAll(async () => {
    setNativeThreads(1);
    await tf.setBackend('cpu');
  });
  const cases: Case[] = [
    {
      name: "a ViT block's: q, k, v side by side in one projection [4, 65, 3·3·64]",
      shapes: [[4, 65, 576]],
      layout: { heads: 3, dim: 64, scale: 0.125, q: { input: 0, column: 0 }, k: { input: 0, column: 192 }, v: { input: 0, column: 384 } },
    },
    {
      name: 'three places on two inputs with columns none of them reads (their gradient is 0), a head width of 12',
      shapes: [[2, 9, 60], [2, 9, 24]],
      layout: { heads: 2, dim: 12, scale: 0.3, q: { input: 0, column: 5 }, k: { input: 1, column: 0 }, v: { input: 0, column: 33 } },
    },
    {
      name: 'rows longer than a product block of k (300 tokens), a head width of 8',
      shapes: [[1, 300, 48]],
      layout: { heads: 2, dim: 8, scale: 0.7, q: { input: 0, column: 16 }, k: { input: 0, column: 0 }, v: { input: 0, column: 32 } },
    },
    {
      name: 'one token (the softmax of one score is 1)',
      shapes: [[3, 1, 12]],
      layout: { heads: 1, dim: 4, scale: 0.5, q: { input: 0, column: 0 }, k: { input: 0, column: 4 }, v: { input: 0, column: 8 } },
    },
  ];
  for (const c of cases) {
    it(`output and inputs' gradients equal the ops it replaces on cpu: ${c.name}`, async () => {
      const values = c.shapes.map((s, i) => randomArray(size(s), 91 + i, 1.5));
      const outSize = size([c.shapes[0][0], c.shapes[0][1], c.layout.heads * c.layout.dim]);
      const up = randomArray(outSize, 99);
      await tf.setBackend('cpu');
      const want = run(textbook, c, values, up);
      await selectBackend({ prefer: 'wasm', quiet: true });
      const got = run(fused(), c, values, up);
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => {
        expect(g.length, `output ${i}`).toBe(want[i].length);
        expect(maxRelErr(g, want[i]), `output ${i}`).toBeLessThan(2e-5);
      });
      // columns no head reads get no gradient
      if (c.name.startsWith('three places')) {
        const [B, T, C] = c.shapes[0];
        // q reads columns 5–28, v 33–56
        const unread = [0, 1, 2, 3, 4, 29, 30, 31, 32, 57, 58, 59];
        for (let r = 0; r < B * T; r++) for (const col of unread) expect(got[1][r * C + col], `row ${r}, column ${col}`).toBe(0);
        expect(got[1].some((v, i) => !unread.includes(i % C) && v !== 0)).toBe(true);
      }
    });
  }

  it('gives the same bits on 1, 2 and 3 threads', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    const c = cases[0];
    const shape = [16, 65, 576];
    const values = [randomArray(size(shape), 101)];
    const up = randomArray(16 * 65 * 192, 102);
    const runs = [1, 2, 3].map((t) => {
      setNativeThreads(t);
      return run(fused(), { ...c, shapes: [shape] }, values, up);
    });
    setNativeThreads(1);
    const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const r of runs.slice(1)) r.forEach((v, i) => expect(bits(v).equals(bits(runs[0][i])), `output ${i}`).toBe(true));
  });

  it('refuses q, k or v outside their input', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    const x = tf.zeros([1, 4, 10]);
    expect(() => fused()([x], { heads: 1, dim: 4, scale: 1, q: { input: 0, column: 0 }, k: { input: 0, column: 4 }, v: { input: 0, column: 7 } })).toThrow(/column blocks/);
    expect(() => fused()([x], { heads: 1, dim: 4, scale: 1, q: { input: 0, column: 0 }, k: { input: 1, column: 0 }, v: { input: 0, column: 4 } })).toThrow(/column blocks/);
    x.dispose();
  });
});
