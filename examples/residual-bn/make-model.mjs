// Writes model.json: a small residual CNN with BatchNormalization for 36×36 grey images and two
// 10-class tasks (multi-fashion, multi-mnist), built with tfjs' own layers API and saved with
// model.save() — exactly what a user of tfjs or the Keras→tfjs converter hands to `extra`.
// Run: node examples/residual-bn/make-model.mjs   (the file is committed; rerun only to change it)
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const input = tf.input({ shape: [36, 36, 1], name: 'image' });
const convBn = (x, name, filters, strides = 1, relu = true) => {
  let h = tf.layers.conv2d({ name: `${name}_conv`, filters, kernelSize: 3, strides, padding: 'same', useBias: false }).apply(x);
  h = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(h);
  return relu ? tf.layers.reLU({ name: `${name}_relu` }).apply(h) : h;
};
let h = convBn(input, 'stem', 16);
h = tf.layers.maxPooling2d({ name: 'stem_pool', poolSize: 2 }).apply(h); // 18×18×16
const r = convBn(convBn(h, 'block1a', 16), 'block1b', 16, 1, false);
h = tf.layers.reLU({ name: 'block1_relu' }).apply(tf.layers.add({ name: 'block1_add' }).apply([h, r]));
h = convBn(h, 'down', 32, 2); // 9×9×32
// where an item sits matters here (top-left vs bottom-right), so the features keep their positions:
// pool to 4×4 and flatten rather than global average pooling
h = tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }).apply(h);
h = tf.layers.flatten({ name: 'flatten' }).apply(h);
h = tf.layers.dense({ name: 'fc', units: 64, activation: 'relu' }).apply(h);
const left = tf.layers.dense({ name: 'left', units: 10, activation: 'softmax' }).apply(h);
const right = tf.layers.dense({ name: 'right', units: 10, activation: 'softmax' }).apply(h);
const model = tf.model({ inputs: input, outputs: [left, right], name: 'residual_bn' });

await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    const out = fileURLToPath(new URL('./model.json', import.meta.url));
    writeFileSync(out, JSON.stringify({ format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`, modelTopology: artifacts.modelTopology }, null, 1) + '\n');
    console.log(`wrote ${out}: ${model.countParams()} parameters`);
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }),
);
