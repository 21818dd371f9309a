// Kernel benchmark: matMul GFLOP/s and one lenet-mtl training step (batch 256, 36×36) per backend.
// Usage: npm run bench:kernels [-- --steps N]
import * as tf from '@tensorflow/tfjs';
import { selectBackend, backendOrder } from '../dist/backend/index.js';
import { buildModel, defaultModelSpec, initParams } from '../dist/models/index.js';
import { softmaxCrossEntropy } from '../dist/train/index.js';
import { machineInfo, median } from './machine.js';

const stepsArg = process.argv.indexOf('--steps');
const steps = stepsArg > 0 ? Number(process.argv[stepsArg + 1]) : 7;

function timeIt(fn, n) {
  fn(); // warm-up
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  if (process.env.BENCH_DEBUG) console.log(ts.map((t) => t.toFixed(1)).join(" "));
  return median(ts);
}

const spec = defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 10], ['a', 'b']);
const model = buildModel(spec);
const rows = [];
console.log(JSON.stringify(machineInfo()));
for (const name of backendOrder) {
  try {
    await selectBackend({ prefer: name, quiet: true });
  } catch (e) {
    console.log(`${name}: not available (${e.message.split('(')[0].trim()})`);
    continue;
  }
  const n = name === 'cpu' ? 1 : steps;
  const a = tf.randomNormal([1024, 1024]);
  // block bodies: a typed array returned from tf.tidy is walked element by element (seconds of overhead)
  const mmMs = timeIt(() => tf.tidy(() => { tf.matMul(a, a).dataSync(); }), name === 'cpu' ? 2 : 9);
  a.dispose();
  const params = initParams(model.params, 1);
  const x = tf.randomUniform([256, 36, 36, 1]);
  const y = [tf.tensor1d(new Int32Array(256).map((_, i) => i % 10), 'int32'), tf.tensor1d(new Int32Array(256).map((_, i) => (3 * i) % 10), 'int32')];
  const loss = (...p) => {
    const o = model.forward(p, x);
    return tf.add(softmaxCrossEntropy(o[0], y[0]), softmaxCrossEntropy(o[1], y[1]));
  };
  const stepMs = timeIt(() => tf.tidy(() => { tf.grads(loss)(params).forEach((g) => g.dataSync()); }), n);
  const fwdMs = timeIt(() => tf.tidy(() => { model.forward(params, x)[0].dataSync(); }), n);
  const row = { backend: name, matmul1024GFlops: +((2 * 1024 ** 3) / (mmMs * 1e6)).toFixed(1), lenetTrainSamplesPerSec: Math.round(256000 / stepMs), lenetForwardSamplesPerSec: Math.round(256000 / fwdMs) };
  rows.push(row);
  console.log(JSON.stringify(row));
  tf.dispose([...params, x, ...y]);
}
console.log('\n| backend | matMul 1024² GFLOP/s | lenet-mtl train step (samples/s) | lenet-mtl forward (samples/s) |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.backend} | ${r.matmul1024GFlops} | ${r.lenetTrainSamplesPerSec} | ${r.lenetForwardSamplesPerSec} |`);
