import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { topologyOf } from './tfjs-topology.js';
import { graphModelSpec, graphWeightsOf, compiledGraphOf, graphModel } from '../../src/models/graph/index.js';
import { buildModel, defaultModelSpec, toLayersModel } from '../../src/models/index.js';
import { initParams } from '../../src/models/init.js';


/** Give every weight of a tfjs model random values (variances positive), so nothing is trivially 0 or 1. */
function randomize(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (!ws.length) continue;
    layer.setWeights(
      ws.map((w, i) => {
        const isVar = layer.getClassName() === 'BatchNormalization' && i === ws.length - 1;
        const r = tf.randomUniform(w.shape, isVar ? 0.5 : -0.5, isVar ? 2 : 0.5, 'float32', s++);
        return r;
      }),
    );
  }
}

/** A two-output residual network with every layer class of the table, built with tfjs' own layers. */
// (tfjs' own training-mode BatchNormalization needs center=true: it reads beta unconditionally)
function zoo(withDropout: boolean, center2 = !withDropout): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 2], name: 'image' });
  const c1 = tf.layers.conv2d({ name: 'c1', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  const b1 = tf.layers.batchNormalization({ name: 'bn1' }).apply(c1) as tf.SymbolicTensor;
  const c2 = tf.layers.conv2d({ name: 'c2', filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(b1) as tf.SymbolicTensor;
  const b2 = tf.layers.batchNormalization({ name: 'bn2', center: center2 }).apply(c2) as tf.SymbolicTensor;
  const res = tf.layers.add({ name: 'res' }).apply([b2, c1]) as tf.SymbolicTensor;
  const r1 = tf.layers.reLU({ name: 'r1' }).apply(res) as tf.SymbolicTensor;
  const dw = tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'valid', activation: 'elu' }).apply(r1) as tf.SymbolicTensor;
  const lk = tf.layers.leakyReLU({ name: 'lk', alpha: 0.2 }).apply(dw) as tf.SymbolicTensor;
  const mp = tf.layers.maxPooling2d({ name: 'mp', poolSize: 2 }).apply(lk) as tf.SymbolicTensor;
  const ap = tf.layers.averagePooling2d({ name: 'ap', poolSize: 2, strides: 1, padding: 'same' }).apply(mp) as tf.SymbolicTensor;
  const fl = tf.layers.flatten({ name: 'fl' }).apply(ap) as tf.SymbolicTensor;
  const gp = tf.layers.globalAveragePooling2d({ name: 'gp' }).apply(r1) as tf.SymbolicTensor;
  // the dense-prediction layers: a transposed convolution cropped back to 12×12, bilinear upsampling
  const tr = tf.layers.conv2dTranspose({ name: 'tr', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(r1) as tf.SymbolicTensor;
  const cr = tf.layers.cropping2D({ name: 'cr', cropping: [[5, 7], [6, 6]] }).apply(tr) as tf.SymbolicTensor;
  const up = tf.layers.upSampling2d({ name: 'up', size: [2, 2], interpolation: 'bilinear' }).apply(mp) as tf.SymbolicTensor;
  const gp2 = tf.layers.globalAveragePooling2d({ name: 'gp2' }).apply(cr) as tf.SymbolicTensor;
  const gp3 = tf.layers.globalAveragePooling2d({ name: 'gp3' }).apply(up) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([fl, gp, gp2, gp3]) as tf.SymbolicTensor;
  const dr = withDropout ? (tf.layers.dropout({ name: 'dr', rate: 0.5 }).apply(cat) as tf.SymbolicTensor) : cat;
  const d1 = tf.layers.dense({ name: 'd1', units: 8, activation: 'gelu' }).apply(dr) as tf.SymbolicTensor;
  const ln = tf.layers.layerNormalization({ name: 'ln' }).apply(d1) as tf.SymbolicTensor;
  const rs = tf.layers.reshape({ name: 'rs', targetShape: [2, 4] }).apply(ln) as tf.SymbolicTensor;
  const f2 = tf.layers.flatten({ name: 'f2' }).apply(rs) as tf.SymbolicTensor;
  const th = tf.layers.activation({ name: 'th', activation: 'tanh' }).apply(f2) as tf.SymbolicTensor;
  const out0 = tf.layers.dense({ name: 'digit', units: 5, activation: 'softmax' }).apply(th) as tf.SymbolicTensor;
  const out1 = tf.layers.dense({ name: 'flag', units: 1, activation: 'sigmoid' }).apply(d1) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [out0, out1] });
}

const data = { inputShape: [12, 12, 2], numClasses: [5, 2], taskNames: ['digit', 'flag'] };

describe('--model-json graphs: the pure forward against tfjs-layers itself', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('inference: equals tf.LayersModel.predict on a 2-output residual net with every supported layer', async () => {
    const ref = zoo(true);
    randomize(ref, 7);
    const spec = graphModelSpec(await topologyOf(ref), 'zoo.json', data);
    expect(spec.losses).toEqual(['ce', 'bce']);
    const model = buildModel(spec);
    const g = compiledGraphOf(spec);
    const { params, statistics } = graphWeightsOf(g, ref, 'zoo');
    expect(model.params.map((p) => p.name)).toContain('bn1.weight');
    expect(model.statistics.map((s) => s.name)).toEqual(['bn1.running_mean', 'bn1.running_var', 'bn2.running_mean', 'bn2.running_var']);
    // heads are their task's own parameters, the trunk is shared
    expect(model.params.find((p) => p.name === 'digit.weight')).toMatchObject({ shared: false, task: 0 });
    expect(model.params.find((p) => p.name === 'flag.weight')).toMatchObject({ shared: false, task: 1 });
    expect(model.params.find((p) => p.name === 'ln.weight')).toMatchObject({ shared: false, task: 0 });
    expect(model.params.find((p) => p.name === 'd1.weight')).toMatchObject({ shared: true });
    expect(model.params.some((p) => p.name === 'bn2.bias')).toBe(false);
    const x = tf.randomUniform([6, 12, 12, 2], 0, 1, 'float32', 3);
    const want = ref.predict(x) as tf.Tensor[];
    const got = model.forward(params, x, statistics);
    expect(got[0].shape).toEqual([6, 5]);
    expect(got[1].shape).toEqual([6, 1]);
    const p0 = (await tf.softmax(got[0]).array()) as number[][];
    const p1 = (await tf.sigmoid(got[1]).array()) as number[][];
    const w0 = (await want[0].array()) as number[][];
    const w1 = (await want[1].array()) as number[][];
    for (let i = 0; i < 6; i++) {
      for (let c = 0; c < 5; c++) expect(p0[i][c]).toBeCloseTo(w0[i][c], 5);
      expect(p1[i][0]).toBeCloseTo(w1[i][0], 5);
    }
  });

  it('training mode: batch statistics, as tfjs applies the model with training=true', async () => {
    const ref = zoo(false);
    randomize(ref, 11);
    const spec = graphModelSpec(await topologyOf(ref), 'zoo.json', data);
    const model = graphModel(spec);
    const { params } = graphWeightsOf(compiledGraphOf(spec), ref, 'zoo');
    const x = tf.randomUniform([8, 12, 12, 2], 0, 1, 'float32', 5);
    const want = ref.apply(x, { training: true }) as tf.Tensor[];
    const got = model.forward(params, x);
    const a = (await tf.softmax(got[0]).array()) as number[][];
    const b = (await want[0].array()) as number[][];
    for (let i = 0; i < 8; i++) for (let c = 0; c < 5; c++) expect(a[i][c]).toBeCloseTo(b[i][c], 4);
    // the batch statistics reported are the moments of the BatchNormalization input
    const stats = model.batchStatistics!(params, x);
    expect(stats).toHaveLength(4);
    const c1 = tf.model({ inputs: ref.inputs, outputs: ref.getLayer('c1').output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
    const m = tf.moments(c1, [0, 1, 2]);
    const mean = await m.mean.array() as number[];
    const gotMean = await stats[0].array() as number[];
    mean.forEach((v, i) => expect(gotMean[i]).toBeCloseTo(v, 5));
  });

  it('a Sequential model.json and its losses', async () => {
    const seq = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [4, 4, 1] }),
        tf.layers.dense({ units: 6, activation: 'relu' }),
        tf.layers.dense({ units: 3 }),
      ],
    });
    // one output, so one task: the unnamed linear 3-unit output is read as logits (ce)
    const spec = graphModelSpec(await topologyOf(seq), 'seq.json', { inputShape: [4, 4, 1], numClasses: [3], taskNames: ['t'] });
    expect(spec.losses).toEqual(['ce']);
    const m = buildModel(spec);
    const x = tf.randomUniform([3, 4, 4, 1]);
    const { params } = graphWeightsOf(compiledGraphOf(spec), seq, 'seq');
    const want = (await (seq.predict(x) as tf.Tensor).array()) as number[][];
    const got = (await m.forward(params, x)[0].array()) as number[][];
    for (let i = 0; i < 3; i++) for (let c = 0; c < 3; c++) expect(got[i][c]).toBeCloseTo(want[i][c], 5);
  });

  it('refuses what it cannot run, naming the layer and its class', async () => {
    const input = tf.input({ shape: [6, 3] });
    const g = tf.layers.conv1d({ name: 'temporal', filters: 2, kernelSize: 2 }).apply(input) as tf.SymbolicTensor;
    const f = tf.layers.flatten().apply(g) as tf.SymbolicTensor;
    const o = tf.layers.dense({ units: 2 }).apply(f) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: [o, o] });
    await expect(topologyOf(m).then((t) => graphModelSpec(t, 'm.json', { inputShape: [6, 3], numClasses: [2, 2], taskNames: ['a', 'b'] }))).rejects.toThrow(/layer 'temporal' is a Conv1D, which extra does not support/);
    const ref = zoo(false);
    const topo = await topologyOf(ref);
    expect(() => graphModelSpec(topo, 'z.json', { ...data, inputShape: [10, 10, 2] })).toThrow(/model's input is \[12,12,2\] but the data set's inputs are \[10,10,2\]/);
    expect(() => graphModelSpec(topo, 'z.json', { ...data, numClasses: [10, 2] })).toThrow(/output 'digit' has 5 units but task digit has 10 classes/);
    expect(() => graphModelSpec(topo, 'z.json', { inputShape: [12, 12, 2], numClasses: [5], taskNames: ['digit'] })).toThrow(/2 output\(s\) but the data set has 1 task/);
    expect(() => graphModelSpec({ nothing: 1 }, 'x.json', data)).toThrow(/not a Keras \/ tfjs-layers model topology/);
  });

  it('--tasks picks and orders the layers that answer the tasks', async () => {
    const ref = zoo(false);
    randomize(ref, 13);
    const topo = await topologyOf(ref);
    const swapped = graphModelSpec(topo, 'z.json', { inputShape: [12, 12, 2], numClasses: [2, 5], taskNames: ['flag', 'digit'] }, undefined, ['flag', 'digit']);
    expect(swapped.losses).toEqual(['bce', 'ce']);
    const m = buildModel(swapped);
    const { params, statistics } = graphWeightsOf(compiledGraphOf(swapped), ref, 'zoo');
    const x = tf.randomUniform([2, 12, 12, 2], 0, 1, 'float32', 4);
    const want = ref.predict(x) as tf.Tensor[];
    const got = m.forward(params, x, statistics);
    expect(tf.max(tf.abs(tf.sub(tf.sigmoid(got[0]), want[1]))).dataSync()[0]).toBeLessThan(1e-5);
    // an inner layer can answer a task too (d1: 8 gelu units, its loss named since gelu implies none)
    const inner = graphModelSpec(topo, 'z.json', { inputShape: [12, 12, 2], numClasses: [8], taskNames: ['t'] }, ['ce'], ['d1']);
    expect(buildModel(inner).params.every((p) => p.task === 0 || p.shared)).toBe(true);
    expect(() => graphModelSpec(topo, 'z.json', data, undefined, ['digit', 'nope'])).toThrow(/--tasks names 'nope', not layers of z\.json/);
  });

  it('the built-in architectures, written as model.json, compute the same function as their trunk definition', async () => {
    for (const arch of ['lenet-mtl', 'mlp-mtl']) {
      const spec = defaultModelSpec(arch, [36, 36, 1], [10, 10], ['a', 'b'], arch === 'mlp-mtl' ? [32, 16] : undefined);
      const builtin = buildModel(spec);
      const params = initParams(builtin.params, 3);
      const tfjs = toLayersModel(spec, params);
      const gspec = graphModelSpec(await topologyOf(tfjs), `${arch}.json`, { inputShape: [36, 36, 1], numClasses: [10, 10], taskNames: ['a', 'b'] });
      const graph = buildModel(gspec);
      const { params: gp } = graphWeightsOf(compiledGraphOf(gspec), tfjs, arch);
      expect(gp.map((p) => p.shape)).toEqual(params.map((p) => p.shape));
      const x = tf.randomUniform([4, 36, 36, 1], 0, 1, 'float32', 9);
      const a = builtin.forward(params, x);
      const b = graph.forward(gp, x);
      for (let k = 0; k < 2; k++) expect(tf.max(tf.abs(tf.sub(a[k], b[k]))).dataSync()[0]).toBeLessThan(1e-5);
    }
  });
});
