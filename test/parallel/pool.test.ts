import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { selectBackend } from '../../src/backend/index.js';
import { buildModel, defaultModelSpec, initParams } from '../../src/models/index.js';
import { softmaxCrossEntropy } from '../../src/train/index.js';
import { GradientPool, dataParallelAvailable } from '../../src/parallel/pool.js';
import { shardRange } from '../../src/parallel/shards.js';
import { evaluateInWorkers } from '../../src/parallel/eval-pool.js';
import { endpointProgramSpec } from '../../src/train/endpoint-program.js';
import { curveProgramSpec } from '../../src/curves/program-spec.js';
import { makeGeometry, initTrainable, trainableShapes, curveLossFn, curveObjectiveCoefficients, profileCurve, profileCurveInWorkers, type WeightCurve } from '../../src/curves/index.js';
import { makeRng } from '../../src/util/rng.js';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', quiet: true });
});

const spec = defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 10], ['a', 'b']);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function batchOf(n: number, seed: number): { x: Float32Array; y: Int32Array[] } {
  const rng = makeRng(seed);
  return {
    x: Float32Array.from({ length: n * 36 * 36 }, () => rng.next()),
    y: [Int32Array.from({ length: n }, () => rng.int(10)), Int32Array.from({ length: n }, () => rng.int(10))],
  };
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return err / Math.max(scale, 1e-12);
}

describe('data-parallel gradient pool', () => {
  it('splits rows into contiguous shards covering the batch', () => {
    for (const [n, w] of [[256, 2], [7, 3], [1, 2], [0, 2]]) {
      let next = 0;
      for (let s = 0; s < w; s++) {
        const [lo, hi] = shardRange(n, w, s);
        expect(lo).toBe(next);
        expect(hi).toBeGreaterThanOrEqual(lo);
        next = hi;
      }
      expect(next).toBe(n);
    }
  });

  it('is built (dist/parallel/worker.js) and used with in-process backends only', () => {
    expect(dataParallelAvailable()).toBe(true);
    expect(dataParallelAvailable('cpu')).toBe(true);
    expect(dataParallelAvailable('tensorflow')).toBe(false);
    expect(dataParallelAvailable('tensorflow-gpu')).toBe(false);
  });

  it('endpoint: two workers give the full-batch gradient of a loss-dependent scalarization (odd batch, 3 workers)', async () => {
    const model = buildModel(spec);
    const params = initParams(model.params, 3);
    const n = 37;
    const b = batchOf(n, 4);
    // weights that depend on the full-batch losses (as Chebyshev's do): w = softmax(3·L)
    const weightsOf = (L: number[]) => {
      const e = L.map((l) => Math.exp(3 * l));
      const z = e[0] + e[1];
      return e.map((v) => v / z);
    };
    const pool = await GradientPool.start(3, 'wasm', endpointProgramSpec(spec), { sizes: model.params.map((p) => size(p.shape)), rowSize: 1296, maxBatch: 64, numTasks: 2, numLosses: 2, mode: 'scalar' });
    try {
      const r = await pool.step(params.map((p) => p.dataSync() as Float32Array), { ...b, size: n }, {}, weightsOf);
      // oracle: one process, full batch, the same weights
      const x = tf.tensor(b.x, [n, 36, 36, 1]);
      const y = b.y.map((v) => tf.tensor1d(v, 'int32'));
      const L = model.forward(params, x).map((o, k) => softmaxCrossEntropy(o, y[k]).dataSync()[0]);
      expect(maxRelErr(r.losses, L)).toBeLessThan(1e-5);
      const w = weightsOf(L);
      const g = tf.grads((...p: tf.Tensor[]) => {
        const o = model.forward(p, x);
        return tf.add(tf.mul(softmaxCrossEntropy(o[0], y[0]), w[0]), tf.mul(softmaxCrossEntropy(o[1], y[1]), w[1])) as tf.Scalar;
      })(params);
      const flat = Float32Array.from(g.flatMap((t) => Array.from(t.dataSync())));
      expect(maxRelErr(r.grads[0], flat)).toBeLessThan(1e-4);
      // the same step twice: bit-identical, whatever the thread timing
      const r2 = await pool.step(params.map((p) => p.dataSync() as Float32Array), { ...b, size: n }, {}, weightsOf);
      expect(Array.from(r2.grads[0])).toEqual(Array.from(r.grads[0]));
    } finally {
      await pool.close();
    }
  });

  it('endpoint per-task mode: each task gradient equals the full-batch per-task gradient', async () => {
    const model = buildModel(spec);
    const params = initParams(model.params, 5);
    const n = 20;
    const b = batchOf(n, 6);
    const pool = await GradientPool.start(2, 'wasm', endpointProgramSpec(spec), { sizes: model.params.map((p) => size(p.shape)), rowSize: 1296, maxBatch: 32, numTasks: 2, numLosses: 2, mode: 'per-task' });
    try {
      const r = await pool.step(params.map((p) => p.dataSync() as Float32Array), { ...b, size: n }, {}, () => []);
      const x = tf.tensor(b.x, [n, 36, 36, 1]);
      for (let k = 0; k < 2; k++) {
        const y = tf.tensor1d(b.y[k], 'int32');
        const g = tf.grads((...p: tf.Tensor[]) => tf.add(softmaxCrossEntropy(model.forward(p, x)[k], y), tf.mul(tf.addN(p.map((t) => tf.sum(t))), 0)) as tf.Scalar)(params);
        const flat = Float32Array.from(g.flatMap((t) => Array.from(t.dataSync())));
        expect(maxRelErr(r.grads[k], flat)).toBeLessThan(1e-4);
      }
    } finally {
      await pool.close();
    }
  });

  it('curve: the order-aware objective (α = 0.5, l2) has the full-batch gradient w.r.t. control points and weights', async () => {
    const model = buildModel(spec);
    const curve: WeightCurve = { geometry: makeGeometry('nurbs', 4, 3), paramNames: model.params.map((p) => p.name), ends: [initParams(model.params, 1), initParams(model.params, 2)] };
    const trainable = initTrainable(curve, 0.1, 7);
    const n = 30;
    const b = batchOf(n, 8);
    const ts = [0.2, 0.55, 0.9];
    const cfg = { alpha: 0.5, l2: 1e-3, orientation: { taskA: 0, taskB: 1 } };
    const pool = await GradientPool.start(
      2,
      'wasm',
      curveProgramSpec(spec, curve, cfg),
      { sizes: trainableShapes(curve).map(size), rowSize: 1296, maxBatch: 32, numTasks: 2, numLosses: 6, mode: 'scalar' },
    );
    try {
      const r = await pool.step(trainable.map((t) => t.dataSync() as Float32Array), { ...b, size: n }, { ts }, (L) => curveObjectiveCoefficients(cfg, ts, L));
      const x = tf.tensor(b.x, [n, 36, 36, 1]);
      const y = b.y.map((v) => tf.tensor1d(v, 'int32'));
      const g = tf.grads(curveLossFn(model, curve, cfg, x, y, ts, () => {}))(trainable);
      const flat = Float32Array.from(g.flatMap((t) => Array.from(t.dataSync())));
      expect(maxRelErr(r.grads[0], flat)).toBeLessThan(1e-4);
      // the log-weights' gradient (last tensor) on its own, since it is tiny next to the control points
      const nw = 4;
      expect(maxRelErr(r.grads[0].subarray(r.grads[0].length - nw), flat.subarray(flat.length - nw))).toBeLessThan(1e-3);
    } finally {
      await pool.close();
    }
  });

  it('curve with a split batch (each t on its own half): pool gradient = one-process gradient, also when shards and parts do not line up', async () => {
    const model = buildModel(spec);
    const curve: WeightCurve = { geometry: makeGeometry('bezier', 3), paramNames: model.params.map((p) => p.name), ends: [initParams(model.params, 1), initParams(model.params, 2)] };
    const trainable = initTrainable(curve, 0.1, 9);
    const n = 25;
    const b = batchOf(n, 10);
    const ts = [0.1, 0.5, 0.8];
    const cfg = { alpha: 0.7, l2: 0, orientation: { taskA: 0, taskB: 1 }, splitBatch: true };
    const x = tf.tensor(b.x, [n, 36, 36, 1]);
    const y = b.y.map((v) => tf.tensor1d(v, 'int32'));
    const g = tf.grads(curveLossFn(model, curve, cfg, x, y, ts, () => {}))(trainable);
    const oracle = Float32Array.from(g.flatMap((t) => Array.from(t.dataSync())));
    for (const workers of [2, 3]) {
      const pool = await GradientPool.start(
        workers,
        'wasm',
        curveProgramSpec(spec, curve, cfg),
        { sizes: trainableShapes(curve).map(size), rowSize: 1296, maxBatch: 32, numTasks: 2, numLosses: 6, mode: 'scalar', lossRows: { parts: 3, perPart: 2 } },
      );
      try {
        const r = await pool.step(trainable.map((t) => t.dataSync() as Float32Array), { ...b, size: n }, { ts }, (L) => curveObjectiveCoefficients(cfg, ts, L));
        expect(maxRelErr(r.grads[0], oracle), `${workers} workers`).toBeLessThan(1e-4);
      } finally {
        await pool.close();
      }
    }
  });

  it('a regression head (float targets in the shared label buffer): pool gradients and worker profiles equal one process', async () => {
    // task a: 10 classes; task b: a real target (numClasses 1, loss mse)
    const rspec = defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 1], ['a', 'b']);
    const model = buildModel(rspec);
    expect(model.losses).toEqual(['ce', 'mse']);
    const params = initParams(model.params, 7);
    const rng = makeRng(8);
    const batch = (n: number) => ({
      x: Float32Array.from({ length: n * 1296 }, () => rng.next()),
      y: [Int32Array.from({ length: n }, () => rng.int(10)), Float32Array.from({ length: n }, () => 3 * rng.next() - 1)],
      n,
    });
    const n = 21;
    const b = batch(n);
    const pool = await GradientPool.start(2, 'wasm', endpointProgramSpec(rspec), { sizes: model.params.map((p) => size(p.shape)), rowSize: 1296, maxBatch: 32, numTasks: 2, numLosses: 2, mode: 'per-task' });
    try {
      const r = await pool.step(params.map((p) => p.dataSync() as Float32Array), { ...b, size: n }, {}, () => []);
      const x = tf.tensor(b.x, [n, 36, 36, 1]);
      const y = [tf.tensor1d(b.y[0], 'int32'), tf.tensor1d(b.y[1], 'float32')];
      // the oracle's regression loss is tfjs' own mean squared error
      const losses = [(o: tf.Tensor) => softmaxCrossEntropy(o, y[0]), (o: tf.Tensor) => tf.losses.meanSquaredError(y[1], o.reshape([-1])) as tf.Scalar];
      expect(maxRelErr(r.losses, losses.map((f, k) => f(model.forward(params, x)[k]).dataSync()[0]))).toBeLessThan(1e-5);
      for (let k = 0; k < 2; k++) {
        const g = tf.grads((...p: tf.Tensor[]) => tf.add(losses[k](model.forward(p, x)[k]), tf.mul(tf.addN(p.map((t) => tf.sum(t))), 0)) as tf.Scalar)(params);
        const flat = Float32Array.from(g.flatMap((t) => Array.from(t.dataSync())));
        expect(maxRelErr(r.grads[k], flat)).toBeLessThan(1e-4);
      }
    } finally {
      await pool.close();
    }
    const curve: WeightCurve = { geometry: makeGeometry('nurbs', 4, 3), paramNames: model.params.map((p) => p.name), ends: [initParams(model.params, 1), initParams(model.params, 2)] };
    const trainable = initTrainable(curve, 0.2, 3);
    const data = { taskNames: ['a', 'b'], val: batch(30), test: batch(25) };
    const one = profileCurve(model, curve, trainable, data, 5, { progress: false });
    const two = await profileCurveInWorkers(model, curve, trainable, data, 5, { progress: false, threads: 2, backend: 'wasm' });
    expect(one.points[2].test[1].mae).toBeGreaterThan(0);
    expect(two.points).toEqual(one.points);
  });

  it('a profile evaluated on worker threads is identical to the one-thread profile', async () => {
    const model = buildModel(spec);
    const curve: WeightCurve = { geometry: makeGeometry('nurbs', 4, 3), paramNames: model.params.map((p) => p.name), ends: [initParams(model.params, 1), initParams(model.params, 2)] };
    const trainable = initTrainable(curve, 0.2, 3);
    const split = (n: number, seed: number) => {
      const b = batchOf(n, seed);
      return { x: b.x, y: b.y, n };
    };
    const data = { taskNames: ['a', 'b'], val: split(40, 11), test: split(30, 12) };
    const one = profileCurve(model, curve, trainable, data, 7, { progress: false });
    const two = await profileCurveInWorkers(model, curve, trainable, data, 7, { progress: false, threads: 2, backend: 'wasm' });
    expect(two.points).toEqual(one.points);
    expect(two.hypervolume).toEqual(one.hypervolume);
  });

  it('evaluateInWorkers on one thread runs the program here, point for point what the workers give', async () => {
    const model = buildModel(spec);
    const curve: WeightCurve = { geometry: makeGeometry('nurbs', 4, 3), paramNames: model.params.map((p) => p.name), ends: [initParams(model.params, 1), initParams(model.params, 2)] };
    const trainable = initTrainable(curve, 0.2, 4).map((t) => t.dataSync() as Float32Array);
    const b = batchOf(24, 13);
    const data = { inputShape: spec.inputShape, splits: [{ x: b.x, y: b.y, n: 24 }] };
    const ts = [0, 0.3, 1];
    const seen: number[] = [];
    const held = tf.memory().numTensors;
    const here = await evaluateInWorkers(1, 'wasm', curveProgramSpec(spec, curve), trainable, ts, data, (done, id) => seen.push(done, id));
    // the program's own tensors (the curve's ends) are released with it
    expect(tf.memory().numTensors).toBe(held);
    const workers = await evaluateInWorkers(2, 'wasm', curveProgramSpec(spec, curve), trainable, ts, data);
    expect(here).toEqual(workers);
    expect(here).toHaveLength(3);
    expect(seen).toEqual([1, 0, 2, 1, 3, 2]);
  });
});
