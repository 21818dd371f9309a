// One model's training-step throughput (forward + gradients + Adam), shared by bench-train.js and its
// workers: in this thread (1 thread), or split over a data-parallel GradientPool (threads ≥ 2).
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../dist/backend/index.js';
import { buildModel, defaultModelSpec, initParams } from '../dist/models/index.js';
import { softmaxCrossEntropy, optimizerInit, optimizerStep } from '../dist/train/index.js';
import { makeGeometry, initTrainable, curveLossFn, trainableShapes, curveObjectiveCoefficients } from '../dist/curves/index.js';
import { GradientPool } from '../dist/parallel/pool.js';
import { median } from './machine.js';

export function specFor(model) {
  return model === 'lenet'
    ? defaultModelSpec('lenet-mtl', [36, 36, 1], [10, 10], ['a', 'b'])
    : defaultModelSpec('mlp-mtl', [36, 36, 1], [10, 10], ['a', 'b'], [256, 256]);
}

const size = (s) => s.reduce((a, b) => a * b, 1);

/**
 * Median step time of `steps` timed steps after 2 warm-ups. kind 'endpoint' (Σ ½ L_k), 'curve'
 * (NURBS, 4 control points, m = 2 values of t on the whole batch, α = 0.5) or 'curve-split' (each t on
 * half the batch); threads 1 = in this thread, ≥ 2 = pool.
 */
export async function measureSteps({ model, kind = 'endpoint', batch = 256, steps = 10, backend = 'wasm', threads = 1 }) {
  await selectBackend({ prefer: backend, quiet: true });
  const spec = specFor(model);
  const m = buildModel(spec);
  const xv = Float32Array.from(tf.randomUniform([batch * 1296], 0, 1, 'float32', 1).dataSync());
  const yv = [Int32Array.from({ length: batch }, (_, i) => i % 10), Int32Array.from({ length: batch }, (_, i) => (7 * i) % 10)];
  const x = tf.tensor(xv, [batch, 36, 36, 1]);
  const y = yv.map((v) => tf.tensor1d(v, 'int32'));
  const cfgLoss = { alpha: 0.5, l2: 0, orientation: { taskA: 0, taskB: 1 }, splitBatch: kind === 'curve-split' };
  const tsAt = (u) => [0.25 + 0.1 * (u % 3), 0.7 + 0.05 * (u % 5)];
  let tensors;
  let grad; // (tensors, u) => Promise<tf.Tensor[]>
  let pool = null;
  if (kind === 'endpoint') {
    tensors = initParams(m.params, 1);
    if (threads > 1) {
      pool = await GradientPool.start(threads, backend, { kind: 'endpoint', spec }, { sizes: m.params.map((p) => size(p.shape)), rowSize: 1296, maxBatch: batch, numTasks: 2, numLosses: 2, mode: 'scalar' });
    } else {
      const loss = (...p) => {
        const o = m.forward(p, x);
        return tf.add(tf.mul(softmaxCrossEntropy(o[0], y[0]), 0.5), tf.mul(softmaxCrossEntropy(o[1], y[1]), 0.5));
      };
      grad = async (ts) => tf.tidy(() => tf.grads(loss)(ts));
    }
  } else {
    const curve = { geometry: makeGeometry('nurbs', 4, 3), paramNames: m.params.map((p) => p.name), ends: [initParams(m.params, 1), initParams(m.params, 2)] };
    tensors = initTrainable(curve);
    if (threads > 1) {
      pool = await GradientPool.start(
        threads,
        backend,
        { kind: 'curve', spec, geometry: curve.geometry, paramNames: curve.paramNames, ends: curve.ends.map((e) => e.map((t) => t.dataSync())), loss: cfgLoss },
        { sizes: trainableShapes(curve).map(size), rowSize: 1296, maxBatch: batch, numTasks: 2, numLosses: 4, mode: 'scalar', lossRows: cfgLoss.splitBatch ? { parts: 2, perPart: 2 } : undefined },
      );
    } else {
      grad = async (ts, u) => tf.tidy(() => tf.grads(curveLossFn(m, curve, cfgLoss, x, y, tsAt(u), () => {}))(ts));
    }
  }
  if (pool) {
    grad = async (ts, u) => {
      const t = tsAt(u);
      const isCurve = kind !== 'endpoint';
      const r = await pool.step(ts.map((q) => q.dataSync()), { x: xv, y: yv, size: batch }, isCurve ? { ts: t } : {}, (L) => (isCurve ? curveObjectiveCoefficients(cfgLoss, t, L) : [0.5, 0.5]));
      let off = 0;
      return ts.map((q) => {
        const g = tf.tensor(Float32Array.from(r.grads[0].subarray(off, off + q.size)), q.shape);
        off += q.size;
        return g;
      });
    };
  }
  const cfg = { name: 'adam' };
  let opt = optimizerInit(cfg, tensors);
  const times = [];
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
  await pool?.close();
  return { samplesPerSec: (batch * 1000) / median(times), msPerStep: median(times) };
}
