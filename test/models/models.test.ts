import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { architectures, trunkForward, trunkParamSpecs, trunkShapes, trunkTfjsLayers, type TrunkLayer, buildModel, defaultModelSpec, initParams, saveLayersModel, loadLayersModelFromDir, toLayersModel } from '../../src/models/index.js';
import { FileFormatError } from '../../src/errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('functional models', () => {
  const lenetSpec = defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 10], ['left', 'right']);
  const mlpSpec = defaultModelSpec('mlp-mtl', [36, 36, 1], [10, 10], ['left', 'right'], [32, 16]);

  it('lenet-mtl has the published layout (conv 9x9x10, conv 5x5x20, fc 500->50, 2 heads)', () => {
    const m = buildModel(lenetSpec);
    expect(m.params.map((p) => [p.name, p.shape])).toEqual([
      ['conv1.weight', [9, 9, 1, 10]],
      ['conv1.bias', [10]],
      ['conv2.weight', [5, 5, 10, 20]],
      ['conv2.bias', [20]],
      ['fc.weight', [500, 50]],
      ['fc.bias', [50]],
      ['heads.0.weight', [50, 10]],
      ['heads.0.bias', [10]],
      ['heads.1.weight', [50, 10]],
      ['heads.1.bias', [10]],
    ]);
  });

  it('every architecture of the table is checked below', () => {
    expect([lenetSpec, mlpSpec].map((s) => s.arch).sort()).toEqual(Object.keys(architectures).sort());
  });

  it('an option an architecture does not use is refused, not ignored', () => {
    expect(() => defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 10], ['a', 'b'], [64])).toThrow(/no hidden widths/);
    expect(() => defaultModelSpec('lenet-mtl', [36, 36], [10, 10], ['a', 'b'])).toThrow(/image input/);
    expect(() => defaultModelSpec('resnet', [36, 36, 1], [10, 10], ['a', 'b'])).toThrow(/unknown model architecture 'resnet'/);
  });

  it('a trunk of strided and same-padded layers: forward, shapes and parameters agree with tfjs layers', () => {
    const layers: TrunkLayer[] = [
      { kind: 'conv2d', name: 'c1', filters: 4, kernel: 3, strides: 2, padding: 'same', activation: 'relu' },
      { kind: 'maxPool', name: 'p1', pool: 3, strides: 2 },
      { kind: 'conv2d', name: 'c2', filters: 5, kernel: 2, padding: 'valid' },
      { kind: 'flatten', name: 'flat' },
      { kind: 'dense', name: 'd.0', units: 7, activation: 'relu' },
      { kind: 'dense', name: 'd.1', units: 3 },
    ];
    const inputShape = [13, 11, 2];
    const specs = trunkParamSpecs(layers, inputShape);
    expect(specs.map((p) => p.name)).toEqual(['c1.weight', 'c1.bias', 'c2.weight', 'c2.bias', 'd.0.weight', 'd.0.bias', 'd.1.weight', 'd.1.bias']);
    const params = specs.map((p, i) => tf.randomNormal(p.shape, 0, 0.3, 'float32', 11 + i));
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape }), ...trunkTfjsLayers(layers)] });
    model.setWeights(params);
    const x = tf.randomUniform([4, ...inputShape], 0, 1, 'float32', 5);
    expect(maxAbsDiff(trunkForward(layers, inputShape, params, x), model.predict(x) as tf.Tensor)).toBeLessThan(1e-5);
    const shapes = trunkShapes(layers, inputShape);
    expect(model.layers.map((l) => (l.outputShape as number[]).slice(1))).toEqual(shapes); // the input layer, then one per trunk layer
    expect(() => trunkShapes(layers, [3, 3, 2])).toThrow(/too small/);
  });

  for (const spec of [lenetSpec, mlpSpec]) {
    it(`${spec.arch}: functional forward equals the tfjs LayersModel built from the same weights`, () => {
      const m = buildModel(spec);
      const params = initParams(m.params, 7);
      // non-zero biases so their placement is checked too
      const p2 = params.map((p, i) => (m.params[i].init === 'zeros' ? tf.randomNormal(p.shape, 0, 0.1, 'float32', i) : p));
      const x = tf.randomUniform([3, 36, 36, 1], 0, 1, 'float32', 3);
      const ours = m.forward(p2, x);
      const layers = toLayersModel(spec, p2);
      const theirs = layers.predict(x) as tf.Tensor[];
      expect(theirs.length).toBe(2);
      for (let k = 0; k < 2; k++) expect(maxAbsDiff(ours[k], theirs[k])).toBeLessThan(1e-5);
    });
  }

  it('saves in tfjs layers format, reloads with tf.loadLayersModel, and refuses truncated weights', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-model-'));
    const m = buildModel(lenetSpec);
    const params = initParams(m.params, 1);
    await saveLayersModel(dir, lenetSpec, params);
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const { model, meta, values } = await loadLayersModelFromDir(dir);
    expect(meta.spec).toEqual(lenetSpec);
    for (let i = 0; i < values.length; i++) expect(maxAbsDiff(values[i], params[i])).toBe(0);
    const x = tf.randomUniform([2, 36, 36, 1], 0, 1, 'float32', 5);
    const out = model.predict(x) as tf.Tensor[];
    const ours = m.forward(params, x);
    expect(maxAbsDiff(out[1], ours[1])).toBeLessThan(1e-5);
    const size = readFileSync(path.join(dir, 'weights.bin')).length;
    expect(size).toBe(4 * m.params.reduce((a, p) => a + p.shape.reduce((x1, y) => x1 * y, 1), 0));
    truncateSync(path.join(dir, 'weights.bin'), size - 4);
    await expect(loadLayersModelFromDir(dir)).rejects.toBeInstanceOf(FileFormatError);
    writeFileSync(path.join(dir, 'model.json'), '{"modelTopology":');
    await expect(loadLayersModelFromDir(dir)).rejects.toThrow(/not valid JSON/);
  });
});
