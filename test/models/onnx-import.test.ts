import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildModel, valuesFromStateDict } from '../../src/models/index.js';
import { importOnnx, onnxModelSpec } from '../../src/models/onnx/import.js';

const DIR = path.resolve(__dirname, '../fixtures/onnx');
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.onnx')).sort();

interface Fixture {
  model: string;
  opset: number;
  mode: string;
  input: { shape: number[]; data: number[] };
  outputs: { shape: number[]; data: number[] }[];
  stateDict: Record<string, number[]>;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The same input laid out as extra's data: NCHW → NHWC for images. */
function nhwc(input: Fixture['input']): tf.Tensor {
  const x = tf.tensor(input.data, input.shape);
  return input.shape.length === 4 ? tf.transpose(x, [0, 2, 3, 1]) : x;
}

describe('ONNX written by torch.onnx.export → extra’s layer graph (PyTorch 1.13 fixtures, scripts/onnx_fixtures.py)', () => {
  it('the fixtures are there', () => expect(fixtures.length).toBeGreaterThanOrEqual(10));
  for (const file of fixtures) {
    it(`${file}: extra's forward equals PyTorch's to 1e-5, with every weight under its state_dict name`, () => {
      const fx = JSON.parse(readFileSync(path.join(DIR, file.replace(/\.onnx$/, '.json')), 'utf8')) as Fixture;
      const imp = importOnnx(new Uint8Array(readFileSync(path.join(DIR, file))), file);
      const inputShape = fx.input.shape.length === 4 ? [fx.input.shape[2], fx.input.shape[3], fx.input.shape[1]] : fx.input.shape.slice(1);
      expect(imp.inputShape).toEqual(inputShape);
      // a one-unit head is a binary task (bce), the others ten classes; an N×C×H×W output is per pixel:
      // one channel depth, three normals, any other number segmentation classes
      const perPixel = fx.outputs.some((o) => o.shape.length === 4);
      const pixelKind = (c: number) => (c === 1 ? 'depth' : c === 3 ? 'normal' : 'seg');
      const numClasses = fx.outputs.map((o) => (o.shape.length === 4 ? o.shape[1] : o.shape[1] === 1 ? 2 : o.shape[1]));
      const taskNames = fx.outputs.map((_, k) => String.fromCharCode(97 + k));
      const losses = perPixel ? fx.outputs.map((o) => pixelKind(o.shape[1])) : undefined;
      const spec = onnxModelSpec(imp, file, { inputShape, numClasses, taskNames }, losses);
      const model = buildModel(spec);
      const r = valuesFromStateDict(model, imp.weights, { statistics: true });
      expect(r.problems).toEqual([]);
      if (fx.mode === 'preserve') {
        // PRESERVE keeps the state_dict's names: every parameter and statistic is one of them
        for (const p of [...model.params, ...model.statistics]) expect(Object.keys(fx.stateDict)).toContain(p.name);
      }
      const ys = model.forward(r.params, nhwc(fx.input), r.statistics);
      fx.outputs.forEach((want, k) => {
        let got = ys[k];
        // heads that end in (log-)softmax: extra's forward gives the logits
        const lastClass = spec.graph!.layers.find((l) => l.name === spec.graph!.outputs[k]);
        if (lastClass?.config.activation === 'softmax') got = tf.softmax(got);
        if (lastClass?.config.activation === 'sigmoid') got = tf.sigmoid(got);
        const wantT = tf.tensor(want.data, want.shape);
        if (Math.min(...want.data) < 0 && want.data.every((v) => v <= 0) && lastClass?.class === 'Activation') got = tf.logSoftmax(got);
        // extra's per-pixel outputs are [N,H,W,C]; PyTorch's N×C×H×W
        if (want.shape.length === 4) got = tf.transpose(got, [0, 3, 1, 2]);
        expect(got.shape).toEqual(want.shape);
        expect(tf.max(tf.abs(tf.sub(got, wantT))).dataSync()[0]).toBeLessThan(1e-5);
      });
    });
  }
});
