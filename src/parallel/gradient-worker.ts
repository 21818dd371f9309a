/**
 * Data-parallel gradient worker (see pool.ts): its own tfjs instance computes the gradient on one
 * shard of every batch. In 'scalar' mode it reports the shard's losses, waits (Atomics.wait, inside
 * the gradient function, so the forward pass is kept) for the coefficients from the main thread, and
 * back-propagates Σ_j c_j (n_s/n) L_j; in 'per-task' mode it writes one gradient per task.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backend/index.js';
import { ExtraInputError } from '../errors.js';
import { loadShardProgram, type ShardProgram } from './program.js';
import { shardRange, lossShardWeight, labelLayout } from './shards.js';
import type { FromWorker, ToWorker, WorkerSetup } from './pool.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const { shape, index, workers } = setup;
const params = new Float32Array(setup.buffers.params);
const xs = new Float32Array(setup.buffers.x);
const ys = new Int32Array(setup.buffers.y);
const ysReal = new Float32Array(ys.buffer);
const losses = new Float64Array(setup.buffers.losses);
const coef = new Float64Array(setup.buffers.coef);
const grads = new Float32Array(setup.buffers.grads);
const ctrl = new Int32Array(setup.buffers.ctrl);
const total = shape.sizes.reduce((a, b) => a + b, 0);
const labels = labelLayout(shape);
let program: ShardProgram;
let shapes: number[][];

function waitForCoefficients(gen: number): void {
  for (;;) {
    const v = Atomics.load(ctrl, 0);
    if (v === gen) return;
    Atomics.wait(ctrl, 0, v);
  }
}

function writeGradients(list: (tf.Tensor | undefined)[], slot: number, scale: number): void {
  let off = (index * (shape.mode === 'per-task' ? shape.numTasks : 1) + slot) * total;
  // a plain loop: per-task gradients leave holes for heads a task does not reach, which forEach skips
  for (let i = 0; i < shape.sizes.length; i++) {
    const g = list[i];
    const n = shape.sizes[i];
    if (!g) {
      grads.fill(0, off, off + n);
    } else {
      const v = g.dataSync();
      if (scale === 1) grads.set(v, off);
      else for (let q = 0; q < n; q++) grads[off + q] = v[q] * scale;
    }
    off += n;
  }
}

function step(gen: number, n: number, inputs: Record<string, unknown>): void {
  const [lo, hi] = shardRange(n, workers, index);
  const rows = hi - lo;
  const wgt = n > 0 ? rows / n : 0;
  tf.tidy(() => {
    const trainable: tf.Tensor[] = [];
    let off = 0;
    shape.sizes.forEach((sz, i) => {
      trainable.push(tf.tensor(params.subarray(off, off + sz), shapes[i]));
      off += sz;
    });
    const inputShape = program.inputShape;
    const x = rows > 0 ? tf.tensor(xs.subarray(lo * shape.rowSize, hi * shape.rowSize), [rows, ...inputShape]) : null;
    // a regression task's targets are floats in the same shared buffer
    const y = Array.from({ length: shape.numTasks }, (_, k) => {
      const dtype = program.labelDtypes[k];
      const [off, size] = [labels.offsets[k], labels.sizes[k]];
      return tf.tensor((dtype === 'float32' ? ysReal : ys).subarray(off + lo * size, off + hi * size), [hi - lo, ...(shape.labelShapes?.[k] ?? [])], dtype);
    });
    if (shape.mode === 'per-task') {
      if (!x) {
        for (let k = 0; k < shape.numTasks; k++) writeGradients(new Array(shape.sizes.length).fill(undefined), k, 1);
        losses.fill(0, index * shape.numLosses, (index + 1) * shape.numLosses);
        return;
      }
      if (!program.perTaskGradients) throw new Error(`program '${setup.program.kind}' has no per-task gradients`);
      const r = program.perTaskGradients(trainable, x, y, rows);
      r.perTask.forEach((list, k) => writeGradients(list, k, wgt));
      r.perTask.forEach((list) => list.forEach((t) => t?.dispose()));
      r.losses.forEach((l, j) => (losses[index * shape.numLosses + j] = l));
      return;
    }
    const lossRows = shape.lossRows ?? { parts: 1, perPart: shape.numLosses };
    const f = (...p: tf.Tensor[]): tf.Scalar => {
      const L = x ? program.losses(p, x, y, inputs, { lo, hi, n }) : [];
      for (let j = 0; j < shape.numLosses; j++) losses[index * shape.numLosses + j] = L[j] ? L[j]!.dataSync()[0] : 0;
      post({ type: 'losses', gen });
      waitForCoefficients(gen);
      const terms: tf.Tensor[] = [];
      L.forEach((l, j) => {
        if (l) terms.push(tf.mul(l, coef[j] * lossShardWeight(n, workers, index, j, lossRows)));
      });
      const extra = index === 0 ? program.extra?.(p, inputs) : null;
      if (extra) terms.push(extra);
      // a shard without rows (or without any term) still contributes a zero gradient of the right shape
      terms.push(tf.mul(tf.addN(p.map((t) => tf.sum(t))), 0));
      return tf.addN(terms) as tf.Scalar;
    };
    const g = tf.grads(f)(trainable);
    writeGradients(g, 0, 1);
  });
  post({ type: 'done', gen });
}

async function main(): Promise<void> {
  await selectBackend({ prefer: setup.backend, quiet: true });
  program = await loadShardProgram(setup.program);
  shapes = program.shapes;
  if (shapes.length !== shape.sizes.length) throw new Error(`program has ${shapes.length} trainable tensors, the pool ${shape.sizes.length}`);
  port.on('message', (m: ToWorker) => {
    try {
      step(m.gen, m.n, m.inputs);
    } catch (e) {
      post({ type: 'error', message: (e as Error).message, inputError: e instanceof ExtraInputError });
    }
  });
  post({ type: 'ready' });
}

main().catch((e: Error) => post({ type: 'error', message: e.message, inputError: e instanceof ExtraInputError }));
