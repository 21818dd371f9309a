import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { selectBackend, kernelEngine, nativeKernelsDecision, setNativeThreads } from '../../src/backend/index.js';
import { nativeAddon } from '../../src/backend/wasm/native.js';
import { buildModel, defaultModelSpec, initParamValues } from '../../src/models/index.js';
import { softmaxCrossEntropy } from '../../src/train/index.js';
import { makeRng } from '../../src/util/rng.js';
import { randomArray, maxRelErr } from './values.js';

// The native kernels (native/*.cc): their own properties, beyond the value checks against the cpu
// backend that test/backend/backend.test.ts runs on both engines. Built at install; required in CI.
const native = nativeKernelsDecision();
const available = native.use || process.env.CI === 'true';

/** lenet-mtl's gradients at batch 5 (odd, so blocks and thread ranges do not divide evenly). */
function lenetGradients(): Float32Array[] {
  const model = buildModel(defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 10], ['a', 'b']));
  const values = initParamValues(model.params, 3).map((v, i) => (model.params[i].init === 'zeros' ? randomArray(v.length, 50 + i, 0.05) : v));
  const xv = Float32Array.from(randomArray(5 * 36 * 36, 4), (v) => Math.abs(v) / 3);
  return tf.tidy(() => {
    const x = tf.tensor(xv, [5, 36, 36, 1]);
    const loss = (...p: tf.Tensor[]) => {
      const o = model.forward(p, x);
      return tf.add(softmaxCrossEntropy(o[0], tf.tensor1d([1, 2, 3, 4, 5], 'int32')), softmaxCrossEntropy(o[1], tf.tensor1d([9, 0, 1, 2, 3], 'int32'))) as tf.Scalar;
    };
    return tf.grads(loss)(values.map((v, i) => tf.tensor(v, model.params[i].shape))).map((g) => g.dataSync() as Float32Array);
  });
}

describe.runIf(available)(`native kernels${available ? '' : ` (skipped: ${native.use ? '' : native.reason})`}`, () => {
  beforeAll(async () => {
    delete process.env.EXTRA_NATIVE_KERNELS;
    await selectBackend({ prefer: 'wasm', quiet: true });
  });
  afterAll(() => setNativeThreads(1));

  it('are built, load, and run on wasm (the engine the backend line names)', () => {
    expect(native.use, native.use ? '' : native.reason).toBe(true);
    expect(kernelEngine().engine).toBe('native');
  });

  it('matMul with transposes, broadcast batches and odd sizes equals cpu', async () => {
    const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
      { a: [37, 19], b: [19, 13], ta: false, tb: false },
      { a: [19, 37], b: [19, 13], ta: true, tb: false },
      { a: [37, 19], b: [13, 19], ta: false, tb: true },
      { a: [19, 37], b: [13, 19], ta: true, tb: true },
      { a: [3, 5, 7], b: [1, 7, 9], ta: false, tb: false },
      { a: [1, 5, 7], b: [3, 9, 7], ta: false, tb: true },
      { a: [2, 3, 1, 4], b: [2, 3, 4, 1], ta: false, tb: false },
      { a: [1, 1], b: [1, 40], ta: false, tb: false },
      // k longer than one of the product's k blocks (256)
      { a: [9, 600], b: [600, 21], ta: false, tb: false },
      { a: [600, 9], b: [21, 600], ta: true, tb: true },
      // wide products (64 columns and more): the AVX-512 kernels by default where the CPU has them
      { a: [3, 65, 64], b: [3, 64, 65], ta: false, tb: false },
      { a: [70, 300], b: [96, 300], ta: false, tb: true },
      // a B over 1 MB (a weight gradient's): tasks of many rows; B packed (100 columns), or read as it lies (96)
      { a: [3000, 37], b: [3000, 100], ta: true, tb: false },
      { a: [3000, 37], b: [3000, 96], ta: true, tb: false },
      { a: [3000, 37], b: [96, 3000], ta: true, tb: true },
    ];
    const run = async (backend: string) => {
      await selectBackend({ prefer: backend, quiet: true });
      return cases.map((c, i) => tf.tidy(() => tf.matMul(tf.tensor(randomArray(c.a.reduce((p, q) => p * q), 60 + i), c.a), tf.tensor(randomArray(c.b.reduce((p, q) => p * q), 80 + i), c.b), c.ta, c.tb).dataSync() as Float32Array));
    };
    const w = await run('wasm');
    const c = await run('cpu');
    w.forEach((v, i) => {
      expect(v.length, `case ${i}`).toBe(c[i].length);
      expect(maxRelErr(v, c[i]), `case ${i}`).toBeLessThan(1e-6);
    });
  });

  it('the 2×2 max-pool gradient with channel counts below, at and above a vector equals cpu exactly', async () => {
    for (const ch of [3, 8, 13, 17]) {
      const xs = [2, 6, 8, ch];
      const rng = makeRng(ch);
      // small integers: ties, which must go to the first maximum as on cpu
      const xv = Float32Array.from({ length: 2 * 6 * 8 * ch }, () => rng.int(4));
      const up = tf.linspace(0.5, 2, 2 * 3 * 4 * ch).reshape([2, 3, 4, ch]);
      const grad = async (backend: string) => {
        await selectBackend({ prefer: backend, quiet: true });
        return tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), up)) as tf.Scalar)(tf.tensor(xv, xs)).dataSync() as Float32Array);
      };
      const a = await grad('wasm');
      const b = await grad('cpu');
      up.dispose();
      expect(Array.from(a), `${ch} channels`).toEqual(Array.from(b));
    }
  });

  it('elementwise, per-channel and unary ops (on 2 threads) give exactly the cpu backend\'s values', async () => {
    const shape = [3, 4, 5, 6];
    const xv = randomArray(360, 91);
    // zeros, a NaN and negative values, where relu and step have to decide
    xv[0] = 0;
    xv[1] = NaN;
    xv[2] = -0;
    const yv = Float32Array.from(randomArray(360, 92), (v) => v + (v >= 0 ? 0.5 : -0.5));
    const cv = Float32Array.from(randomArray(6, 93), (v) => v + (v >= 0 ? 0.5 : -0.5));
    const run = async (backend: string) => {
      await selectBackend({ prefer: backend, quiet: true });
      return tf.tidy(() => {
        const x = tf.tensor(xv, shape);
        const y = tf.tensor(yv, shape);
        const c = tf.tensor1d(cv);
        const c4 = c.reshape([1, 1, 1, 6]);
        return [
          tf.add(x, y), tf.sub(x, y), tf.mul(x, y), tf.div(x, y),
          tf.add(x, c), tf.sub(c4, x), tf.mul(c, x), tf.div(x, c4), tf.div(c, y), tf.sub(x, c),
          // per-row values ([..., 1]: LayerNormalization's moments), either side
          tf.sub(x, tf.tensor(yv.slice(0, 60), [3, 4, 5, 1])), tf.div(tf.tensor(yv.slice(60, 120), [3, 4, 5, 1]), y), tf.mul(x.reshape([60, 6]), tf.tensor(yv.slice(0, 60), [60, 1])),
          tf.relu(x), tf.step(x), tf.square(x),
          // reductions over trailing axes (LayerNormalization's moments), then the leading-axes mean
          tf.sum(x.reshape([60, 6]).slice([1, 0], [59, 6]), -1), tf.mean(y, -1, true), tf.sum(y, [2, 3]), tf.mean(y, [1, 2, 3]), tf.mean(y, [0, 1, 2]),
        ].map((t) => Array.from(t.dataSync()));
      });
    };
    setNativeThreads(2);
    const native = await run('wasm');
    setNativeThreads(1);
    const cpu = await run('cpu');
    native.forEach((v, i) => {
      expect(v.length, `op ${i}`).toBe(cpu[i].length);
      if (i >= native.length - 5) expect(maxRelErr(Float32Array.from(v), Float32Array.from(cpu[i])), `reduction ${i}`).toBeLessThan(1e-6);
      else expect(v, `op ${i}`).toEqual(cpu[i]);
    });
  });

  it('max-pool gradients of any window (3×3/2 and 3×3/1 same, 2×2/1 valid) route ties to the first maximum as cpu does', async () => {
    const rng = makeRng(23);
    // small integers: many ties inside a window; 3, 16 and 21 channels (below, at and past a vector)
    const inputs = [3, 16, 21].map((c) => ({ c, xv: Float32Array.from({ length: 2 * 9 * 11 * c }, () => rng.int(3)) }));
    const cases: [number, number, 'valid' | 'same'][] = [[3, 2, 'same'], [3, 1, 'same'], [2, 1, 'valid'], [3, 2, 'valid']];
    const run = async (backend: string) => {
      await selectBackend({ prefer: backend, quiet: true });
      return inputs.flatMap(({ c, xv }) =>
        cases.map(([f, st, pad]) =>
          tf.tidy(() => {
            const g = (t: tf.Tensor) => {
              const y = tf.maxPool(t as tf.Tensor4D, f, st, pad);
              return tf.sum(tf.mul(y, tf.linspace(0.5, 2, y.size).reshape(y.shape))) as tf.Scalar;
            };
            return Array.from(tf.grad(g)(tf.tensor(xv, [2, 9, 11, c])).dataSync());
          }),
        ),
      );
    };
    setNativeThreads(2);
    const native = await run('wasm');
    setNativeThreads(1);
    const cpu = await run('cpu');
    // the same entries receive the same dy values; where overlapping windows add several, cpu sums them
    // per input pixel and the kernel per window in order, so the last bit may differ
    native.forEach((v, i) => v.forEach((g, j) => expect(Math.abs(g - cpu[i][j]), `case ${i}, entry ${j}`).toBeLessThanOrEqual(1e-6 * Math.abs(cpu[i][j]))));
  });

  it('max pooling (valid and same, strides 1 and 2, one and two vectors of channels, a NaN) equals cpu exactly', async () => {
    const xv = randomArray(2 * 9 * 11 * 13, 71);
    xv[5] = NaN;
    const cases: [number, number, 'valid' | 'same'][] = [[2, 2, 'valid'], [3, 2, 'same'], [3, 1, 'same'], [2, 1, 'valid']];
    const run = async (backend: string) => {
      await selectBackend({ prefer: backend, quiet: true });
      return tf.tidy(() => {
        const x = tf.tensor(xv, [2, 9, 11, 13]) as tf.Tensor4D;
        // 8 and 16 channels: whole vectors, the native kernel (other counts go to tfjs-wasm's, whose NaN rule differs)
        const x8 = tf.concat([x, x.slice([0, 0, 0, 0], [2, 9, 11, 3])], 3) as tf.Tensor4D;
        return cases.flatMap(([f, st, pad]) => [tf.maxPool(x8, f, st, pad), tf.maxPool(x8.slice([0, 0, 0, 0], [2, 9, 11, 8]), f, st, pad)]).map((t) => [t.shape.join('x'), Array.from(t.dataSync())] as const);
      });
    };
    setNativeThreads(2);
    const native = await run('wasm');
    setNativeThreads(1);
    const cpu = await run('cpu');
    native.forEach(([shape, v], i) => {
      expect(shape, `case ${i}`).toBe(cpu[i][0]);
      expect(v, `case ${i}`).toEqual(cpu[i][1]);
    });
  });

  it('give bit-identical results for 1, 2 and 3 threads per kernel', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    const results = [1, 2, 3].map((n) => {
      setNativeThreads(n);
      return lenetGradients();
    });
    setNativeThreads(1);
    for (const r of results.slice(1)) r.forEach((g, i) => expect(Array.from(g), `tensor ${i}`).toEqual(Array.from(results[0][i])));
    // a product whose packed B outgrows the L2 cache: its row tasks depend on the thread count, its sums do not;
    // and one whose packing (over 2 M values) is itself split between the threads
    const products = [1, 2, 3].map((n) => {
      setNativeThreads(n);
      return tf.tidy(() => [
        ...[100, 96].flatMap((n) => Array.from(tf.matMul(tf.tensor(randomArray(3000 * 203, 70), [3000, 203]), tf.tensor(randomArray(3000 * n, 71), [3000, n]), true, false).dataSync())),
        ...Array.from(tf.matMul(tf.tensor(randomArray(7 * 2100, 72), [7, 2100]), tf.tensor(randomArray(1000 * 2100, 73), [1000, 2100]), false, true).dataSync()),
      ]);
    });
    setNativeThreads(1);
    for (const p of products.slice(1)) expect(p).toEqual(products[0]);
  });

  it('on maps narrower than a block (blocks across images, filter-gradient sums across images) give bit-identical results for 1, 2 and 3 threads', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    const xv = randomArray(37 * 2 * 2 * 20, 21);
    const wv = randomArray(3 * 3 * 20 * 52, 22, 0.3);
    const results = [1, 2, 3].map((n) => {
      setNativeThreads(n);
      return tf.tidy(() => {
        const f = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'))) as tf.Scalar;
        const x = tf.tensor(xv, [37, 2, 2, 20]);
        const w = tf.tensor(wv, [3, 3, 20, 52]);
        return [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), ...tf.grads(f)([x, w])].map((t) => Array.from(t.dataSync()));
      });
    });
    setNativeThreads(1);
    for (const r of results.slice(1)) r.forEach((g, i) => expect(g, `output ${i}`).toEqual(results[0][i]));
  });

  it('Slice (a channel split, a class token, a padded map\'s crop), SplitV and constant Pad copy exactly what cpu does, on 1 and 2 threads; boxes of more levels too', async () => {
    const shape = [5, 7, 12];
    const xv = randomArray(5 * 7 * 12, 61);
    // last axis (q/k/v), a middle axis with the rest whole (x[:, 0]), the first axis, a size of -1, two narrowed axes, three (wasm's own kernel)
    const cases: [number[], number[]][] = [[[0, 0, 4], [5, 7, 4]], [[0, 0, 0], [5, 1, 12]], [[0, 3, 0], [-1, 2, 12]], [[2, 0, 0], [3, 7, 12]], [[0, 0, 8], [-1, -1, -1]], [[1, 2, 3], [2, 3, 4]], [[0, 1, 0], [5, 5, 6]], [[1, 1, 0], [3, 5, 12]], [[0, 0, 0], [0, 7, 12]]];
    // an NHWC crop of a padded map (n, y and x narrowed, channels whole: two levels after merging), in a 4-D tensor
    const map = randomArray(3 * 8 * 8 * 5, 62);
    const crops: [number[], number[]][] = [[[0, 1, 1, 0], [3, 6, 6, 5]], [[1, 2, 0, 0], [2, 3, 8, 5]], [[0, 1, 1, 1], [3, 6, 6, 3]]];
    const pads: [[number, number][], number][] = [[[[0, 0], [1, 1], [1, 1], [0, 0]], 0], [[[0, 0], [3, 3], [3, 3], [0, 0]], -Infinity], [[[0, 0], [0, 2], [1, 0], [0, 0]], 2.5], [[[1, 0], [0, 0], [0, 0], [0, 2]], 0]];
    const run = async (backend: string) =>
      tf.tidy(() => [
        ...cases.map(([b, z]) => tf.slice(tf.tensor(xv, shape), b, z)),
        ...crops.map(([b, z]) => tf.slice(tf.tensor(map, [3, 8, 8, 5]), b, z)),
        ...pads.map(([p, v]) => tf.pad(tf.tensor(map, [3, 8, 8, 5]), p, v)),
        // a pad's gradient is its crop
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.pad(t, [[0, 0], [2, 1], [1, 2], [0, 0]]), tf.linspace(0, 1, 3 * 11 * 11 * 5).reshape([3, 11, 11, 5]))) as tf.Scalar)(tf.tensor(map, [3, 8, 8, 5])),
        // SplitV (a concatenation's gradient: a class token and the patches; q, k, v; sizes of -1)
        ...tf.split(tf.tensor(xv, shape), [1, 6], 1),
        ...tf.split(tf.tensor(xv, shape), 3, 2),
        ...tf.split(tf.tensor(xv, shape), [2, -1, 1], 0),
      ].map((t) => [t.shape.join('x'), Array.from(t.dataSync())] as const));
    await selectBackend({ prefer: 'wasm', quiet: true });
    setNativeThreads(2);
    const onWasm2 = await run('wasm');
    setNativeThreads(1);
    const onWasm = await run('wasm');
    await selectBackend({ prefer: 'cpu', quiet: true });
    const onCpu = await run('cpu');
    onWasm.forEach((v, i) => expect(v, `case ${i}`).toEqual(onCpu[i]));
    onWasm2.forEach((v, i) => expect(v, `case ${i}, 2 threads`).toEqual(onCpu[i]));
  });

  it('refuse operands outside the memory with a RangeError (no crash)', () => {
    const l = nativeAddon();
    if (!l.addon) throw new Error(l.reason);
    const memory = new WebAssembly.Memory({ initial: 1 });
    // a 3×3 convolution of a 64 KiB memory's worth of input, placed past its end
    expect(() => l.addon!.conv2dValid(memory.buffer, 64000, 0, 0, 0, 1, 30, 30, 1, 28, 28, 1, 8, 3, 3, 1, 1, 0, 30, 0, 30)).toThrow(RangeError);
    expect(() => l.addon!.matMul(memory.buffer, 0, 0, 0, 1, 1, 200, 200, 200, 0, 0, 0)).toThrow(/outside the memory/);
    // a bias past the memory's end
    expect(() => l.addon!.matMul(memory.buffer, 0, 0, 0, 1, 1, 8, 8, 8, 0, 0, 65532)).toThrow(/outside the memory/);
    // a pad whose fill runs past the memory's end
    expect(() => l.addon!.copyGrid(memory.buffer, 0, 0, 1, 1, 4, 0, 0, 0, 0, 0, 0, 20000)).toThrow(/outside the memory/);
    expect(() => l.addon!.padNHWC(memory.buffer, 0, 0, 1, 4, 4, 1, 3, 3, 1, 0, 0)).toThrow(/does not fit/);
    expect(() => l.addon!.addBias(memory.buffer, -4, 0, 0, 1, 1)).toThrow(/non-negative integer/);
    // attention's key rows reach past the memory's end; a scale that is not a float's bits
    expect(() => l.addon!.attention(memory.buffer, 0, 65480, 0, 0, 0, 1, 1, 4, 4, 4, 4, 4, 4, 0)).toThrow(/outside the memory/);
    expect(() => l.addon!.attention(memory.buffer, 0, 0, 0, 0, 0, 1, 2, 4, 4, 4, 4, 4, 8, 0)).toThrow(/narrower than heads/);
    expect(() => l.addon!.attention(memory.buffer, 0, 0, 0, 0, 0, 1, 1, 4, 4, 4, 4, 4, 4, 2 ** 32)).toThrow(/float's 32 bits/);
  });

  it('give the same bits on the AVX-512 and AVX2 paths and on the default (AVX-512 for wide layers where the CPU has it), and close values on the portable one', () => {
    // each path in its own process: the instruction set is chosen when the addon loads
    const script = `
      import { selectBackend, nativeBatchNormTraining, nativeLayerNorm, nativeAttention } from './dist/backend/index.js';
      import { nativeAddon } from './dist/backend/wasm/native.js';
      import * as tf from '@tensorflow/tfjs';
      await selectBackend({ prefer: 'wasm', quiet: true });
      const x = tf.randomNormal([3, 13, 11, 2], 0, 1, 'float32', 1);
      const w = tf.randomNormal([3, 3, 2, 21], 0, 1, 'float32', 2);
      const m = tf.randomNormal([37, 29], 0, 1, 'float32', 3);
      const g = tf.grads((a, b) => tf.sum(tf.square(tf.conv2d(a, b, 1, 'same'))))([x, w]);
      // a map narrower than a block: blocks across images, filter-gradient sums across images
      const xs = tf.randomNormal([29, 2, 2, 20], 0, 1, 'float32', 4);
      const ws = tf.randomNormal([3, 3, 20, 52], 0, 1, 'float32', 5);
      const gs = tf.grads((a, b) => tf.sum(tf.square(tf.conv2d(a, b, 1, 'same'))))([xs, ws]);
      // wide layers (64 channels and more), which the default takes to the AVX-512 kernels where the CPU has them
      const xw = tf.randomNormal([5, 6, 6, 24], 0, 1, 'float32', 6);
      const ww = tf.randomNormal([3, 3, 24, 64], 0, 1, 'float32', 7);
      const gw = tf.grads((a, b) => tf.sum(tf.square(tf.conv2d(a, b, 1, 'same'))))([xw, ww]);
      const mw = tf.randomNormal([70, 96], 0, 1, 'float32', 8);
      // exp and erf (vectorised polynomials: the same fused multiply-adds on every path)
      const e = tf.concat([tf.randomNormal([4099], 0, 6, 'float32', 9), tf.tensor1d([-104, -95, 88.7, 89, NaN, Infinity, -Infinity, 0.99999994, 1, 3.9999998, 4])]);
      // a weight gradient's product: B over 1 MB, read as it lies
      const gb = tf.randomNormal([3000, 96], 0, 1, 'float32', 10);
      // the fused normalisations, forward and gradients
      const bn = nativeBatchNormTraining(), ln = nativeLayerNorm();
      const nx = tf.randomNormal([3, 5, 5, 40], 2, 1, 'float32', 12), ng = tf.randomNormal([40], 1, 0.1, 'float32', 13), nb = tf.randomNormal([40], 0, 1, 'float32', 14), nu = tf.randomNormal([3, 5, 5, 40], 0, 1, 'float32', 15);
      const norms = [bn, ln].flatMap((f) => [f(nx, ng, nb, 1e-5), ...tf.grads((p, q, r) => f(p, q, r, 1e-5))([nx, ng, nb], nu)]).map((t) => Array.from(t.dataSync()));
      // attention: a head width of 24 (read as it lies on AVX2, packed on AVX-512), 70 tokens (partial vectors)
      const at = nativeAttention(), ax = tf.randomNormal([3, 70, 150], 0, 1, 'float32', 16), au = tf.randomNormal([3, 70, 48], 0, 1, 'float32', 17);
      const al = { heads: 2, dim: 24, scale: 0.2, q: { input: 0, column: 0 }, k: { input: 0, column: 50 }, v: { input: 0, column: 100 } };
      norms.push(Array.from(at([ax], al).dataSync()), Array.from(tf.grad((a) => at([a], al))(ax, au).dataSync()));
      const out = [...norms, Array.from(tf.matMul(tf.randomNormal([3000, 40], 0, 1, 'float32', 11), gb, true, false).dataSync()), Array.from(tf.exp(e).dataSync()), Array.from(tf.erf(e).dataSync()), ...g.map((t) => Array.from(t.dataSync())), ...gs.map((t) => Array.from(t.dataSync())), ...gw.map((t) => Array.from(t.dataSync())), Array.from(tf.matMul(m, m, true, false).dataSync()), Array.from(tf.matMul(mw, mw, false, true).dataSync())];
      process.stdout.write(JSON.stringify({ isa: nativeAddon().description?.isa, out }));
    `;
    const runWith = (isa: string) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, EXTRA_NATIVE_ISA: isa, EXTRA_NATIVE_KERNELS: '1' } });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { isa: string; out: number[][] };
    };
    const avx2 = runWith('avx2');
    const avx512 = runWith('avx512');
    const byDefault = runWith('');
    byDefault.out.forEach((v, i) => expect(v, `default, output ${i}`).toEqual(avx2.out[i]));
    const portable = runWith('portable');
    expect(portable.isa).toBe('portable');
    if (avx512.isa === 'avx512') avx512.out.forEach((v, i) => expect(v, `output ${i}`).toEqual(avx2.out[i]));
    portable.out.forEach((v, i) => expect(maxRelErr(Float32Array.from(v), Float32Array.from(avx2.out[i])), `output ${i}`).toBeLessThan(1e-5));
  });
});

describe('native kernels: installation never fails', () => {
  it('a build that cannot compile leaves a record and one line, exits 0, and extra falls back to wasm', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-native-build-'));
    for (const f of ['package.json', 'binding.gyp', 'native', 'scripts/build-native.js']) cpSync(f, path.join(dir, f), { recursive: true });
    const r = spawnSync(process.execPath, [path.join(dir, 'scripts/build-native.js')], { encoding: 'utf8', env: { ...process.env, CXX: '/bin/false', CC: '/bin/false' }, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length, r.stderr).toBe(1);
    expect(lines[0]).toMatch(/^extra: native kernels not built \(.+\); the WebAssembly kernels will be used$/);
    const record = JSON.parse(readFileSync(path.join(dir, 'build', 'native-build.json'), 'utf8')) as { ok: boolean; reason: string };
    expect(record.ok).toBe(false);
    expect(existsSync(path.join(dir, 'build', 'Release', 'extra_kernels.node'))).toBe(false);
    const skipped = spawnSync(process.execPath, [path.join(dir, 'scripts/build-native.js')], { encoding: 'utf8', env: { ...process.env, EXTRA_NATIVE_BUILD: '0' } });
    expect(skipped.status).toBe(0);
    expect(skipped.stderr).toMatch(/skipped: EXTRA_NATIVE_BUILD=0/);
  });

  it('EXTRA_NATIVE_KERNELS=0 switches to the wasm SIMD kernels and the backend line says so', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "import { selectBackend } from './dist/backend/index.js'; await selectBackend({ prefer: 'wasm' });"], {
      encoding: 'utf8',
      env: { ...process.env, EXTRA_NATIVE_KERNELS: '0' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe('[backend] wasm, kernels: wasm-simd (native kernels not used: switched off (EXTRA_NATIVE_KERNELS=0))');
  });
});
