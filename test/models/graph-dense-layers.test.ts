import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { graphModelSpec, graphWeightsOf, compiledGraphOf, graphModel } from '../../src/models/graph/index.js';

/**
 * The layers of dense prediction (UpSampling2D, Conv2DTranspose, Cropping2D): extra's pure forward
 * against tfjs-layers' own predict, and their gradients against tfjs' and central differences.
 */

async function topologyOf(model: tf.LayersModel): Promise<unknown> {
  let topology: unknown;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      topology = a.modelTopology;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return { modelTopology: topology };
}

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

  it('UpSampling2D refuses what tfjs does not compute', async () => {
    const { spec } = await oneLayer([4, 4, 1], tf.layers.upSampling2d({ name: 'up' }));
    const graph = { ...spec.graph!, layers: spec.graph!.layers.map((l) => (l.class === 'UpSampling2D' ? { ...l, config: { ...l.config, interpolation: 'bicubic' } } : l)) };
    expect(() => compiledGraphOf({ ...spec, graph })).toThrow(/layer 'up' \(UpSampling2D\): config interpolation interpolation must be 'nearest' or 'bilinear'/);
  });
});
