import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildModel, loadLayersModelFromDir, paramsToPytorchStateDict, saveLayersModel, valuesFromStateDict } from '../../src/models/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { importOnnx, onnxModelSpec } from '../../src/models/onnx/import.js';
import { replaceInitializers, transposed2d } from '../../src/models/onnx/proto.js';
import { graphToOnnx } from '../../src/models/onnx/export.js';

const DIR = path.resolve(__dirname, '../fixtures/onnx-zoo');
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.onnx')).sort();

interface Fixture {
  model: string;
  opset: number;
  input: number[];
  outputs: { shape: number[]; data: number[] }[];
  stateDict: Record<string, number[]>;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** scripts/onnx_zoo.py's input: x[i] = ((i·37) mod 101)/101·2 − 1 in float32, NCHW. */
function inputOf(shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => (((i * 37) % 101) / 101) * 2 - 1), shape);
}

function load(file: string) {
  const fx = JSON.parse(readFileSync(path.join(DIR, file.replace(/\.onnx$/, '.json')), 'utf8')) as Fixture;
  const bytes = new Uint8Array(readFileSync(path.join(DIR, file)));
  const imp = importOnnx(bytes, file);
  const inputShape = [fx.input[2], fx.input[3], fx.input[1]];
  const spec = onnxModelSpec(imp, file, { inputShape, numClasses: [10, 3], taskNames: ['a', 'b'] });
  const model = buildModel(spec);
  const r = valuesFromStateDict(model, imp.weights, { statistics: true });
  return { fx, bytes, imp, spec, model, r, x: inputOf(fx.input) };
}

describe('torchvision families and a ViT from torch.onnx.export (scripts/onnx_zoo.py, torch 1.13, torchvision 0.14)', () => {
  it('the fixtures are there', () => expect(fixtures.length).toBeGreaterThanOrEqual(21));
  for (const file of fixtures) {
    it(`${file}: extra's forward equals PyTorch's to 1e-5, every weight under its state_dict name; the ONNX export runs in onnxruntime to extra's outputs`, async () => {
      const { fx, bytes, imp, model, r, x } = load(file);
      expect(r.problems).toEqual([]);
      for (const p of [...model.params, ...model.statistics]) expect(Object.keys(fx.stateDict)).toContain(p.name);
      const ys = model.forward(r.params, tf.transpose(x, [0, 2, 3, 1]), r.statistics);
      fx.outputs.forEach((want, k) => {
        expect(ys[k].shape).toEqual(want.shape);
        const diff = tf.max(tf.abs(tf.sub(ys[k], tf.tensor(want.data, want.shape)))).dataSync()[0];
        expect(diff).toBeLessThan(1e-5);
      });
      // the export writes the file's own graph with the model's weights (a merged weight gets its initializer back)
      const moved = r.params.map((p) => tf.add(p, tf.randomNormal(p.shape, 0, 0.01, 'float32', 3)));
      const sd = paramsToPytorchStateDict(model.spec, model.params.map((p) => p.name), moved, r.statistics);
      const transposed = new Set(imp.transposed);
      const values = new Map(sd.map((t) => [imp.renamed[t.name] ?? t.name, transposed.has(t.name) ? transposed2d(t.data, t.shape[0], t.shape[1]) : t.data]));
      const ours = model.forward(moved, tf.transpose(x, [0, 2, 3, 1]), r.statistics);
      // and extra's own writer of any layer graph (src/models/onnx/export.ts), every new layer class with it
      for (const onnx of [replaceInitializers(bytes, values, file), graphToOnnx(model, sd)]) {
        const session = await ort.InferenceSession.create(onnx);
        const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
        session.outputNames.forEach((name, k) => {
          const got = res[name].data as Float32Array;
          const want = ours[k].dataSync();
          expect(got.length).toBe(want.length);
          let max = 0;
          for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
          expect(max).toBeLessThan(1e-5);
        });
      }
    });
  }

  it('a checkpoint of every new layer class is a tfjs layers model that loads back with the same weights and outputs', async () => {
    for (const file of fixtures) {
      const { model, r, x, spec } = load(file);
      const dir = mkdtempSync(path.join(tmpdir(), 'extra-zoo-ckpt-'));
      await saveLayersModel(dir, spec, r.params, {}, r.statistics);
      const back = await loadLayersModelFromDir(dir);
      expect(back.values.map((v) => Array.from(v.dataSync()))).toEqual(r.params.map((v) => Array.from(v.dataSync())));
      const img = tf.transpose(x, [0, 2, 3, 1]);
      const a = model.forward(r.params, img, r.statistics);
      // tfjs' own predict of the loaded layers model (inference: BatchNorm with the statistics) equals extra's forward
      const b = back.model.predict(img) as tf.Tensor[];
      a.forEach((y, k) => expect(tf.max(tf.abs(tf.sub(y, b[k]))).dataSync()[0], `${file} output ${k}`).toBeLessThan(1e-5));
      back.model.dispose();
    }
  });
});
