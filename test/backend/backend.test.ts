import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll, beforeEach, afterAll } from 'vitest';
import { selectBackend, simdKernelsActive, kernelEngine, nativeKernelsDecision } from '../../src/backend/index.js';
import { ExtraInputError } from '../../src/errors.js';
import { buildModel, defaultModelSpec, initParamValues } from '../../src/models/index.js';
import { softmaxCrossEntropy } from '../../src/train/index.js';
import { makeRng } from '../../src/util/rng.js';
import { randomArray, maxRelErr } from './values.js';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', quiet: true });
});

/** Gradients of f w.r.t. the given values, computed on one backend. */
async function gradsOn(backend: string, shapes: number[][], values: Float32Array[], f: (...p: tf.Tensor[]) => tf.Scalar): Promise<Float32Array[]> {
  await selectBackend({ prefer: backend, quiet: true });
  return tf.tidy(() => {
    const ts = values.map((v, i) => tf.tensor(v, shapes[i]));
    return tf.grads(f)(ts).map((g) => g.dataSync() as Float32Array);
  });
}

// Every kernel test runs on both engines of our wasm kernels: the native ones (native/*.cc, built at
// install) and the WebAssembly SIMD ones (the fallback where no compiler is). The native engine must
// be there in CI (this machine kind has g++); elsewhere its tests are skipped with the reason.
const native = nativeKernelsDecision();
const engines = [
  { engine: 'native', setting: undefined, available: native.use || process.env.CI === 'true' },
  { engine: 'wasm-simd', setting: '0', available: true },
] as const;

for (const { engine, setting, available } of engines)
describe.runIf(available)(`compute backends, ${engine} kernels${available ? '' : ` (skipped: ${native.use ? '' : native.reason})`}`, () => {
  beforeEach(() => {
    if (setting === undefined) delete process.env.EXTRA_NATIVE_KERNELS;
    else process.env.EXTRA_NATIVE_KERNELS = setting;
  });
  afterAll(() => {
    delete process.env.EXTRA_NATIVE_KERNELS;
  });

  it('forced backends load and unknown names are refused', async () => {
    expect((await selectBackend({ prefer: 'cpu', quiet: true })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await selectBackend({ prefer: 'wasm', quiet: true })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    await expect(selectBackend({ prefer: 'cuda9', quiet: true })).rejects.toBeInstanceOf(ExtraInputError);
    // tfjs-node is an optionalDependency that cannot install here: forcing it is a clear error
    await expect(selectBackend({ prefer: 'tensorflow', quiet: true })).rejects.toThrow(/not available here/);
  });

  const convCases: { name: string; x: number[]; w: number[]; stride: number; pad: 'valid' | 'same' }[] = [
    { name: '5x5 valid', x: [3, 12, 12, 2], w: [5, 5, 2, 4], stride: 1, pad: 'valid' },
    { name: '3x3 same stride 2', x: [2, 11, 11, 3], w: [3, 3, 3, 5], stride: 2, pad: 'same' },
    { name: '4x4 valid stride 2', x: [2, 10, 10, 1], w: [4, 4, 1, 3], stride: 2, pad: 'valid' },
  ];
  it(`the ${engine} kernels are built and active on wasm`, async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    expect(simdKernelsActive()).toBe(true);
    expect(kernelEngine().engine, kernelEngine().detail).toBe(engine);
  });

  // odd shapes for the SIMD kernels: widths not a multiple of the 4-pixel block, channel counts not a
  // multiple of 4 (and above one 12-channel block: 13 → 12+4, 17 → 12+8), batch 1, stride 2, 'same'
  const simdCases: { name: string; x: [number, number, number, number]; w: [number, number, number, number]; stride: number | [number, number]; pad: 'valid' | 'same' }[] = [
    { name: 'lenet conv1 shape', x: [2, 36, 36, 1], w: [9, 9, 1, 10], stride: 1, pad: 'valid' },
    { name: 'lenet conv2 shape', x: [3, 14, 14, 10], w: [5, 5, 10, 20], stride: 1, pad: 'valid' },
    { name: 'batch 1, 3→13 channels, same', x: [1, 7, 9, 3], w: [3, 3, 3, 13], stride: 1, pad: 'same' },
    { name: '5→17 channels, stride 2, same', x: [2, 9, 11, 5], w: [3, 2, 5, 17], stride: 2, pad: 'same' },
    { name: '2→3 channels, stride (1,2), valid', x: [2, 8, 13, 2], w: [2, 3, 2, 3], stride: [1, 2], pad: 'valid' },
    { name: '1x1 conv, 6→4 channels', x: [2, 5, 6, 6], w: [1, 1, 6, 4], stride: 1, pad: 'valid' },
    // one input channel, rows of at least 16 outputs: the native kernels put pixels across the lanes
    { name: '1→5 channels, stride (2,1), same, 40 wide', x: [2, 21, 40, 1], w: [3, 4, 1, 5], stride: [2, 1], pad: 'same' },
    { name: '1→13 channels, valid, 20 wide', x: [1, 10, 20, 1], w: [2, 3, 1, 13], stride: 1, pad: 'valid' },
    // stride 1 with little padding: the native input gradient takes the flipped-filter convolution
    { name: '3x3 same on 16x16, 5→9 channels', x: [2, 16, 16, 5], w: [3, 3, 5, 9], stride: 1, pad: 'same' },
    // maps narrower than a block of pixels (a ResNet's last stages): blocks of one pixel of several images,
    // 29 images (more than one tile, a remainder); the filter gradient sums several images at once (2×2: 64 per chunk)
    { name: '3x3 same on 2x2, 29 images, 20→52 channels', x: [29, 2, 2, 20], w: [3, 3, 20, 52], stride: 1, pad: 'same' },
    { name: '3x3 same on 4x3, stride 2, 70 images, 9→17 channels', x: [70, 4, 3, 9], w: [3, 3, 9, 17], stride: 2, pad: 'same' },
    { name: '1x1 on 3x3, 67 images, 16→8 channels', x: [67, 3, 3, 16], w: [1, 1, 16, 8], stride: 1, pad: 'valid' },
    // wide layers (64 channels and more: the AVX-512 kernels where the CPU has them), rows and image tiles, 4 vectors as 2 + 2
    { name: '3x3 same on 7x9, 24→64 channels', x: [3, 7, 9, 24], w: [3, 3, 24, 64], stride: 1, pad: 'same' },
    { name: '3x3 same on 2x2, 29 images, 64→80 channels', x: [29, 2, 2, 64], w: [3, 3, 64, 80], stride: 1, pad: 'same' },
  ];
  for (const c of simdCases) {
    it(`SIMD conv2d forward, filter and input gradients equal cpu (${c.name})`, async () => {
      const xv = randomArray(c.x.reduce((a, b) => a * b, 1), 11);
      const wv = randomArray(c.w.reduce((a, b) => a * b, 1), 12, 0.3);
      const run = async (backend: string) => {
        await selectBackend({ prefer: backend, quiet: true });
        return tf.tidy(() => {
          const x = tf.tensor(xv, c.x) as tf.Tensor4D;
          const w = tf.tensor(wv, c.w) as tf.Tensor4D;
          const y = tf.conv2d(x, w, c.stride, c.pad);
          // a non-uniform upstream gradient so every output channel and pixel matters
          const up = tf.linspace(-1, 2, y.size).reshape(y.shape);
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), up)) as tf.Scalar)([x, w]);
          return [y.dataSync() as Float32Array, g[0].dataSync() as Float32Array, g[1].dataSync() as Float32Array];
        });
      };
      const onWasm = await run('wasm');
      const onCpu = await run('cpu');
      expect(onWasm[0].length).toBe(onCpu[0].length);
      expect(maxRelErr(onWasm[0], onCpu[0]), 'forward').toBeLessThan(1e-5);
      expect(maxRelErr(onWasm[1], onCpu[1]), 'input gradient').toBeLessThan(1e-5);
      expect(maxRelErr(onWasm[2], onCpu[2]), 'filter gradient').toBeLessThan(1e-5);
    });
  }

  for (const c of convCases) {
    it(`conv2d filter and input gradients on wasm equal cpu (${c.name}) within 1e-4 relative`, async () => {
      const xv = randomArray(c.x.reduce((a, b) => a * b, 1), 1);
      const wv = randomArray(c.w.reduce((a, b) => a * b, 1), 2, 0.3);
      const f = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad))) as tf.Scalar;
      const onWasm = await gradsOn('wasm', [c.x, c.w], [xv, wv], f);
      const onCpu = await gradsOn('cpu', [c.x, c.w], [xv, wv], f);
      expect(maxRelErr(onWasm[1], onCpu[1])).toBeLessThan(1e-4);
      expect(maxRelErr(onWasm[0], onCpu[0])).toBeLessThan(1e-4);
    });
  }

  it('max-pool gradients on wasm equal cpu (2x2/2 valid and 3x3/2 same)', async () => {
    const xs = [2, 9, 9, 3];
    const xv = randomArray(2 * 9 * 9 * 3, 8);
    for (const [k, s, p] of [[2, 2, 'valid'], [3, 2, 'same']] as const) {
      const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, k, s, p), tf.linspace(0.5, 2, p === 'valid' ? 2 * 4 * 4 * 3 : 2 * 5 * 5 * 3).reshape(p === 'valid' ? [2, 4, 4, 3] : [2, 5, 5, 3]))) as tf.Scalar;
      const a = await gradsOn('wasm', [xs], [xv], f);
      const b = await gradsOn('cpu', [xs], [xv], f);
      expect(maxRelErr(a[0], b[0])).toBeLessThan(1e-6);
    }
  });

  it('2x2/2 max-pool gradient (SIMD path) routes ties to the first maximum exactly as cpu does', async () => {
    const xs = [2, 8, 6, 6];
    const rng = makeRng(21);
    const xv = Float32Array.from({ length: 2 * 8 * 6 * 6 }, () => rng.int(3));
    const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), tf.linspace(0.5, 2, 2 * 4 * 3 * 6).reshape([2, 4, 3, 6]))) as tf.Scalar;
    const a = await gradsOn('wasm', [xs], [xv], f);
    const b = await gradsOn('cpu', [xs], [xv], f);
    expect(Array.from(a[0])).toEqual(Array.from(b[0]));
  });

  it('batched matMul with transposed operands (explicit-transpose path) equals cpu', async () => {
    const av = randomArray(2 * 5 * 7, 31);
    const bv = randomArray(2 * 7 * 3, 32);
    const run = async (backend: string) => {
      await selectBackend({ prefer: backend, quiet: true });
      return tf.tidy(() => {
        const a = tf.tensor(av, [2, 5, 7]);
        const b = tf.tensor(bv, [2, 7, 3]);
        const at = tf.transpose(a, [0, 2, 1]);
        const bt = tf.transpose(b, [0, 2, 1]);
        return [tf.matMul(at, b, true, false), tf.matMul(a, bt, false, true), tf.matMul(at, bt, true, true)].map((t) => t.dataSync() as Float32Array);
      });
    };
    const w = await run('wasm');
    const c = await run('cpu');
    w.forEach((v, i) => expect(maxRelErr(v, c[i])).toBeLessThan(1e-6));
  });

  it('SIMD bias add, leading-axes sum and fused conv + bias equal cpu (and other shapes fall back)', async () => {
    const xv = randomArray(3 * 5 * 4 * 7, 41);
    const bv = randomArray(7, 42);
    const wv = randomArray(3 * 3 * 7 * 6, 43, 0.3);
    const cv = randomArray(6, 44);
    const run = async (backend: string) => {
      await selectBackend({ prefer: backend, quiet: true });
      return tf.tidy(() => {
        const x = tf.tensor(xv, [3, 5, 4, 7]);
        const b = tf.tensor1d(bv);
        return [
          tf.add(x, b),
          tf.add(b, x),
          tf.add(x, tf.scalar(2)),
          tf.sum(x, [0, 1, 2]),
          tf.sum(x, [2, 0, 1], true),
          tf.sum(x, [0, 1]),
          tf.sum(x, -1),
          tf.fused.conv2d({ x: x as tf.Tensor4D, filter: tf.tensor(wv, [3, 3, 7, 6]) as tf.Tensor4D, strides: 1, pad: 'same', bias: tf.tensor1d(cv) }),
        ].map((t) => [t.shape.join('x'), t.dataSync() as Float32Array] as const);
      });
    };
    const w = await run('wasm');
    const c = await run('cpu');
    w.forEach(([shape, v], i) => {
      expect(shape, `case ${i}`).toBe(c[i][0]);
      expect(maxRelErr(v, c[i][1]), `case ${i}`).toBeLessThan(1e-5);
    });
  });

  it('depthwise-conv gradients and UnsortedSegmentSum (gather gradient) on wasm equal cpu', async () => {
    const xs = [2, 7, 7, 3];
    const ws = [3, 3, 3, 2];
    const xv = randomArray(2 * 7 * 7 * 3, 3);
    const wv = randomArray(3 * 3 * 3 * 2, 4, 0.5);
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'))) as tf.Scalar;
    const a = await gradsOn('wasm', [xs, ws], [xv, wv], f);
    const b = await gradsOn('cpu', [xs, ws], [xv, wv], f);
    expect(maxRelErr(a[0], b[0])).toBeLessThan(1e-4);
    expect(maxRelErr(a[1], b[1])).toBeLessThan(1e-4);
    const table = randomArray(5 * 4, 5);
    const g = (t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d([0, 3, 3, 1], 'int32')), tf.range(0, 16).reshape([4, 4]))) as tf.Scalar;
    const ga = await gradsOn('wasm', [[5, 4]], [table], g);
    const gb = await gradsOn('cpu', [[5, 4]], [table], g);
    expect(Array.from(ga[0])).toEqual(Array.from(gb[0]));
  });

  it('lenet-mtl gradients on wasm equal those on cpu within 1e-4 relative', async () => {
    const spec = defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 10], ['a', 'b']);
    const model = buildModel(spec);
    const values = initParamValues(model.params, 5).map((v, i) => (model.params[i].init === 'zeros' ? randomArray(v.length, 100 + i, 0.05) : v));
    const xv = Float32Array.from(randomArray(8 * 36 * 36, 6), (v) => Math.abs(v) / 3);
    const labels = [Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Int32Array.from([9, 0, 1, 2, 3, 4, 5, 6])];
    const loss = (...p: tf.Tensor[]) => {
      const outs = model.forward(p, tf.tensor(xv, [8, 36, 36, 1]));
      return tf.add(softmaxCrossEntropy(outs[0], tf.tensor1d(labels[0], 'int32')), softmaxCrossEntropy(outs[1], tf.tensor1d(labels[1], 'int32'))) as tf.Scalar;
    };
    const shapes = model.params.map((p) => p.shape);
    const a = await gradsOn('wasm', shapes, values, loss);
    const b = await gradsOn('cpu', shapes, values, loss);
    a.forEach((g, i) => expect(maxRelErr(g, b[i]), model.params[i].name).toBeLessThan(1e-4));
  });

  it('a conv net trains on wasm: the loss falls over 30 Adam steps', async () => {
    await selectBackend({ prefer: 'wasm', quiet: true });
    const rng = makeRng(9);
    // class = which half of the image is brighter
    const n = 64;
    const x = new Float32Array(n * 12 * 12);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rng.int(2);
      for (let r = 0; r < 12; r++) for (let c = 0; c < 12; c++) x[i * 144 + r * 12 + c] = rng.next() * 0.5 + (c < 6 === (y[i] === 0) ? 0.5 : 0);
    }
    const w1 = tf.variable(tf.randomNormal([3, 3, 1, 4], 0, 0.3, 'float32', 1));
    const w2 = tf.variable(tf.randomNormal([5 * 5 * 4, 2], 0, 0.1, 'float32', 2));
    const opt = tf.train.adam(0.02);
    const xs = tf.tensor4d(x, [n, 12, 12, 1]);
    const ys = tf.tensor1d(y, 'int32');
    const lossFn = () =>
      softmaxCrossEntropy(tf.matMul(tf.relu(tf.maxPool(tf.conv2d(xs, w1 as unknown as tf.Tensor4D, 1, 'valid'), 2, 2, 'valid')).reshape([n, -1]), w2) as tf.Tensor2D, ys);
    const first = lossFn().dataSync()[0];
    for (let i = 0; i < 30; i++) opt.minimize(lossFn);
    const last = lossFn().dataSync()[0];
    expect(last).toBeLessThan(0.5 * first);
  });
});
