import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Log } from '../app/index.js';
import { selectBackend, backendOrder, nativeKernelsDecision, setNativeThreads } from '../backend/index.js';
import { buildModel, defaultModelSpec, initParams, type FunctionalModel } from '../models/index.js';
import { softmaxCrossEntropy } from '../train/index.js';
import { median } from './stats.js';

/**
 * Kernel benchmark (`extra bench kernels`): matMul GFLOP/s and one lenet-mtl training step (batch 256,
 * 36×36) per backend, then each hot wasm kernel of that step on tfjs-wasm's own path, the wasm SIMD
 * kernels and the native ones (1 thread and all cores).
 */
export interface BackendRow {
  backend: string;
  matmul1024GFlops: number;
  lenetTrainSamplesPerSec: number;
  lenetForwardSamplesPerSec: number;
}

/** The kernel engines a row is timed on: tfjs-wasm's own path, the wasm SIMD kernels, the native ones at 1 and at all cores. */
export const kernelEngines = ['plain', 'simd', 'native1', 'nativeAll'] as const;
export type KernelEngineColumn = (typeof kernelEngines)[number];

export interface KernelRow {
  kernel: string;
  /** median ms per engine (null: that engine is not available here) */
  ms: Record<KernelEngineColumn, number | null>;
  /** useful multiply-adds × 2 per second, or null for kernels without a flop count */
  gflops: Record<KernelEngineColumn, number | null>;
}

export interface KernelResult {
  /** the machine's peaks: nominal FMA GFLOP/s per core (null when the clock is unknown), measured native matMul 1024² at 1 and all cores */
  peak: { nominalPerCore: number | null; matmul1: number | null; matmulAll: number | null; cores: number };
  kernels: KernelRow[];
  whole: Record<KernelEngineColumn, number | null>;
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

/** Set the environment for one engine column (and the native kernels' threads); false when it cannot run here. */
function useEngine(e: KernelEngineColumn, cores: number): boolean {
  delete process.env.EXTRA_SIMD_KERNELS;
  delete process.env.EXTRA_NATIVE_KERNELS;
  setNativeThreads(1);
  if (e === 'plain') process.env.EXTRA_SIMD_KERNELS = '0';
  if (e === 'simd') process.env.EXTRA_NATIVE_KERNELS = '0';
  if (e === 'nativeAll') setNativeThreads(cores);
  return e === 'plain' || e === 'simd' ? true : nativeKernelsDecision().use;
}

/**
 * The nominal peak of one core: 2 fused-multiply-add units × 8 lanes (AVX2) × 2 flops per cycle at the
 * clock /proc/cpuinfo reports (null elsewhere); a reference line, the measured matMul is the practical one.
 */
function nominalPeakPerCore(): number | null {
  try {
    const m = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? +((Number(m[1]) / 1000) * 32).toFixed(1) : null;
  } catch {
    return null;
  }
}

/**
 * Per kernel: each hot kernel of a lenet-mtl step at batch 256 (and BatchNorm's per-channel ops) on every
 * engine, interleaved in one process, then the whole step each way; rows logged as JSON. A kernel is
 * timed as its call alone (outputs are not read back, so no copy out of the heap is counted).
 */
export async function measureKernels(steps: number, log: Log): Promise<KernelResult> {
  await selectBackend({ prefer: 'wasm', quiet: true });
  const cores = availableParallelism();
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
  const bn = t([B, 18, 18, 16]);
  const gamma = t([16]);
  const big = t([1024, 1024]);
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
    ['BatchMatMul fc (forward)', 'BatchMatMul', { a: flat.reshape([1, B, 500]), b: fcW.reshape([1, 500, 50]) }, { transposeA: false, transposeB: false }, B * 500 * 50 * 2],
    ['BatchMatMul fc dW (transposeA)', 'BatchMatMul', { a: flat.reshape([1, B, 500]), b: dz.reshape([1, B, 50]) }, { transposeA: true, transposeB: false }, B * 500 * 50 * 2],
    ['BatchMatMul fc dx (transposeB)', 'BatchMatMul', { a: dz.reshape([1, B, 50]), b: fcW.reshape([1, 500, 50]) }, { transposeA: false, transposeB: true }, B * 500 * 50 * 2],
    ['Mean over batch and pixels (BatchNorm)', 'Mean', { x: bn }, { axis: [0, 1, 2], keepDims: false }, 0],
    ['Multiply by a per-channel vector (BatchNorm)', 'Multiply', { a: bn, b: gamma }, {}, 0],
    ['BatchMatMul 1024² (the matMul peak)', 'BatchMatMul', { a: big.reshape([1, 1024, 1024]), b: big.reshape([1, 1024, 1024]) }, { transposeA: false, transposeB: false }, 2 * 1024 ** 3],
  ];
  /** Median times of `fn` on every engine, interleaved (null where the engine cannot run). */
  const everyWay = (fn: () => void, n: number): Record<KernelEngineColumn, number | null> => {
    const ms = { plain: null, simd: null, native1: null, nativeAll: null } as Record<KernelEngineColumn, number | null>;
    for (const e of kernelEngines) if (useEngine(e, cores)) ms[e] = timeIt(fn, n, log);
    delete process.env.EXTRA_SIMD_KERNELS;
    delete process.env.EXTRA_NATIVE_KERNELS;
    setNativeThreads(1);
    return ms;
  };
  const kernels: KernelRow[] = [];
  for (const [label, name, inputs, attrs, flops] of cases) {
    const ms = everyWay(() => {
      tf.dispose([eng.runKernel<tf.Tensor | tf.Tensor[]>(name, inputs, attrs)].flat());
    }, 9);
    const gflops = Object.fromEntries(kernelEngines.map((e) => [e, flops && ms[e] ? +(flops / ms[e]! / 1e6).toFixed(1) : null])) as Record<KernelEngineColumn, number | null>;
    const round = Object.fromEntries(kernelEngines.map((e) => [e, ms[e] == null ? null : +ms[e]!.toFixed(2)])) as Record<KernelEngineColumn, number | null>;
    kernels.push({ kernel: label, ms: round, gflops });
    log(JSON.stringify(kernels[kernels.length - 1]));
  }
  const model = lenet();
  const params = initParams(model.params, 1);
  const whole = everyWay(gradientStep(model, params, tf.randomUniform([B, 36, 36, 1]), labels(B)), steps);
  log(JSON.stringify({ wholeStepMs: whole }));
  const peakRow = kernels[kernels.length - 1];
  return { peak: { nominalPerCore: nominalPeakPerCore(), matmul1: peakRow.gflops.native1, matmulAll: peakRow.gflops.nativeAll, cores }, kernels, whole };
}

const columnNames: Record<KernelEngineColumn, string> = { plain: 'tfjs-wasm', simd: 'wasm SIMD', native1: 'native, 1 thread', nativeAll: 'native, all cores' };

export function kernelTable(r: KernelResult): string {
  const ms = (v: number | null) => (v == null ? 'n/a' : String(v));
  const gf = (v: number | null) => (v == null ? '—' : String(v));
  const p = r.peak;
  return [
    `\nPer kernel, lenet-mtl at batch 256 (medians of 9; GFLOP/s count useful multiply-adds × 2). Peaks of this machine: nominal ${p.nominalPerCore ?? 'n/a'} GFLOP/s per core (2 FMA units × 8 lanes × 2 × clock), measured native matMul 1024² ${p.matmul1 ?? 'n/a'} GFLOP/s on 1 core and ${p.matmulAll ?? 'n/a'} on ${p.cores}.`,
    `| kernel | ${kernelEngines.map((e) => `${columnNames[e]} ms`).join(' | ')} | native vs wasm SIMD (1 thread) | ${kernelEngines.map((e) => `${columnNames[e]} GFLOP/s`).join(' | ')} |`,
    `|---|${kernelEngines.map(() => '---').join('|')}|---|${kernelEngines.map(() => '---').join('|')}|`,
    ...r.kernels.map((k) => `| ${k.kernel} | ${kernelEngines.map((e) => ms(k.ms[e])).join(' | ')} | ${k.ms.simd && k.ms.native1 ? `${(k.ms.simd / k.ms.native1).toFixed(2)}x` : 'n/a'} | ${kernelEngines.map((e) => gf(k.gflops[e])).join(' | ')} |`),
    `| whole step (forward + all gradients) | ${kernelEngines.map((e) => (r.whole[e] == null ? 'n/a' : r.whole[e]!.toFixed(1))).join(' | ')} | ${r.whole.simd && r.whole.native1 ? `${(r.whole.simd / r.whole.native1).toFixed(2)}x` : 'n/a'} | ${kernelEngines.map(() => '').join(' | ')} |`,
  ].join('\n');
}
