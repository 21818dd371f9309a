import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { topologyOf } from './tfjs-topology.js';
import { graphModelSpec, graphWeightsOf, compiledGraphOf, graphModel } from '../../src/models/graph/index.js';
import { selectBackend } from '../../src/backend/index.js';

/**
 * The layers of dense prediction (UpSampling2D, Conv2DTranspose, Cropping2D): extra's pure forward
 * against tfjs-layers' own predict, and their gradients against tfjs' and central differences.
 */


function randomize(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length) layer.setWeights(ws.map((w) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', s++)));
  }
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

/** One layer on an image, then Flatten (task outputs are flat): extra's graph of tfjs' own model. */
async function oneLayer(shape: [number, number, number], layer: tf.layers.Layer, seed = 1) {
  const input = tf.input({ shape, name: 'image' });
  const y = layer.apply(input) as tf.SymbolicTensor;
  const out = tf.layers.flatten({ name: 'out' }).apply(y) as tf.SymbolicTensor;
  const ref = tf.model({ inputs: input, outputs: out });
  randomize(ref, seed);
  const units = out.shape[1] as number;
  const spec = graphModelSpec(await topologyOf(ref), 'one.json', { inputShape: shape, numClasses: [units], taskNames: ['t'] }, ['ce']);
  const model = graphModel(spec);
  const { params } = graphWeightsOf(compiledGraphOf(spec), ref, 'one');
  return { ref, model, params, spec };
}

/** Forward equal to tfjs' predict; input and parameter gradients equal to tfjs' own through the same layer; input gradient equal to central differences (the layers are linear in x). */
async function check(shape: [number, number, number], make: () => tf.layers.Layer, seed = 1, tfjsGradient = true): Promise<number> {
  const { ref, model, params } = await oneLayer(shape, make(), seed);
  const x = tf.randomUniform([3, ...shape], -1, 1, 'float32', seed + 10);
  const want = ref.predict(x) as tf.Tensor;
  const got = model.forward(params, x)[0];
  expect(got.shape).toEqual(want.shape);
  const d = maxDiff(got, want);
  expect(d).toBeLessThan(1e-5);
  const r = tf.randomUniform(want.shape, -1, 1, 'float32', seed + 20);
  const loss = (xx: tf.Tensor, ps: tf.Tensor[]) => tf.sum(tf.mul(model.forward(ps, xx)[0], r));
  const ours = tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) => loss(xx, ps))([x, ...params]);
  // tfjs' own input gradient, one sample at a time (tfjs-cpu's ResizeNearestNeighborGrad is wrong for batches > 1)
  // (and tfjs-core's ResizeBilinear gradient fails on H ≠ W: central differences alone check those)
  if (tfjsGradient) {
    const theirs = tf.concat(
      [0, 1, 2].map((i) => tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(ref.apply(xi) as tf.Tensor, r.slice(i, 1))))(x.slice(i, 1))),
    );
    expect(maxDiff(ours[0], theirs)).toBeLessThan(1e-4);
  }
  // central differences on a few entries of the input and of each parameter (exact up to rounding: linear in each)
  const values = [x, ...params];
  values.forEach((v, q) => {
    const flat = v.dataSync();
    const g = ours[q].dataSync();
    const at = (delta: number, i: number) => {
      const c = Float32Array.from(flat);
      c[i] += delta;
      const vs = values.map((u, j) => (j === q ? tf.tensor(c, v.shape) : u));
      return loss(vs[0], vs.slice(1)).dataSync()[0];
    };
    for (const i of new Set([0, 7 % flat.length, Math.floor(flat.length / 2), flat.length - 1])) expect(Math.abs((at(0.25, i) - at(-0.25, i)) / 0.5 - g[i])).toBeLessThan(2e-3);
  });
  return d;
}

describe('dense-prediction layers: the pure forward against tfjs-layers', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('UpSampling2D nearest (square and rectangular factors) and bilinear', async () => {
    await check([5, 4, 3], () => tf.layers.upSampling2d({ name: 'up', size: [2, 2] }));
    await check([3, 5, 2], () => tf.layers.upSampling2d({ name: 'up', size: [3, 2] }), 2);
    await check([5, 5, 3], () => tf.layers.upSampling2d({ name: 'up', size: [2, 2], interpolation: 'bilinear' }), 3);
    await check([3, 4, 2], () => tf.layers.upSampling2d({ name: 'up', size: [3, 4], interpolation: 'bilinear' }), 4, false);
    await check([5, 4, 3], () => tf.layers.upSampling2d({ name: 'up', size: [2, 2], interpolation: 'bilinear' }), 5, false);
  });

  it('Conv2DTranspose: strides, valid and same padding, kernels smaller than the stride, with and without bias', async () => {
    await check([4, 5, 3], () => tf.layers.conv2dTranspose({ name: 'up', filters: 2, kernelSize: 3, strides: 2, padding: 'same' }), 6);
    await check([4, 5, 3], () => tf.layers.conv2dTranspose({ name: 'up', filters: 4, kernelSize: [3, 2], strides: [2, 3], padding: 'valid' }), 7);
    await check([3, 3, 2], () => tf.layers.conv2dTranspose({ name: 'up', filters: 2, kernelSize: 4, strides: 2, padding: 'same', useBias: false }), 8);
    await check([3, 4, 2], () => tf.layers.conv2dTranspose({ name: 'up', filters: 3, kernelSize: 2, strides: 3, padding: 'valid' }), 9);
    await check([5, 5, 2], () => tf.layers.conv2dTranspose({ name: 'up', filters: 3, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' }), 10);
  });

  it('Conv2DTranspose: its weight in PyTorch layout is ConvTranspose2d\'s [in, out, kh, kw]', async () => {
    const { model, params, spec } = await oneLayer([4, 4, 3], tf.layers.conv2dTranspose({ name: 'up', filters: 2, kernelSize: [3, 2], strides: 2 }), 11);
    expect(model.params.map((p) => [p.name, p.shape])).toEqual([['up.weight', [3, 2, 2, 3]], ['up.bias', [2]]]);
    const { graphTorchTensors } = await import('../../src/models/graph/index.js');
    const torch = graphTorchTensors(compiledGraphOf(spec), params, []).params[0];
    expect(torch.shape).toEqual([3, 2, 3, 2]);
    // torch[i][o][y][x] = keras[y][x][o][i]
    expect(torch.arraySync() as number[][][][]).toEqual(tf.transpose(params[0], [3, 2, 0, 1]).arraySync());
    expect((torch.arraySync() as number[][][][])[2][1][0][1]).toBe((params[0].arraySync() as number[][][][])[0][1][1][2]);
  });

  it('Cropping2D: symmetric, per axis and per side', async () => {
    await check([6, 5, 2], () => tf.layers.cropping2D({ name: 'crop', cropping: 1 }), 12);
    await check([6, 5, 2], () => tf.layers.cropping2D({ name: 'crop', cropping: [2, 1] }), 13);
    await check([6, 5, 2], () => tf.layers.cropping2D({ name: 'crop', cropping: [[0, 3], [1, 0]] }), 14);
  });

  it('refuses a crop that leaves nothing and an output_padding', async () => {
    const { spec } = await oneLayer([4, 4, 1], tf.layers.cropping2D({ name: 'crop', cropping: 1 }));
    const set = (cls: string, config: Record<string, unknown>) => ({ ...spec, graph: { ...spec.graph!, layers: spec.graph!.layers.map((l) => (l.class === 'Cropping2D' ? { ...l, class: cls, config } : l)) } });
    expect(() => compiledGraphOf(set('Cropping2D', { cropping: [[2, 2], [0, 0]] }))).toThrow(/layer crop: cropping \[\[2,2\],\[0,0\]\] leaves nothing of a 4×4 image/);
    expect(() => compiledGraphOf(set('Conv2DTranspose', { filters: 1, kernel_size: 3, strides: 2, output_padding: [1, 1] }))).toThrow(/layer 'crop' \(Conv2DTranspose\): config output_padding output_padding is not supported/);
  });

  it('UpSampling2D refuses what tfjs does not compute', async () => {
    const { spec } = await oneLayer([4, 4, 1], tf.layers.upSampling2d({ name: 'up' }));
    const graph = { ...spec.graph!, layers: spec.graph!.layers.map((l) => (l.class === 'UpSampling2D' ? { ...l, config: { ...l.config, interpolation: 'bicubic' } } : l)) };
    expect(() => compiledGraphOf({ ...spec, graph })).toThrow(/layer 'up' \(UpSampling2D\): config interpolation interpolation must be 'nearest' or 'bilinear'/);
  });

  it("Resize2D (extra's own, for ONNX Resize): the modes tfjs' kernels also compute agree with them, and its gradient with central differences", async () => {
    const { resize2d } = await import('../../src/models/graph/resize.js');
    const x = tf.randomUniform([2, 5, 7, 3], -1, 1, 'float32', 60) as tf.Tensor4D;
    const cases: [Parameters<typeof resize2d>[2], (size: [number, number]) => tf.Tensor][] = [
      [{ interpolation: 'bilinear', coordinate: 'asymmetric', nearestMode: 'floor' }, (sz) => tf.image.resizeBilinear(x, sz)],
      [{ interpolation: 'bilinear', coordinate: 'half_pixel', nearestMode: 'floor' }, (sz) => tf.image.resizeBilinear(x, sz, false, true)],
      [{ interpolation: 'bilinear', coordinate: 'align_corners', nearestMode: 'floor' }, (sz) => tf.image.resizeBilinear(x, sz, true)],
      [{ interpolation: 'nearest', coordinate: 'asymmetric', nearestMode: 'floor' }, (sz) => tf.image.resizeNearestNeighbor(x, sz)],
      [{ interpolation: 'nearest', coordinate: 'tf_half_pixel_for_nn', nearestMode: 'floor' }, (sz) => tf.image.resizeNearestNeighbor(x, sz, false, true)],
      [{ interpolation: 'nearest', coordinate: 'align_corners', nearestMode: 'round_prefer_ceil' }, (sz) => tf.image.resizeNearestNeighbor(x, sz, true)],
    ];
    for (const [spec, oracle] of cases) {
      for (const sz of [[10, 14], [3, 4], [8, 19], [5, 7]] as [number, number][]) expect(maxDiff(resize2d(x, sz, spec), oracle(sz))).toBeLessThan(1e-5);
    }
    const r = tf.randomUniform([2, 8, 11, 3], -1, 1, 'float32', 61);
    for (const [spec] of cases) {
      const f = (v: tf.Tensor) => tf.sum(tf.mul(resize2d(v, [8, 11], spec), r));
      const g = tf.grad(f)(x).dataSync();
      const flat = x.dataSync();
      for (const i of [0, 13, 101, flat.length - 1]) {
        const at = (d: number) => { const c = Float32Array.from(flat); c[i] += d; return f(tf.tensor(c, x.shape)).dataSync()[0]; };
        expect(Math.abs((at(0.25) - at(-0.25)) / 0.5 - g[i])).toBeLessThan(2e-3);
      }
    }
  });

  it('the wasm backend (with extra\'s own kernels) gives the cpu backend\'s forward and gradients', async () => {
    const layers = [
      () => tf.layers.conv2dTranspose({ name: 'l', filters: 3, kernelSize: 3, strides: 2, padding: 'same' }),
      () => tf.layers.conv2dTranspose({ name: 'l', filters: 2, kernelSize: [2, 3], strides: [3, 2], padding: 'valid' }),
      () => tf.layers.upSampling2d({ name: 'l', size: [2, 3], interpolation: 'bilinear' }),
      () => tf.layers.upSampling2d({ name: 'l', size: [2, 2] }),
      () => tf.layers.cropping2D({ name: 'l', cropping: [[1, 0], [0, 2]] }),
    ];
    for (const [i, make] of layers.entries()) {
      await tf.setBackend('cpu');
      const { model, params } = await oneLayer([5, 6, 4], make(), 30 + i);
      const x = tf.randomUniform([4, 5, 6, 4], -1, 1, 'float32', 40 + i);
      const run = () => {
        const vs = [x, ...params].map((v) => tf.tensor(v.dataSync(), v.shape));
        const y = model.forward(vs.slice(1), vs[0])[0];
        const r = tf.randomUniform(y.shape, -1, 1, 'float32', 50 + i);
        const gs = tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) => tf.sum(tf.mul(model.forward(ps, xx)[0], r)))(vs);
        return [y, ...gs].map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
      };
      const cpu = run();
      await selectBackend({ prefer: 'wasm', quiet: true });
      expect(tf.getBackend()).toBe('wasm');
      const wasm = run();
      await tf.setBackend('cpu');
      cpu.forEach((c, q) => {
        expect(wasm[q].shape).toEqual(c.shape);
        let max = 0;
        c.data.forEach((v, j) => (max = Math.max(max, Math.abs(v - wasm[q].data[j]))));
        expect(max).toBeLessThan(1e-4);
      });
    }
  });
});
