import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { selectBackend } from '../backend/index.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildModel, defaultModelSpec, graphModelSpec, initParams, type ModelSpec, type ParamSpec } from '../models/index.js';
import { importOnnx, onnxModelSpec } from '../models/onnx/import.js';
import { taskKind } from '../tasks/index.js';
import { softmaxCrossEntropy, optimizerInit, optimizerStep, type OptimizerConfig } from '../train/index.js';
import { endpointProgramSpec } from '../train/endpoint-program.js';
import { makeGeometry, initTrainable, curveLossFn, trainableShapes, curveObjectiveCoefficients, type WeightCurve } from '../curves/index.js';
import { curveProgramSpec, type CurveLossConfig } from '../curves/program-spec.js';
import { GradientPool, unflattenGradient, threadsInsideKernels, withKernelThreads } from '../parallel/pool.js';
import { median } from './stats.js';

/**
 * One model's training-step throughput (forward + gradients + Adam) for `extra bench train`: in this
 * thread (threads 1), or split over a data-parallel GradientPool (threads ≥ 2). Runs in the benchmark's
 * worker threads (./train-worker.ts), so a job and its result cross a thread boundary: both have schemas.
 */
export const stepJobSchema = z.object({
  /**
   * segnet: segnet-mtl on dense-digits-shaped data (32×32×1; seg 11 classes, depth, normals; the three per-pixel losses, ⅓ each);
   * resnet18 / vit: scripts/torch_models.py's two-task networks on 64×64×3, imported from the ONNX file PyTorch wrote (`onnx`)
   */
  model: z.enum(['lenet', 'mlp', 'residual-bn', 'segnet', 'resnet18', 'vit']),
  onnx: z.string().optional(),
  /** 'endpoint' (Σ ½ L_k), 'curve' (NURBS, 4 control points, m = 2 values of t on the whole batch, α = 0.5), 'curve-split' (each t on half the batch) */
  kind: z.enum(['endpoint', 'curve', 'curve-split']).default('endpoint'),
  batch: z.number().int().positive().default(256),
  steps: z.number().int().positive().default(10),
  backend: z.string().default('wasm'),
  threads: z.number().int().positive().default(1),
});
export type StepJob = z.input<typeof stepJobSchema>;

export const stepResultSchema = z.object({ samplesPerSec: z.number(), msPerStep: z.number() });
export type StepResult = z.infer<typeof stepResultSchema>;

/** examples/residual-bn/model.json (a graph with BatchNormalization and a residual block), from src/ or dist/ */
const residualBnFile = fileURLToPath(new URL('../../examples/residual-bn/model.json', import.meta.url));

/** The models read from an ONNX file PyTorch exported (their rows need PyTorch to exist). */
export const onnxBenchModels: readonly StepJob['model'][] = ['resnet18', 'vit'];

export function specFor(model: StepJob['model'], onnx?: string): ModelSpec {
  const data = { inputShape: [36, 36, 1], numClasses: [10, 10], taskNames: ['a', 'b'] };
  switch (model) {
    case 'resnet18':
    case 'vit': {
      if (!onnx) throw new Error(`bench train: the ${model} row reads the ONNX file PyTorch exported, and none was given`);
      return onnxModelSpec(importOnnx(new Uint8Array(readFileSync(onnx)), onnx), onnx, { ...data, inputShape: [64, 64, 3] });
    }
    case 'lenet':
      return defaultModelSpec('lenet-mtl', data.inputShape, data.numClasses, data.taskNames);
    case 'mlp':
      return defaultModelSpec('mlp-mtl', data.inputShape, data.numClasses, data.taskNames, [256, 256]);
    case 'residual-bn':
      return graphModelSpec(JSON.parse(readFileSync(residualBnFile, 'utf8')) as unknown, residualBnFile, data);
    case 'segnet':
      return defaultModelSpec('segnet-mtl', [32, 32, 1], [...segnetHeads.classes], [...segnetHeads.tasks], undefined, [...segnetHeads.tasks]);
  }
}

/** The dense-digits shape of the segnet row: three per-pixel tasks and their output channels. */
const segnetHeads = { tasks: ['seg', 'depth', 'normal'] as const, classes: [11, 1, 3] as const };

/** One segnet-mtl gradient step's closure: random 32×32×1 inputs, labels of each per-pixel kind, the three losses at ⅓ each. */
function segnetGradient(batch: number): { params: ParamSpec[]; grad: Gradient; dispose: () => void } {
  const m = buildModel(specFor('segnet'));
  const n = batch * 32 * 32;
  const x = tf.randomUniform([batch, 32, 32, 1], 0, 1, 'float32', 1);
  const seg = tf.tensor(Int32Array.from({ length: n }, (_, i) => (i * 7 + (i >> 5)) % 11), [batch, 32, 32], 'int32');
  const depth = tf.randomUniform([batch, 32, 32], 0.5, 5, 'float32', 2);
  const normal = tf.tidy(() => {
    const v = tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 3);
    return tf.div(v, tf.norm(v, 'euclidean', -1, true));
  });
  const labels = [seg, depth, normal];
  const loss = (...p: tf.Tensor[]): tf.Tensor => {
    const o = m.forward(p, x);
    return tf.addN(segnetHeads.tasks.map((kind, k) => tf.mul(taskKind(kind).loss(o[k], labels[k], { classes: segnetHeads.classes[k] }), 1 / 3)));
  };
  return { params: m.params, grad: async (ts) => tf.tidy(() => tf.grads(loss)(ts)), dispose: () => [x, ...labels].forEach((t) => t.dispose()) };
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A float32 tensor's values, as the pool takes them (no copy). */
function values(t: tf.Tensor): Float32Array {
  const d = t.dataSync();
  if (!(d instanceof Float32Array)) throw new Error(`bench train: a ${t.dtype} tensor where float32 values were expected`);
  return d;
}

type Gradient = (trainable: tf.Tensor[], step: number) => Promise<tf.Tensor[]>;

/**
 * Median step time of `steps` timed steps after 2 warm-ups; threads ≥ 2 go inside the kernels where
 * the native kernels run (as in training), else to a data-parallel pool.
 */
export async function measureSteps(job: StepJob): Promise<StepResult> {
  const parsed = stepJobSchema.parse(job);
  await selectBackend({ prefer: parsed.backend, quiet: true });
  if (parsed.threads > 1 && threadsInsideKernels()) return withKernelThreads(parsed.threads, () => measureStepsOn({ ...parsed, threads: 1 }));
  return measureStepsOn(parsed);
}

async function measureStepsOn(job: z.infer<typeof stepJobSchema>): Promise<StepResult> {
  const { model, kind, batch, steps, backend, threads, onnx } = job;
  if (model === 'segnet') {
    // the data-parallel pool carries per-sample labels only; 2 threads here are the native kernels' own
    if (kind !== 'endpoint' || threads > 1) throw new Error('bench train: the segnet row is an endpoint step, threads inside the native kernels');
    const g = segnetGradient(batch);
    try {
      return await timeSteps(initParams(g.params, 1), g.grad, steps, batch);
    } finally {
      g.dispose();
    }
  }
  const spec = specFor(model, onnx);
  const m = buildModel(spec);
  const rowSize = size(spec.inputShape);
  const xv = Float32Array.from(tf.randomUniform([batch * rowSize], 0, 1, 'float32', 1).dataSync());
  const yv = [Int32Array.from({ length: batch }, (_, i) => i % 10), Int32Array.from({ length: batch }, (_, i) => (7 * i) % 10)];
  const x = tf.tensor(xv, [batch, ...spec.inputShape]);
  const y = yv.map((v) => tf.tensor1d(v, 'int32'));
  const cfgLoss: CurveLossConfig = { alpha: 0.5, l2: 0, orientation: { taskA: 0, taskB: 1 }, splitBatch: kind === 'curve-split' };
  const tsAt = (u: number) => [0.25 + 0.1 * (u % 3), 0.7 + 0.05 * (u % 5)];
  const isCurve = kind !== 'endpoint';
  let tensors: tf.Tensor[];
  let grad: Gradient | null = null;
  let pool: GradientPool | null = null;
  if (!isCurve) {
    tensors = initParams(m.params, 1);
    if (threads > 1) {
      pool = await GradientPool.start(threads, backend, endpointProgramSpec(spec), { sizes: m.params.map((p) => size(p.shape)), rowSize, maxBatch: batch, numTasks: 2, numLosses: 2, mode: 'scalar' });
    } else {
      const loss = (...p: tf.Tensor[]): tf.Tensor => {
        const o = m.forward(p, x);
        return tf.add(tf.mul(softmaxCrossEntropy(o[0], y[0]), 0.5), tf.mul(softmaxCrossEntropy(o[1], y[1]), 0.5));
      };
      grad = async (ts) => tf.tidy(() => tf.grads(loss)(ts));
    }
  } else {
    const curve: WeightCurve = { geometry: makeGeometry('nurbs', 4, 3), paramNames: m.params.map((p) => p.name), ends: [initParams(m.params, 1), initParams(m.params, 2)] };
    tensors = initTrainable(curve);
    if (threads > 1) {
      pool = await GradientPool.start(threads, backend, curveProgramSpec(spec, curve, cfgLoss), {
        sizes: trainableShapes(curve).map(size),
        rowSize,
        maxBatch: batch,
        numTasks: 2,
        numLosses: 4,
        mode: 'scalar',
        lossRows: cfgLoss.splitBatch ? { parts: 2, perPart: 2 } : undefined,
      });
    } else {
      grad = async (ts, u) => tf.tidy(() => tf.grads(curveLossFn(m, curve, cfgLoss, x, y, tsAt(u), () => {}))(ts));
    }
  }
  if (pool) {
    const p = pool;
    grad = async (ts, u) => {
      const t = tsAt(u);
      const r = await p.step(ts.map(values), { x: xv, y: yv, size: batch }, isCurve ? { ts: t } : {}, (L) => (isCurve ? curveObjectiveCoefficients(cfgLoss, t, L) : [0.5, 0.5]));
      return unflattenGradient(r.grads[0], ts.map((q) => q.shape));
    };
  }
  if (!grad) throw new Error('bench train: no gradient for this job');
  const r = await timeSteps(tensors, grad, steps, batch);
  await pool?.close();
  return r;
}

/** Median time of `steps` forward + gradient + Adam steps after 2 warm-ups (the tensors are consumed). */
async function timeSteps(start: tf.Tensor[], grad: Gradient, steps: number, batch: number): Promise<StepResult> {
  let tensors = start;
  const cfg: OptimizerConfig = { name: 'adam' };
  let opt = optimizerInit(cfg, tensors);
  const times: number[] = [];
  for (let s = 0; s < steps + 2; s++) {
    const t0 = performance.now();
    const grads = await grad(tensors, s);
    const next = optimizerStep(cfg, opt, tensors, grads, 1e-3);
    next.params[0].dataSync();
    grads.forEach((g) => g.dispose());
    tensors.forEach((t) => t.dispose());
    tensors = next.params;
    opt = next.state;
    if (s >= 2) times.push(performance.now() - t0);
  }
  tensors.forEach((t) => t.dispose());
  return { samplesPerSec: (batch * 1000) / median(times), msPerStep: median(times) };
}
