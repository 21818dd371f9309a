import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildModel, defaultModelSpec, toLayersModel, graphModelSpec } from '../../src/models/index.js';
import { initParams } from '../../src/models/init.js';

const ROOT = path.resolve(__dirname, '../..');

describe('the built-in architectures shipped as model.json (examples/builtin)', () => {
  for (const [arch, hidden] of [['lenet-mtl', undefined], ['mlp-mtl', [256, 256]]] as const) {
    it(`${arch}.model.json is current and, read as your own model, computes the built-in's function`, async () => {
      const file = path.join(ROOT, 'examples', 'builtin', `${arch}.model.json`);
      const shipped = JSON.parse(readFileSync(file, 'utf8'));
      const spec = defaultModelSpec(arch, [36, 36, 1], [10, 10], ['top-left', 'bottom-right'], hidden ? [...hidden] : undefined);
      // regenerate with scripts/write-builtin-models.mjs when this fails after an architecture change
      expect(shipped.modelTopology).toEqual(JSON.parse(JSON.stringify(toLayersModel(spec).toJSON(null, false))));
      const graph = buildModel(graphModelSpec(shipped, file, { inputShape: [36, 36, 1], numClasses: [10, 10], taskNames: ['top-left', 'bottom-right'] }));
      const builtin = buildModel(spec);
      expect(graph.params.map((p) => p.shape)).toEqual(builtin.params.map((p) => p.shape));
      expect(graph.params.map((p) => p.init)).toEqual(builtin.params.map((p) => p.init));
      const params = initParams(builtin.params, 5);
      const x = tf.randomUniform([3, 36, 36, 1], 0, 1, 'float32', 2);
      const a = builtin.forward(params, x);
      const b = graph.forward(params, x);
      for (let k = 0; k < 2; k++) expect(tf.max(tf.abs(tf.sub(a[k], b[k]))).dataSync()[0]).toBeLessThan(1e-5);
    });
  }
});
