import * as tf from '@tensorflow/tfjs';
import type { Log } from '../app/index.js';
import { selectBackend, backendOrder } from '../backend/index.js';
import { buildModel, defaultModelSpec, initParams, type FunctionalModel } from '../models/index.js';
import { softmaxCrossEntropy } from '../train/index.js';
import { median } from './stats.js';

/**
 * Kernel benchmark (`extra bench kernels`): matMul GFLOP/s and one lenet-mtl training step (batch 256,
 * 36×36) per backend, then each hot wasm kernel of that step, plain path against the SIMD kernels.
 */
export interface BackendRow {
  backend: string;
  matmul1024GFlops: number;
  lenetTrainSamplesPerSec: number;
  lenetForwardSamplesPerSec: number;
}

export interface KernelRow {
  kernel: string;
  plainMs: number;
  simdMs: number;
  plainGFlops: number | null;
  simdGFlops: number | null;
}

export interface KernelResult {
  /** the wasm matMul 1024² GFLOP/s of the same run (null when wasm was not measured) */
  peak: number | null;
  kernels: KernelRow[];
  whole: { plainMs: number; simdMs: number };
}

const B = 256;

/** Median of `n` timed calls after one warm-up (BENCH_DEBUG=1: every time on `log`). */
function timeIt(fn: () => void, n: number, log: Log): number {
  fn(); // warm-up
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  if (process.env.BENCH_DEBUG) log(ts.map((t) => t.toFixed(1)).join(' '));
  return median(ts);
}

function lenet(): FunctionalModel {
  return buildModel(defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 10], ['a', 'b']));
}

/** Two tasks' labels for a batch of `n`: i mod 10 and 3i mod 10. */
function labels(n: number): tf.Tensor1D[] {
  return [tf.tensor1d(new Int32Array(n).map((_, i) => i % 10), 'int32'), tf.tensor1d(new Int32Array(n).map((_, i) => (3 * i) % 10), 'int32')];
}

/** Forward + all gradients of the summed task losses, read back (one training step without the update). */
function gradientStep(model: FunctionalModel, params: tf.Tensor[], x: tf.Tensor, y: tf.Tensor1D[]): () => void {
  const loss = (...p: tf.Tensor[]): tf.Tensor => {
    const o = model.forward(p, x);
    return tf.add(softmaxCrossEntropy(o[0], y[0]), softmaxCrossEntropy(o[1], y[1]));
  };
  // block bodies: a typed array returned from tf.tidy is walked element by element (seconds of overhead)
  return () => tf.tidy(() => {
    tf.grads(loss)(params).forEach((g) => g.dataSync());
  });
}

/** Every backend of `backendOrder` that loads here (BENCH_SKIP_CPU=1 skips cpu); one row each, logged as JSON. */
export async function measureBackends(steps: number, log: Log): Promise<BackendRow[]> {
  const model = lenet();
  const rows: BackendRow[] = [];
  for (const name of backendOrder.filter((b) => process.env.BENCH_SKIP_CPU !== '1' || b !== 'cpu')) {
    try {
      await selectBackend({ prefer: name, quiet: true });
    } catch (e) {
      log(`${name}: not available (${(e instanceof Error ? e.message : String(e)).split('(')[0].trim()})`);
      continue;
    }
    const n = name === 'cpu' ? 1 : steps;
    const a = tf.randomNormal([1024, 1024]);
    const mmMs = timeIt(() => tf.tidy(() => { tf.matMul(a, a).dataSync(); }), name === 'cpu' ? 2 : 9, log);
    a.dispose();
    const params = initParams(model.params, 1);
    const x = tf.randomUniform([B, 36, 36, 1]);
    const y = labels(B);
    const stepMs = timeIt(gradientStep(model, params, x, y), n, log);
    const fwdMs = timeIt(() => tf.tidy(() => { model.forward(params, x)[0].dataSync(); }), n, log);
    const row = { backend: name, matmul1024GFlops: +((2 * 1024 ** 3) / (mmMs * 1e6)).toFixed(1), lenetTrainSamplesPerSec: Math.round(256000 / stepMs), lenetForwardSamplesPerSec: Math.round(256000 / fwdMs) };
    rows.push(row);
    log(JSON.stringify(row));
    tf.dispose([...params, x, ...y]);
  }
  return rows;
}

export function backendTable(rows: readonly BackendRow[]): string {
  return [
    '\n| backend | matMul 1024² GFLOP/s | lenet-mtl train step (samples/s) | lenet-mtl forward (samples/s) |\n|---|---|---|---|',
    ...rows.map((r) => `| ${r.backend} | ${r.matmul1024GFlops} | ${r.lenetTrainSamplesPerSec} | ${r.lenetForwardSamplesPerSec} |`),
  ].join('\n');
}

/**
 * Per kernel: each hot kernel of a lenet-mtl step at batch 256, the plain path (EXTRA_SIMD_KERNELS=0:
 * tfjs-wasm's own kernels and extra's earlier JavaScript ones) against the SIMD kernels
 * (assembly/kernels.ts), interleaved in one process, then the whole step both ways; rows logged as JSON.
 */
export async function measureKernels(steps: number, peak: number | null, log: Log): Promise<KernelResult> {
  await selectBackend({ prefer: 'wasm', quiet: true });
  const eng = tf.engine();
  const t = (shape: number[], scale = 1) => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 7), scale);
  const x1 = tf.randomUniform([B, 36, 36, 1]);
  const w1 = t([9, 9, 1, 10], 0.1);
  const dy1 = t([B, 28, 28, 10]);
  const x2 = tf.relu(t([B, 14, 14, 10]));
  const w2 = t([5, 5, 10, 20], 0.1);
  const dy2 = t([B, 10, 10, 20]);
  const pooled1 = tf.maxPool(dy1 as tf.Tensor4D, 2, 2, 'valid');
  const flat = t([B, 500]);
  const fcW = t([500, 50], 0.05);
  const dz = t([B, 50]);
  const conv = { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 };
  const cases: [string, string, tf.NamedTensorMap, Record<string, number | string | boolean | number[]>, number][] = [
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
  /** Median times of `fn` with the SIMD kernels off ('0') and on ('1'), interleaved. */
  const bothWays = (fn: () => void, n: number): { plain: number; simd: number } => {
    const ms = { plain: 0, simd: 0 };
    for (const mode of ['0', '1'] as const) {
      process.env.EXTRA_SIMD_KERNELS = mode;
      ms[mode === '0' ? 'plain' : 'simd'] = timeIt(fn, n, log);
    }
    delete process.env.EXTRA_SIMD_KERNELS;
    return ms;
  };
  const kernels: KernelRow[] = [];
  for (const [label, name, inputs, attrs, flops] of cases) {
    const ms = bothWays(() => {
      const out = [eng.runKernel<tf.Tensor | tf.Tensor[]>(name, inputs, attrs)].flat();
      out[0].dataSync();
      tf.dispose(out);
    }, 9);
    const gf = (m: number) => (flops ? +(flops / m / 1e6).toFixed(1) : null);
    kernels.push({ kernel: label, plainMs: +ms.plain.toFixed(2), simdMs: +ms.simd.toFixed(2), plainGFlops: gf(ms.plain), simdGFlops: gf(ms.simd) });
    log(JSON.stringify(kernels[kernels.length - 1]));
  }
  const model = lenet();
  const params = initParams(model.params, 1);
  const whole = bothWays(gradientStep(model, params, tf.randomUniform([B, 36, 36, 1]), labels(B)), steps);
  log(JSON.stringify({ wholeStepPlainMs: whole.plain, wholeStepSimdMs: whole.simd }));
  return { peak, kernels, whole: { plainMs: whole.plain, simdMs: whole.simd } };
}

export function kernelTable(r: KernelResult): string {
  const pct = (g: number | null) => (g == null || r.peak == null ? '' : ` (${Math.round((100 * g) / r.peak)} %)`);
  return [
    `\nPer kernel, lenet-mtl at batch 256 (medians of 9; matMul 1024² peak on this run: ${r.peak} GFLOP/s):`,
    '| kernel | plain path ms | SIMD ms | speed-up | plain GFLOP/s | SIMD GFLOP/s (of matMul peak) |',
    '|---|---|---|---|---|---|',
    ...r.kernels.map((k) => `| ${k.kernel} | ${k.plainMs} | ${k.simdMs} | ${(k.plainMs / k.simdMs).toFixed(2)}x | ${k.plainGFlops ?? '—'} | ${k.simdGFlops == null ? '—' : `${k.simdGFlops}${pct(k.simdGFlops)}`} |`),
    `| whole step (forward + all gradients) | ${r.whole.plainMs.toFixed(1)} | ${r.whole.simdMs.toFixed(1)} | ${(r.whole.plainMs / r.whole.simdMs).toFixed(2)}x | | |`,
  ].join('\n');
}
