import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { architectures, buildModel, defaultModelSpec, initParams, saveLayersModel, loadLayersModelFromDir, toLayersModel } from '../../src/models/index.js';
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

  // per-pixel tasks (13 classes, depth, normals) on 32×32×3
  const segnetSpec = defaultModelSpec('segnet-mtl', [32, 32, 3], [13, 1, 3], ['seg', 'depth', 'normal'], undefined, ['seg', 'depth', 'normal']);

  it('every architecture of the table is checked below', () => {
    expect([lenetSpec, mlpSpec, segnetSpec].map((s) => s.arch).sort()).toEqual(Object.keys(architectures).sort());
  });

  it('segnet-mtl: a shared encoder-decoder back to H×W, one 3×3 per-pixel conv head per task ([H,W,C_k])', () => {
    const m = buildModel(segnetSpec);
    expect(m.params.map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual([
      'enc.0.weight:3x3x3x16', 'enc.0.bias:16', 'enc.1.weight:3x3x16x32', 'enc.1.bias:32', 'enc.2.weight:3x3x32x32', 'enc.2.bias:32',
      'dec.0.weight:3x3x32x16', 'dec.0.bias:16', 'dec.1.weight:3x3x16x16', 'dec.1.bias:16',
      'heads.0.weight:3x3x16x13', 'heads.0.bias:13', 'heads.1.weight:3x3x16x1', 'heads.1.bias:1', 'heads.2.weight:3x3x16x3', 'heads.2.bias:3',
    ]);
    expect(m.params.map((p) => p.task ?? -1)).toEqual([-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 1, 1, 2, 2]);
    const ys = m.forward(initParams(m.params, 1), tf.zeros([2, 32, 32, 3]));
    expect(ys.map((y) => y.shape)).toEqual([[2, 32, 32, 13], [2, 32, 32, 1], [2, 32, 32, 3]]);
    expect(() => defaultModelSpec('segnet-mtl', [30, 32, 3], [13], ['seg'], undefined, ['seg'])).toThrow(/segnet-mtl needs an H×W that are multiples of 4 and at least 8/);
    expect(() => defaultModelSpec('segnet-mtl', [32, 32, 3], [13], ['seg'], [64], ['seg'])).toThrow(/segnet-mtl has no hidden widths/);
    expect(() => defaultModelSpec('segnet-mtl', [36, 36, 1], [10, 10], ['left', 'right'])).toThrow(/segnet-mtl predicts per pixel; task\(s\) left, right have one label per sample/);
  });

  it('an option an architecture does not use is refused, not ignored', () => {
    expect(() => defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 10], ['a', 'b'], [64])).toThrow(/no hidden widths/);
    expect(() => defaultModelSpec('lenet-mtl', [36, 36], [10, 10], ['a', 'b'])).toThrow(/image input/);
    expect(() => defaultModelSpec('resnet', [36, 36, 1], [10, 10], ['a', 'b'])).toThrow(/unknown model architecture 'resnet'/);
  });

  it('the built-ins are layer graphs: names, kernel layouts, initializers and the checkpoint topology', () => {
    const m = buildModel(lenetSpec);
    expect(m.params.map((p) => `${p.name}:${p.shape.join('x')}:${p.init}`)).toEqual([
      'conv1.weight:9x9x1x10:he-uniform', 'conv1.bias:10:zeros', 'conv2.weight:5x5x10x20:he-uniform', 'conv2.bias:20:zeros',
      'fc.weight:500x50:he-uniform', 'fc.bias:50:zeros',
      'heads.0.weight:50x10:glorot-uniform', 'heads.0.bias:10:zeros', 'heads.1.weight:50x10:glorot-uniform', 'heads.1.bias:10:zeros',
    ]);
    expect(m.params.map((p) => p.task ?? -1)).toEqual([-1, -1, -1, -1, -1, -1, 0, 0, 1, 1]);
    expect(buildModel(mlpSpec).params.map((p) => p.name)).toEqual(['trunk.0.weight', 'trunk.0.bias', 'trunk.1.weight', 'trunk.1.bias', 'heads.0.weight', 'heads.0.bias', 'heads.1.weight', 'heads.1.bias']);
    const topology = toLayersModel(mlpSpec).toJSON(null, false) as unknown as { config: { name: string; layers: { name: string; config: { kernel_initializer?: { class_name: string; config: { scale: number } } } }[] } };
    expect(topology.config.name).toBe('mlp_mtl');
    expect(topology.config.layers.map((l) => l.name)).toEqual(['input', 'flatten', 'trunk_0', 'trunk_1', 'head_0_left', 'head_1_right']);
    // the checkpoint says how each layer starts: He (variance scaling 2) in the trunk, Glorot on the heads
    expect(topology.config.layers.map((l) => l.config.kernel_initializer?.config.scale ?? null)).toEqual([null, null, 2, 2, 1, 1]);
  });

  for (const spec of [lenetSpec, mlpSpec, segnetSpec]) {
    it(`${spec.arch}: functional forward equals the tfjs LayersModel built from the same weights`, () => {
      const m = buildModel(spec);
      const params = initParams(m.params, 7);
      // non-zero biases so their placement is checked too
      const p2 = params.map((p, i) => (m.params[i].init === 'zeros' ? tf.randomNormal(p.shape, 0, 0.1, 'float32', i) : p));
      const x = tf.randomUniform([3, ...spec.inputShape], 0, 1, 'float32', 3);
      const ours = m.forward(p2, x);
      const layers = toLayersModel(spec, p2);
      const theirs = layers.predict(x) as tf.Tensor[];
      expect(theirs.length).toBe(spec.numClasses.length);
      for (let k = 0; k < theirs.length; k++) expect(maxAbsDiff(ours[k], theirs[k])).toBeLessThan(1e-5);
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
