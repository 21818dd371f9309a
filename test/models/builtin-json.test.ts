import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildModel, graphModelSpec, shippedBuiltinModels, shippedBuiltinSpec, builtinModelJson, builtinModelJsonText } from '../../src/models/index.js';
import { initParams } from '../../src/models/init.js';

const ROOT = path.resolve(__dirname, '../..');
/** EXTRA_UPDATE_FIXTURES=1 rewrites the shipped files from the architectures before checking them. */
const update = process.env.EXTRA_UPDATE_FIXTURES === '1';

describe('the built-in architectures shipped as model.json (examples/builtin)', () => {
  for (const { arch, hidden } of shippedBuiltinModels) {
    it(`${arch}.model.json is current and, read as your own model, computes the built-in's function`, async () => {
      const file = path.join(ROOT, 'examples', 'builtin', `${arch}.model.json`);
      if (update) writeFileSync(file, builtinModelJsonText(arch, hidden));
      const shipped = JSON.parse(readFileSync(file, 'utf8'));
      const spec = shippedBuiltinSpec(arch, hidden);
      // regenerate with `EXTRA_UPDATE_FIXTURES=1 npx vitest run test/models/builtin-json.test.ts` when this fails after an architecture change
      expect(shipped.modelTopology).toEqual(builtinModelJson(arch, hidden).modelTopology);
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

  it('the file text is what the old writer wrote: the shipped files are byte-identical to it', () => {
    for (const { arch, hidden } of shippedBuiltinModels) {
      const shipped = readFileSync(path.join(ROOT, 'examples', 'builtin', `${arch}.model.json`), 'utf8');
      const text = builtinModelJsonText(arch, hidden);
      // the generator line names the tfjs version; everything else must match byte for byte
      const drop = (s: string) => s.replace(/"generatedBy": "[^"]*"/, '');
      expect(drop(text)).toBe(drop(shipped));
    }
  });
});
