import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { buildModel, initParams, initParamValues, saveLayersModel, type FunctionalModel, type ModelSpec } from '../models/index.js';
import { getObjective, type Objective } from '../objectives/index.js';
import { writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import type { Batch, LabelledSplit } from './batches.js';
import { evaluateSplit, byTaskName, type TaskMetrics } from './evaluate.js';
import { recomputeStatistics, STATISTICS_ROWS } from './statistics.js';
import { makeProgress } from './progress.js';
import { taskLoss } from './losses.js';
import { perTaskGradients } from './per-task-gradients.js';
import { runTrainingLoop, type LoopConfig, type StepResult, type Trainable, type EpochRecord } from './loop.js';
import { unflattenGradient, withPool, type GradientPool } from '../parallel/pool.js';
import { endpointProgramSpec } from './endpoint-program.js';
import { readFileSync } from 'node:fs';
import { ExtraInputError } from '../errors.js';
import { importOnnx } from '../models/onnx/import.js';
import { valuesFromStateDict } from '../models/state-dict.js';

export interface EndpointData {
  inputShape: number[];
  taskNames: string[];
  train: LabelledSplit;
  val: LabelledSplit;
  test: LabelledSplit;
}

export interface EndpointConfig extends Omit<LoopConfig, 'label'> {
  /** endpoint directory: the model (model.json + weights.bin, the tfjs layers format's own names) */
  dir: string;
  /** where the metrics go (the run store's layout says where; the loop's checkpoint and log likewise) */
  metricsFile: string;
  id: string;
  spec: ModelSpec;
  method: string;
  methodOptions?: Record<string, number>;
  preference: number[];
  evalBatchSize?: number;
  /**
   * start every task head from the same values (same-shaped heads only). The grouping warm-up uses it:
   * with independent random heads, trunk gradients of tasks with identical labels are orthogonal.
   */
  tieHeadInit?: boolean;
  /** start from the weights of this ONNX file (the run's model came from it) instead of a seeded init */
  initialOnnx?: string;
  /** start from these parameter values (model order): a point of a curve, tuned by `query --tune` */
  initial?: Float32Array[];
  /** extra fields recorded in metrics.json (data fingerprint, backend, ...) */
  record?: Record<string, unknown>;
  /**
   * worker threads splitting every batch (data parallelism, src/parallel); 1 = this thread only.
   * The same seed and thread count give bit-identical checkpoints; another count changes the float
   * summation order of the gradients.
   */
  threads?: number;
}

export interface EndpointResult {
  dir: string;
  params: tf.Tensor[];
  history: EpochRecord[];
  val: Record<string, TaskMetrics>;
  test: Record<string, TaskMetrics>;
  seconds: number;
}

type JsonState = Record<string, unknown>;

/** Everything one optimizer step of an endpoint needs. */
interface StepContext {
  model: FunctionalModel;
  objective: Objective;
  params: readonly tf.Tensor[];
  batch: Batch;
  preference: number[];
  state: JsonState;
  step: number;
  options?: Record<string, number>;
}

/** Gradients of Σ_k w_k L_k where the weights come from a scalarization plug-in. */
function scalarizedStep({ model, objective, params, batch, preference, state, step, options }: StepContext): StepResult {
  if (objective.needsGradients) throw new Error(`${objective.name} needs per-task gradients: use aggregatedStep`);
  let lossValues: number[] = [];
  const { grads } = tf.valueAndGrads((...p: tf.Tensor[]) => {
    const outs = model.forward(p, batch.x);
    const losses = outs.map((o, k) => taskLoss(model.losses[k], o, batch.y[k]));
    lossValues = losses.map((l) => l.dataSync()[0]);
    const { taskWeights } = objective.aggregate({ losses: lossValues, preference, state, step }, options);
    return tf.addN(losses.map((l, k) => tf.mul(l, taskWeights[k]))) as tf.Scalar;
  })(params as tf.Tensor[]);
  return { grads, losses: lossValues };
}

/**
 * Gradient-aggregation step (MGDA, CAGrad, ...): per-task trunk gradients handed to the plug-in as
 * flat vectors, its direction written back. Head parameters get their own task's gradient, as in LibMTL.
 */
function aggregatedStep({ model, objective, params, batch, preference, state, step, options }: StepContext): StepResult {
  if (!objective.needsGradients) throw new Error(`${objective.name} needs only the losses: use scalarizedStep`);
  const { losses, perTask, shared: flat, sharedIdx } = perTaskGradients(model, params, batch);
  const sam = objective.flatness ? flatnessGradients(model, params, batch, perTask, sharedIdx, options?.rho ?? objective.defaults.rho ?? 0.05) : null;
  const res = objective.aggregate({ losses, grads: flat, ...(sam ? { flat: sam.flat } : {}), preference, state, step }, options);
  const dir = res.direction ?? combine(flat, res.taskWeights);
  const out: tf.Tensor[] = new Array(params.length);
  let off = 0;
  for (const i of sharedIdx) {
    const n = params[i].size;
    out[i] = tf.tensor(Float32Array.from(dir.subarray(off, off + n)), params[i].shape);
    off += n;
  }
  model.params.forEach((p, i) => {
    // heads: their own task's gradient (at their sharpness-aware point for flat-region methods)
    if (!p.shared) out[i] = sam ? sam.heads[i]! : perTask[p.task ?? 0][i]!.clone();
  });
  perTask.forEach((g) => g.forEach((t) => t?.dispose()));
  return { grads: out, losses };
}

/**
 * Flat-region MTL's second stage: for each task, its shared parameters moved by ρ·g_k/‖g_k‖ and its head
 * by ρ·(head gradient)/‖head gradient‖, the task's gradient there. Returns h_k = that shared gradient − g_k
 * (float64, flattened as the aggregators see them) and each head's gradient at its perturbed point.
 */
function flatnessGradients(model: FunctionalModel, params: readonly tf.Tensor[], batch: Batch, perTask: (tf.Tensor | undefined)[][], sharedIdx: number[], rho: number): { flat: Float64Array[]; heads: (tf.Tensor | undefined)[] } {
  const heads: (tf.Tensor | undefined)[] = new Array(params.length);
  const norm = (ts: tf.Tensor[]) => Math.sqrt(tf.tidy(() => ts.reduce((s, t) => s + tf.sum(tf.square(t)).dataSync()[0], 0)));
  const flat = perTask.map((g, k) => {
    const own = model.params.map((p, i) => (!p.shared && p.task === k ? i : -1)).filter((i) => i >= 0);
    const idx = [...sharedIdx, ...own];
    const sharedScale = rho / (norm(sharedIdx.map((i) => g[i]!)) + 1e-12);
    const headScale = rho / (norm(own.map((i) => g[i]!)) + 1e-12);
    const perturbed = params.map((p, i) => (sharedIdx.includes(i) ? tf.add(p, tf.mul(g[i]!, sharedScale)) : own.includes(i) ? tf.add(p, tf.mul(g[i]!, headScale)) : p));
    const { value, grads } = tf.valueAndGrads((...sub: tf.Tensor[]) => {
      const full = [...perturbed];
      idx.forEach((i, q) => (full[i] = sub[q]));
      return taskLoss(model.losses[k], model.forward(full, batch.x)[k], batch.y[k]);
    })(idx.map((i) => perturbed[i]));
    value.dispose();
    perturbed.forEach((t, i) => t !== params[i] && t.dispose());
    own.forEach((i, q) => (heads[i] = grads[sharedIdx.length + q]));
    const h = tf.tidy(() => tf.concat(sharedIdx.map((i, q) => tf.sub(grads[q], g[i]!).reshape([-1]))));
    grads.slice(0, sharedIdx.length).forEach((t) => t.dispose());
    const out = Float64Array.from(h.dataSync());
    h.dispose();
    return out;
  });
  return { flat, heads };
}

/**
 * The same step as scalarizedStep / aggregatedStep, computed by a pool of worker threads on shards of
 * the batch: full-batch losses decide the task weights (or the aggregator sees full-batch per-task
 * gradients), so the update does not depend on how the batch was split.
 */
async function pooledStep(pool: GradientPool, { model, objective, params, batch, preference, state, step, options }: StepContext): Promise<StepResult> {
  if (!batch.raw) throw new Error('data-parallel step needs the batch as plain arrays');
  const values = params.map((p) => p.dataSync() as Float32Array);
  const shapes = model.params.map((p) => p.shape);
  const r = await pool.step(values, { x: batch.raw.x, y: batch.raw.y, size: batch.size }, {}, (losses) => (objective.needsGradients ? [] : objective.aggregate({ losses, preference, state, step }, options).taskWeights));
  if (!objective.needsGradients) return { grads: unflattenGradient(r.grads[0], shapes), losses: r.losses };
  const offsets: number[] = [];
  let off = 0;
  for (const s of shapes) {
    offsets.push(off);
    off += s.reduce((a, b) => a * b, 1);
  }
  const sharedIdx = model.params.map((p, i) => (p.shared ? i : -1)).filter((i) => i >= 0);
  const flat = r.grads.map((g) => {
    const parts = sharedIdx.map((i) => g.subarray(offsets[i], offsets[i] + params[i].size));
    const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  });
  const res = objective.aggregate({ losses: r.losses, grads: flat, preference, state, step }, options);
  const dir = res.direction ?? combine(flat, res.taskWeights);
  const out: tf.Tensor[] = new Array(params.length);
  let d = 0;
  for (const i of sharedIdx) {
    const n = params[i].size;
    out[i] = tf.tensor(Float32Array.from(dir.subarray(d, d + n)), shapes[i]);
    d += n;
  }
  model.params.forEach((p, i) => {
    if (!p.shared) {
      const g = r.grads[p.task ?? 0];
      out[i] = tf.tensor(Float32Array.from(g.subarray(offsets[i], offsets[i] + params[i].size)), shapes[i]);
    }
  });
  return { grads: out, losses: r.losses };
}

function combine(grads: Float64Array[], w: number[]): Float64Array {
  const d = new Float64Array(grads[0].length);
  grads.forEach((g, k) => {
    for (let i = 0; i < d.length; i++) d[i] += w[k] * g[i];
  });
  return d;
}

/** Initial parameters with every head a copy of head 0 (shapes must agree). */
function tiedHeadParams(model: FunctionalModel, seed: number): tf.Tensor[] {
  const values = initParamValues(model.params, seed);
  const head0 = model.params.map((p, i) => (p.task === 0 ? i : -1)).filter((i) => i >= 0);
  model.params.forEach((p, i) => {
    if (p.shared || !p.task) return;
    const src = head0[model.params.filter((q, j) => q.task === p.task && j < i).length];
    if (values[src].length === values[i].length) values[i] = values[src].slice();
  });
  return values.map((v, i) => tf.tensor(v, model.params[i].shape));
}

export async function trainEndpoint(cfg: EndpointConfig, data: EndpointData): Promise<EndpointResult> {
  const t0 = performance.now();
  const model = buildModel(cfg.spec);
  const objective = getObjective(cfg.method);
  const evalBs = cfg.evalBatchSize ?? 1000;
  const K = cfg.spec.numClasses.length;
  // flat-region methods need per-task gradients at perturbed points: they run on this thread
  const pool =
    objective.needsGradients && objective.flatness
      ? null
      : {
          size: cfg.threads ?? 1,
          program: endpointProgramSpec(cfg.spec),
          shape: {
            sizes: model.params.map((p) => p.shape.reduce((a, b) => a * b, 1)),
            rowSize: data.inputShape.reduce((a, b) => a * b, 1),
            maxBatch: cfg.batchSize,
            numTasks: K,
            labelShapes: model.labelShapes,
            numLosses: K,
            mode: objective.needsGradients ? ('per-task' as const) : ('scalar' as const),
          },
        };
  return withPool(pool, (p) => withLock(cfg.dir, `endpoint ${cfg.id}`, () => trainWith(cfg, data, model, objective, evalBs, p, t0), { keepIfAny: [cfg.checkpointFile, cfg.metricsFile] }));
}

/** The parameters an ONNX file holds, for the model made from it. */
function onnxWeights(model: FunctionalModel, file: string): tf.Tensor[] {
  const imp = importOnnx(new Uint8Array(readFileSync(file)), file);
  const r = valuesFromStateDict(model, imp.weights);
  if (r.problems.length) throw new ExtraInputError(`${file} does not hold the run's model: ${r.problems.slice(0, 5).join('; ')}`);
  return r.params;
}

/** What an endpoint's evaluation does, for the progress output: BatchNormalization statistics first, where the model has them. */
function evaluationNote(model: FunctionalModel, data: EndpointData): string {
  const val = `${data.val.n} validation rows`;
  return model.statistics.length ? `BatchNormalization statistics recomputed over ${Math.min(data.train.n, STATISTICS_ROWS)} training rows, then ${val}` : val;
}

async function trainWith(cfg: EndpointConfig, data: EndpointData, model: FunctionalModel, objective: Objective, evalBs: number, pool: GradientPool | null, t0: number): Promise<EndpointResult> {
  // a holder, so the closure's writes are visible to the type checker after the loop
  const kept: { last: { tensors: readonly tf.Tensor[]; statistics: tf.Tensor[]; val: Record<string, TaskMetrics> } | null } = { last: null };
  const trainable: Trainable<JsonState> = {
    names: model.params.map((p) => p.name),
    shapes: model.params.map((p) => p.shape),
    init: () => (cfg.initial ? cfg.initial.map((v, i) => tf.tensor(v, model.params[i].shape)) : cfg.initialOnnx ? onnxWeights(model, cfg.initialOnnx) : cfg.tieHeadInit ? tiedHeadParams(model, cfg.seed) : initParams(model.params, cfg.seed)),
    initialState: () => ({}),
    step: (tensors, batch, state, ctx) => {
      const c: StepContext = {
        model,
        objective,
        params: tensors,
        batch,
        preference: cfg.preference,
        state,
        step: ctx.epoch * 1_000_000 + ctx.step,
        options: cfg.methodOptions,
      };
      if (pool) return pooledStep(pool, c);
      return (objective.needsGradients ? aggregatedStep : scalarizedStep)(c);
    },
    evaluate: (tensors) => {
      // kept for the end: the last epoch's evaluation is at the final weights, so its statistics and
      // validation metrics are the endpoint's own (recomputing them costs a third of an epoch on a ResNet)
      if (kept.last) tf.dispose(kept.last.statistics);
      const statistics = recomputeStatistics(model, tensors, data.train);
      const val = byTaskName(data.taskNames, evaluateSplit(model, tensors, data.val, evalBs, statistics));
      kept.last = { tensors, statistics, val };
      return { val };
    },
    evaluationNote: evaluationNote(model, data),
  };
  const after = objective.afterStep;
  if (after) {
    // one more forward pass on the same batch, at the updated parameters
    trainable.afterUpdate = (tensors, batch, state, before, ctx) => {
      const losses = tf.tidy(() => model.forward(tensors, batch.x).map((o, k) => taskLoss(model.losses[k], o, batch.y[k]).dataSync()[0]));
      const next = after({ before, after: losses, preference: cfg.preference, state, step: ctx.epoch * 1_000_000 + ctx.step }, cfg.methodOptions);
      // the loop checkpoints this object: replace its contents with the method's new state
      for (const k of Object.keys(state)) delete state[k];
      Object.assign(state, next);
    };
  }
  const loop = await runTrainingLoop(
    {
      ...cfg,
      label: cfg.id,
    },
    data.train,
    data.inputShape,
    trainable,
  );
  // a BatchNormalization model is evaluated and saved with the statistics of its final weights: those
  // of the last epoch's evaluation when it ran at them (not after a --resume of a finished training)
  const f0 = performance.now();
  const reuse = kept.last?.tensors === loop.tensors ? kept.last : null;
  if (kept.last && !reuse) tf.dispose(kept.last.statistics);
  const statistics = reuse ? reuse.statistics : recomputeStatistics(model, loop.tensors, data.train);
  const val = reuse ? reuse.val : byTaskName(data.taskNames, evaluateSplit(model, loop.tensors, data.val, evalBs, statistics));
  const test = byTaskName(data.taskNames, evaluateSplit(model, loop.tensors, data.test, evalBs, statistics));
  const f1 = performance.now();
  await saveLayersModel(cfg.dir, cfg.spec, loop.tensors, { endpoint: { id: cfg.id, method: cfg.method, preference: cfg.preference } }, statistics);
  tf.dispose(statistics);
  const seconds = (performance.now() - t0) / 1000;
  const finalWork = reuse ? `test split (${data.test.n} rows) ${((f1 - f0) / 1000).toFixed(1)} s with the last epoch's ${model.statistics.length ? 'statistics and ' : ''}validation` : `${evaluationNote(model, data)} and ${data.test.n} test rows ${((f1 - f0) / 1000).toFixed(1)} s`;
  makeProgress(cfg.id, cfg.progress).done(`final evaluation: ${finalWork}; model saved in ${((performance.now() - f1) / 1000).toFixed(1)} s`);
  await writeJsonAtomic(cfg.metricsFile, {
    id: cfg.id,
    method: cfg.method,
    methodOptions: cfg.methodOptions ?? {},
    preference: cfg.preference,
    epochs: cfg.epochs,
    batchSize: cfg.batchSize,
    lr: cfg.lr,
    optimizer: cfg.optimizer,
    schedule: cfg.schedule,
    seed: cfg.seed,
    val,
    test,
    seconds,
    resumedFromEpoch: loop.resumedFromEpoch,
    ...cfg.record,
  });
  return { dir: cfg.dir, params: loop.tensors, history: loop.history, val, test, seconds };
}
