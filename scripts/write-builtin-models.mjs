// Writes examples/builtin/{lenet-mtl,mlp-mtl}.model.json: the built-in architectures for the
// multi-* sets (36×36×1, two 10-class tasks) as tfjs-layers model.json topologies, the same format a
// user's own model comes in (`extra train --model-json`). test/models/builtin-json.test.ts checks
// they are current and compute what the built-ins compute. Run after `npm run build`.
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { defaultModelSpec, toLayersModel } from '../dist/models/index.js';

for (const [arch, hidden] of [['lenet-mtl', undefined], ['mlp-mtl', [256, 256]]]) {
  const spec = defaultModelSpec(arch, [36, 36, 1], [10, 10], ['top-left', 'bottom-right'], hidden);
  const model = toLayersModel(spec);
  const topology = model.toJSON(null, false);
  const file = new URL(`../examples/builtin/${arch}.model.json`, import.meta.url);
  writeFileSync(file, JSON.stringify({ format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`, modelTopology: topology }, null, 1) + '\n');
  console.log(`wrote ${file.pathname}`);
}
