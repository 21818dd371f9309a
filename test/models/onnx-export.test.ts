import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildModel, defaultModelSpec, graphModelSpec, initParams, paramsToPytorchStateDict, type FunctionalModel } from '../../src/models/index.js';
import { graphToOnnx } from '../../src/models/onnx/export.js';
import { importOnnx, onnxModelSpec } from '../../src/models/onnx/import.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ROOT = path.resolve(__dirname, '../..');
const data = { inputShape: [36, 36, 1], numClasses: [10, 10], taskNames: ['left', 'right'] };

/** Random parameters and statistics that are not the initial ones (biases, running statistics). */
function randomPoint(model: FunctionalModel, seed: number): { params: tf.Tensor[]; statistics: tf.Tensor[] } {
  const params = initParams(model.params, seed).map((p, i) => (model.params[i].init === 'zeros' ? tf.randomNormal(p.shape, 0, 0.1, 'float32', seed + i) : model.params[i].init === 'ones' ? tf.randomUniform(p.shape, 0.5, 1.5, 'float32', seed + i) : p));
  const statistics = model.statistics.map((s, i) => (s.name.endsWith('running_var') ? tf.randomUniform(s.shape, 0.5, 2, 'float32', seed + 100 + i) : tf.randomNormal(s.shape, 0, 0.3, 'float32', seed + 100 + i)));
  return { params, statistics };
}

/** onnxruntime on the exported file against extra's forward with the output activations applied. */
async function expectOnnxruntimeAgrees(model: FunctionalModel, bytes: Uint8Array, params: tf.Tensor[], statistics: tf.Tensor[]): Promise<void> {
  const x = tf.randomUniform([3, ...model.spec.inputShape], 0, 1, 'float32', 9);
  const session = await ort.InferenceSession.create(bytes);
  const onnxIn = model.spec.inputShape.length === 3 ? tf.transpose(x, [0, 3, 1, 2]) : x;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', onnxIn.dataSync() as Float32Array, onnxIn.shape) };
  const res = await session.run(feeds);
  const ours = model.forward(params, x, statistics);
  const spec = model.spec;
  session.outputNames.forEach((name, k) => {
    const got = res[name].data as Float32Array;
    const layer = spec.graph?.layers.find((l) => l.name === spec.graph!.outputs[k]);
    const want = layer?.config.activation === 'softmax' ? tf.softmax(ours[k]) : layer?.config.activation === 'sigmoid' ? tf.sigmoid(ours[k]) : ours[k];
    const w = want.dataSync();
    expect(got.length).toBe(w.length);
    let max = 0;
    for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(got[i] - w[i]));
    expect(max).toBeLessThan(1e-5);
  });
}

describe('export --format onnx: any run’s model as one ONNX file that onnxruntime runs to extra’s outputs', () => {
  const cases: [string, () => ReturnType<typeof buildModel>][] = [
    ['lenet-mtl', () => buildModel(defaultModelSpec('lenet-mtl', data.inputShape, data.numClasses, data.taskNames))],
    ['mlp-mtl', () => buildModel(defaultModelSpec('mlp-mtl', data.inputShape, data.numClasses, data.taskNames, [32, 16]))],
    ['a Keras graph with BatchNorm and a residual block (examples/residual-bn)', () => {
      const file = path.join(ROOT, 'examples/residual-bn/model.json');
      return buildModel(graphModelSpec(JSON.parse(readFileSync(file, 'utf8')), file, data));
    }],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const model = make();
      const { params, statistics } = randomPoint(model, 3);
      const sd = paramsToPytorchStateDict(model.spec, model.params.map((p) => p.name), params, statistics);
      await expectOnnxruntimeAgrees(model, graphToOnnx(model, sd), params, statistics);
    });
  }

  it('a graph imported from ONNX and written again (NCHW Permute, padding, depthwise, LayerNorm, GELU)', async () => {
    for (const f of ['residual-bn-op17-preserve', 'depthwise-op13-preserve', 'ln-gelu-mlp-op13-preserve', 'silu-mean-op17-preserve', 'branches-op13-preserve', 'resnet-stem-op11-preserve', 'convnext-block-op17-preserve', 'convnext-block-op13-preserve']) {
      const file = path.join(ROOT, 'test/fixtures/onnx', `${f}.onnx`);
      const imp = importOnnx(new Uint8Array(readFileSync(file)), file);
      const numClasses = imp.outputs.map((o) => { const l = imp.graph.layers.find((x) => x.name === o.layer); return l?.config.units === 1 || l?.config.activation === 'sigmoid' ? 2 : 10; });
      const model = buildModel(onnxModelSpec(imp, file, { ...data, numClasses, inputShape: imp.inputShape }));
      const { params, statistics } = randomPoint(model, 5);
      const sd = paramsToPytorchStateDict(model.spec, model.params.map((p) => p.name), params, statistics);
      await expectOnnxruntimeAgrees(model, graphToOnnx(model, sd), params, statistics);
    }
  });
});
