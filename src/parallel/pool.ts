import * as tf from '@tensorflow/tfjs';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { ExtraInputError } from '../errors.js';
import { currentBackend, kernelEngine, nativeThreads, setNativeThreads } from '../backend/index.js';
import { compiledFile, type ShardProgramSpec } from './program.js';
import { lossShardWeight, labelLayout, type LossRows } from './shards.js';
import type { Labels } from '../data/types.js';

/**
 * Data parallelism inside one training: every batch is split into W contiguous shards, one per worker
 * thread (each with its own tfjs-wasm instance, since tfjs-wasm runs one thread per instance in Node).
 * Parameters, the batch, losses and gradients travel through SharedArrayBuffers; only tiny control
 * messages are posted.
 *
 * A step has two phases inside ONE forward/backward pass of each worker:
 *  1. each worker computes its shard's loss vector L^s (per task, or per task and t for a curve) and
 *     then blocks (Atomics.wait) inside its gradient function;
 *  2. the main thread forms the full-batch losses L = Σ_s (n_s/n) L^s, asks the caller for the
 *     coefficients c = ∂objective/∂L (task weights of a scalarization, or the derivative of the curve
 *     objective with its order term), publishes them, and each worker back-propagates
 *     Σ_j c_j (n_s/n) L^s_j. Summing the workers' gradients gives exactly the full-batch gradient of
 *     any objective that is a function of full-batch mean losses.
 * Gradient-aggregation methods (MGDA, CAGrad, ...) instead get per-task gradients from every shard.
 *
 * Determinism: shards are fixed by row index and gradients are summed in shard order (in float64), so
 * the same seed and the same number of workers give bit-identical results whatever the thread timing.
 * A different worker count changes the float summation order (results differ in the last bits).
 */

export interface PoolShape {
  /** flat sizes of the trainable tensors, in order */
  sizes: number[];
  /** values per input row, and the largest batch */
  rowSize: number;
  maxBatch: number;
  numTasks: number;
  /** length of the loss vector a shard reports */
  numLosses: number;
  /** 'scalar': one gradient of Σ c_j L_j; 'per-task': one gradient per task (aggregators) */
  mode: 'scalar' | 'per-task';
  /** which rows each loss averages over (default: the whole batch) */
  lossRows?: LossRows;
  /** per task, the labels' shape per sample (absent or []: one label per sample) */
  labelShapes?: number[][];
}


export interface ShardBatch {
  /** rows × rowSize inputs and one label array per task */
  x: Float32Array;
  y: Labels[];
  size: number;
}

export interface PoolStepResult {
  /** full-batch loss vector */
  losses: number[];
  /** 'scalar': one flat gradient (float64 sums); 'per-task': one flat gradient per task */
  grads: Float64Array[];
}

/** Threads for data parallelism: the machine's cores divided among `concurrent` trainings. */
export function defaultThreads(concurrent = 1): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, concurrent)));
}

/** The compiled gradient worker (dist/parallel/gradient-worker.js). */
export const workerFile = compiledFile(new URL('./gradient-worker.js', import.meta.url));

/**
 * Whether worker threads can share the work: the compiled worker exists and the backend runs in this
 * process's memory (wasm, cpu). tfjs-node(-gpu) already uses every core inside TensorFlow, and its
 * native addon is not meant to be loaded once per worker thread.
 */
export function dataParallelAvailable(backend: string | null = currentBackend()): boolean {
  return workerFile !== null && (backend === 'wasm' || backend === 'cpu');
}

/** The messages between the pool and its workers. */
export type ToWorker = { type: 'step'; gen: number; n: number; inputs: Record<string, unknown> };
export type FromWorker = { type: 'ready' } | { type: 'losses'; gen: number } | { type: 'done'; gen: number } | { type: 'error'; message: string; inputError: boolean };

export interface WorkerSetup {
  backend: string;
  program: ShardProgramSpec;
  index: number;
  workers: number;
  shape: PoolShape;
  buffers: {
    params: SharedArrayBuffer;
    x: SharedArrayBuffer;
    y: SharedArrayBuffer;
    losses: SharedArrayBuffer;
    coef: SharedArrayBuffer;
    grads: SharedArrayBuffer;
    ctrl: SharedArrayBuffer;
  };
}

export class GradientPool {
  private readonly workers: Worker[] = [];
  private readonly params: Float32Array;
  private readonly x: Float32Array;
  // one shared buffer for the labels, seen as class indices or as real targets per task
  private readonly y: Int32Array;
  private readonly yReal: Float32Array;
  private readonly losses: Float64Array;
  private readonly coef: Float64Array;
  private readonly grads: Float32Array;
  private readonly ctrl: Int32Array;
  private readonly totalSize: number;
  private gen = 0;
  private waiting: { kind: 'losses' | 'done'; left: number; resolve: () => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  private constructor(
    readonly shape: PoolShape,
    readonly size: number,
  ) {
    this.totalSize = shape.sizes.reduce((a, b) => a + b, 0);
    const f32 = (n: number) => new Float32Array(new SharedArrayBuffer(4 * Math.max(1, n)));
    this.params = f32(this.totalSize);
    this.x = f32(shape.maxBatch * shape.rowSize);
    this.y = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, labelLayout(shape).total)));
    this.yReal = new Float32Array(this.y.buffer);
    this.losses = new Float64Array(new SharedArrayBuffer(8 * Math.max(1, size * shape.numLosses)));
    this.coef = new Float64Array(new SharedArrayBuffer(8 * Math.max(1, shape.numLosses)));
    const perWorker = this.totalSize * (shape.mode === 'per-task' ? shape.numTasks : 1);
    this.grads = f32(size * perWorker);
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * 4));
  }

  /** Start `size` workers running `program`; resolves once every worker has built its model. */
  static async start(size: number, backend: string, program: ShardProgramSpec, shape: PoolShape): Promise<GradientPool> {
    const pool = new GradientPool(shape, size);
    const buffers = {
      params: pool.params.buffer as SharedArrayBuffer,
      x: pool.x.buffer as SharedArrayBuffer,
      y: pool.y.buffer as SharedArrayBuffer,
      losses: pool.losses.buffer as SharedArrayBuffer,
      coef: pool.coef.buffer as SharedArrayBuffer,
      grads: pool.grads.buffer as SharedArrayBuffer,
      ctrl: pool.ctrl.buffer as SharedArrayBuffer,
    };
    const ready = Array.from({ length: size }, (_, index) => {
      const setup: WorkerSetup = { backend, program, index, workers: size, shape, buffers };
      if (!workerFile) throw new Error('data-parallel worker not built (npm run build)');
      const w = new Worker(workerFile, { workerData: setup });
      pool.workers.push(w);
      return new Promise<void>((resolve, reject) => {
        const onFirst = (m: FromWorker) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'error') reject(m.inputError ? new ExtraInputError(m.message) : new Error(`gradient worker ${index}: ${m.message}`));
          w.off('message', onFirst);
          w.on('message', (msg: FromWorker) => pool.onMessage(index, msg));
        };
        w.on('message', onFirst);
        w.on('error', (e) => {
          reject(e);
          pool.fail(e);
        });
        w.on('exit', (code) => {
          if (code !== 0) pool.fail(new Error(`gradient worker ${index} exited with code ${code}`));
        });
      });
    });
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private onMessage(index: number, m: FromWorker): void {
    if (m.type === 'error') {
      this.fail(m.inputError ? new ExtraInputError(m.message) : new Error(`gradient worker ${index}: ${m.message}`));
      return;
    }
    const w = this.waiting;
    if (!w || (m.type !== w.kind) || ('gen' in m && m.gen !== this.gen)) return;
    if (--w.left === 0) {
      this.waiting = null;
      w.resolve();
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(e);
  }

  private expect(kind: 'losses' | 'done'): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { kind, left: this.size, resolve, reject }));
  }

  /**
   * One data-parallel gradient. `coefficients` maps the full-batch loss vector to c (scalar mode;
   * ignored in per-task mode). `inputs` is passed to every worker's program (e.g. the values of t).
   */
  async step(
    params: Float32Array[],
    batch: ShardBatch,
    inputs: Record<string, unknown>,
    coefficients: (losses: number[]) => number[],
  ): Promise<PoolStepResult> {
    const { shape } = this;
    if (batch.size > shape.maxBatch) throw new Error(`batch of ${batch.size} rows exceeds the pool's ${shape.maxBatch}`);
    let off = 0;
    for (const p of params) {
      this.params.set(p, off);
      off += p.length;
    }
    this.x.set(batch.x.subarray(0, batch.size * shape.rowSize));
    const layout = labelLayout(shape);
    batch.y.forEach((labels, k) => (labels instanceof Float32Array ? this.yReal : this.y).set(labels.subarray(0, batch.size * layout.sizes[k]), layout.offsets[k]));
    this.gen++;
    const gen = this.gen;
    const lossesIn = shape.mode === 'scalar' ? this.expect('losses') : null;
    const doneIn = shape.mode === 'scalar' ? null : this.expect('done');
    for (const w of this.workers) w.postMessage({ type: 'step', gen, n: batch.size, inputs } satisfies ToWorker);
    const L = new Array<number>(shape.numLosses).fill(0);
    const rows = shape.lossRows ?? { parts: 1, perPart: shape.numLosses };
    const gatherLosses = () => {
      for (let s = 0; s < this.size; s++) {
        for (let j = 0; j < shape.numLosses; j++) {
          const wgt = lossShardWeight(batch.size, this.size, s, j, rows);
          if (wgt > 0) L[j] += wgt * this.losses[s * shape.numLosses + j];
        }
      }
    };
    if (lossesIn) {
      await lossesIn;
      gatherLosses();
      let c = L.every(Number.isFinite) ? coefficients(L) : [];
      if (c.length !== shape.numLosses || c.some((v) => !Number.isFinite(v))) {
        // diverged (non-finite losses or coefficients): release the workers with zero coefficients and
        // report non-finite losses, so the training loop stops with its own message
        c = new Array<number>(shape.numLosses).fill(0);
        L.fill(NaN);
      }
      this.coef.set(c);
      const done = this.expect('done');
      Atomics.store(this.ctrl, 0, gen);
      Atomics.notify(this.ctrl, 0);
      await done;
    } else {
      await doneIn;
      gatherLosses();
    }
    const nOut = shape.mode === 'per-task' ? shape.numTasks : 1;
    const perWorker = this.totalSize * nOut;
    const grads = Array.from({ length: nOut }, () => new Float64Array(this.totalSize));
    for (let s = 0; s < this.size; s++) {
      const base = s * perWorker;
      for (let k = 0; k < nOut; k++) {
        const g = grads[k];
        const src = this.grads.subarray(base + k * this.totalSize, base + (k + 1) * this.totalSize);
        for (let i = 0; i < g.length; i++) g[i] += src[i];
      }
    }
    return { losses: L, grads };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

/**
 * Whether one training's threads go inside the kernels rather than to worker threads: with the native
 * kernels, each kernel call splits its independent outputs between threads, so there are no per-step
 * copies and results do not depend on the thread count.
 */
export function threadsInsideKernels(): boolean {
  return kernelEngine().engine === 'native';
}

/** Run `fn` with the native kernels using `threads` threads per call, restoring the setting after. */
export async function withKernelThreads<T>(threads: number, fn: () => Promise<T>): Promise<T> {
  const before = nativeThreads();
  setNativeThreads(threads);
  try {
    return await fn();
  } finally {
    setNativeThreads(before);
  }
}

/**
 * Run `fn` with a pool of `size` workers running `program` when data parallelism applies (null
 * otherwise: `fn` then computes on this thread, with the native kernels' threads when they run),
 * closing the pool whatever happens.
 */
export async function withPool<T>(
  start: { size: number; program: ShardProgramSpec; shape: PoolShape } | null,
  fn: (pool: GradientPool | null) => Promise<T>,
): Promise<T> {
  if (start && start.size > 1 && threadsInsideKernels()) return withKernelThreads(start.size, () => fn(null));
  const pool = start && start.size > 1 && dataParallelAvailable() ? await GradientPool.start(start.size, currentBackend() ?? 'wasm', start.program, start.shape) : null;
  try {
    return await fn(pool);
  } finally {
    await pool?.close();
  }
}

/** A flat gradient (float64 sums of the workers') cut back into float32 tensors of the given shapes. */
export function unflattenGradient(flat: Float64Array, shapes: readonly number[][]): tf.Tensor[] {
  let off = 0;
  return shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const g = tf.tensor(Float32Array.from(flat.subarray(off, off + n)), shape);
    off += n;
    return g;
  });
}
