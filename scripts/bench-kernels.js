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
for (const name of backendOrder.filter((b) => process.env.BENCH_SKIP_CPU !== "1" || b !== "cpu")) {
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

// Per-kernel: each hot kernel of a lenet-mtl step at batch 256, the plain path (EXTRA_SIMD_KERNELS=0:
// tfjs-wasm's own kernels and extra's earlier JavaScript ones) against the SIMD kernels
// (assembly/kernels.ts), interleaved in one process, with achieved GFLOP/s next to the matMul peak.
await selectBackend({ prefer: 'wasm', quiet: true });
const peak = rows.find((r) => r.backend === 'wasm')?.matmul1024GFlops ?? null;
const B = 256;
const eng = tf.engine();
const t = (shape, scale = 1) => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 7), scale);
const x1 = tf.randomUniform([B, 36, 36, 1]);
const w1 = t([9, 9, 1, 10], 0.1);
const dy1 = t([B, 28, 28, 10]);
const x2 = tf.relu(t([B, 14, 14, 10]));
const w2 = t([5, 5, 10, 20], 0.1);
const dy2 = t([B, 10, 10, 20]);
const pooled1 = tf.maxPool(dy1, 2, 2, 'valid');
const flat = t([B, 500]);
const fcW = t([500, 50], 0.05);
const dz = t([B, 50]);
const conv = { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 };
const kernelCases = [
  ['Conv2D conv1 (forward)', 'Conv2D', { x: x1, filter: w1 }, conv, B * 28 * 28 * 81 * 10 * 2],
  ['Conv2DBackpropFilter conv1', 'Conv2DBackpropFilter', { x: x1, dy: dy1 }, { ...conv, filterShape: [9, 9, 1, 10] }, B * 28 * 28 * 81 * 10 * 2],
  ['Conv2D conv2 (forward)', 'Conv2D', { x: x2, filter: w2 }, conv, B * 10 * 10 * 250 * 20 * 2],
  ['Conv2DBackpropFilter conv2', 'Conv2DBackpropFilter', { x: x2, dy: dy2 }, { ...conv, filterShape: [5, 5, 10, 20] }, B * 10 * 10 * 250 * 20 * 2],
  ['Conv2DBackpropInput conv2', 'Conv2DBackpropInput', { dy: dy2, filter: w2 }, { ...conv, inputShape: [B, 14, 14, 10] }, B * 10 * 10 * 250 * 20 * 2],
  ['MaxPoolGrad 2×2 (conv1)', 'MaxPoolGrad', { dy: pooled1, input: dy1, output: pooled1 }, { filterSize: 2, strides: 2, pad: 'valid' }, 0],
  ['Add bias (conv1)', 'Add', { a: dy1, b: tf.randomNormal([10]) }, {}, 0],
  ['Sum bias gradient (conv1)', 'Sum', { x: dy1 }, { axis: [0, 1, 2], keepDims: false }, 0],
  ['BatchMatMul fc dW (transposeA)', 'BatchMatMul', { a: flat.reshape([1, B, 500]), b: dz.reshape([1, B, 50]) }, { transposeA: true, transposeB: false }, B * 500 * 50 * 2],
  ['BatchMatMul fc dx (transposeB)', 'BatchMatMul', { a: dz.reshape([1, B, 50]), b: fcW.reshape([1, 500, 50]) }, { transposeA: false, transposeB: true }, B * 500 * 50 * 2],
];
const kernelRows = [];
for (const [label, name, inputs, attrs, flops] of kernelCases) {
  const ms = {};
  for (const mode of ['0', '1']) {
    process.env.EXTRA_SIMD_KERNELS = mode;
    ms[mode] = timeIt(() => {
      const out = eng.runKernel(name, inputs, attrs);
      out.dataSync();
      out.dispose();
    }, 9);
  }
  const gf = (m) => (flops ? +(flops / m / 1e6).toFixed(1) : null);
  kernelRows.push({ kernel: label, plainMs: +ms['0'].toFixed(2), simdMs: +ms['1'].toFixed(2), plainGFlops: gf(ms['0']), simdGFlops: gf(ms['1']) });
  console.log(JSON.stringify(kernelRows[kernelRows.length - 1]));
}
delete process.env.EXTRA_SIMD_KERNELS;
const params = initParams(model.params, 1);
const xs = tf.randomUniform([B, 36, 36, 1]);
const ys = [tf.tensor1d(new Int32Array(B).map((_, i) => i % 10), 'int32'), tf.tensor1d(new Int32Array(B).map((_, i) => (3 * i) % 10), 'int32')];
const stepLoss = (...p) => {
  const o = model.forward(p, xs);
  return tf.add(softmaxCrossEntropy(o[0], ys[0]), softmaxCrossEntropy(o[1], ys[1]));
};
const whole = {};
for (const mode of ['0', '1']) {
  process.env.EXTRA_SIMD_KERNELS = mode;
  whole[mode] = timeIt(() => tf.tidy(() => { tf.grads(stepLoss)(params).forEach((g) => g.dataSync()); }), steps);
}
delete process.env.EXTRA_SIMD_KERNELS;
console.log(JSON.stringify({ wholeStepPlainMs: whole['0'], wholeStepSimdMs: whole['1'] }));
const pct = (g) => (g == null || peak == null ? '' : ` (${Math.round((100 * g) / peak)} %)`);
console.log(`\nPer kernel, lenet-mtl at batch 256 (medians of 9; matMul 1024² peak on this run: ${peak} GFLOP/s):`);
console.log('| kernel | plain path ms | SIMD ms | speed-up | plain GFLOP/s | SIMD GFLOP/s (of matMul peak) |');
console.log('|---|---|---|---|---|---|');
for (const r of kernelRows) {
  console.log(`| ${r.kernel} | ${r.plainMs} | ${r.simdMs} | ${(r.plainMs / r.simdMs).toFixed(2)}x | ${r.plainGFlops ?? '—'} | ${r.simdGFlops == null ? '—' : `${r.simdGFlops}${pct(r.simdGFlops)}`} |`);
}
console.log(`| whole step (forward + all gradients) | ${whole['0'].toFixed(1)} | ${whole['1'].toFixed(1)} | ${(whole['0'] / whole['1']).toFixed(2)}x | | |`);
