// One model's training-step throughput (forward + gradients + Adam), shared by bench-train.js and its workers.
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../dist/backend/index.js';
import { buildModel, defaultModelSpec, initParams } from '../dist/models/index.js';
import { softmaxCrossEntropy, optimizerInit, optimizerStep } from '../dist/train/index.js';
import { makeGeometry, initTrainable, curveLossFn, trainableNames } from '../dist/curves/index.js';
import { median } from './machine.js';

export function specFor(model) {
  return model === 'lenet'
    ? defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 10], ['a', 'b'])
    : defaultModelSpec('mlp-mtl', [36, 36, 1], [10, 10], ['a', 'b'], [256, 256]);
}

/** samples/s of `steps` timed steps (median step time) after 2 warm-up steps. */
export async function measureSteps({ model, kind = 'endpoint', batch = 256, steps = 10, backend = 'wasm' }) {
  await selectBackend({ prefer: backend, quiet: true });
  const spec = specFor(model);
  const m = buildModel(spec);
  const x = tf.randomUniform([batch, 36, 36, 1], 0, 1, 'float32', 1);
  const y = [tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32'), tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => (7 * i) % 10), 'int32')];
  let tensors;
  let loss;
  if (kind === 'endpoint') {
    tensors = initParams(m.params, 1);
    loss = (...p) => {
      const o = m.forward(p, x);
      return tf.add(tf.mul(softmaxCrossEntropy(o[0], y[0]), 0.5), tf.mul(softmaxCrossEntropy(o[1], y[1]), 0.5));
    };
  } else {
    const curve = { geometry: makeGeometry('nurbs', 4, 3), paramNames: m.params.map((p) => p.name), ends: [initParams(m.params, 1), initParams(m.params, 2)] };
    tensors = initTrainable(curve);
    let u = 0;
    loss = (...tr) => curveLossFn(m, curve, { alpha: 0.5, l2: 0, orientation: { taskA: 0, taskB: 1 } }, x, y, [0.25 + 0.1 * (u % 3), 0.7 + 0.05 * (u++ % 5)], () => {})(...tr);
    if (trainableNames(curve).length !== tensors.length) throw new Error('bad curve');
  }
  const cfg = { name: 'adam' };
  const opt = optimizerInit(cfg, tensors);
  const times = [];
  for (let s = 0; s < steps + 2; s++) {
    const t0 = performance.now();
    const { value, grads } = tf.valueAndGrads(loss)(tensors);
    value.dataSync();
    const next = optimizerStep(cfg, opt, tensors, grads, 1e-3);
    next[0].dataSync();
    grads.forEach((g) => g.dispose());
    value.dispose();
    tensors.forEach((t) => t.dispose());
    tensors = next;
    if (s >= 2) times.push(performance.now() - t0);
  }
  return { samplesPerSec: (batch * 1000) / median(times), msPerStep: median(times) };
}
