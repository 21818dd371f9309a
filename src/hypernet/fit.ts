import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import type { FunctionalModel } from '../models/index.js';
import { runTrainingLoop, evaluateSplits, byTaskName, taskLoss, type LoopConfig, type Trainable, type LabelledSplit, type EpochRecord, type TaskMetrics } from '../train/index.js';
import { makeRng, deriveSeed } from '../util/rng.js';
import { withPool, unflattenGradient } from '../parallel/pool.js';
import { hyperNetProgramSpec } from './program.js';
import { hyperForward, hyperNetDefaults, hyperParamSpecs, initHyperNet, type HyperNetSpec } from './hypernet.js';
import { dirichletRay } from './rays.js';
import { trainingFiles } from '../run/layout.js';

export interface HyperNetFitConfig extends Omit<LoopConfig, 'checkpointFile' | 'logFile' | 'label'> {
  dir: string;
  hyper?: HyperNetSpec;
  /** Dirichlet concentration of the training rays (PHN: 0.2) */
  alpha?: number;
  /** rays evaluated on validation after each epoch */
  evalRays: number[][];
  threads?: number;
}

export interface HyperNetFitData {
  inputShape: number[];
  taskNames: string[];
  train: LabelledSplit;
  val: LabelledSplit;
}

/**
 * PHN-LS: every batch draws one ray r ~ Dirichlet(α) (seeded by epoch and step) and descends on
 * Σ_k r_k L_k(θ(r)) — linear scalarization at that ray, through the hypernetwork. With threads > 1 the
 * batch is split over worker threads (the 'hypernet' shard program), the coefficients being r itself.
 */
export async function fitHyperNet(model: FunctionalModel, cfg: HyperNetFitConfig, data: HyperNetFitData): Promise<{ hyper: tf.Tensor[]; history: EpochRecord[]; resumedFromEpoch: number }> {
  const spec = cfg.hyper ?? hyperNetDefaults;
  const specs = hyperParamSpecs(model, spec);
  const K = model.spec.numClasses.length;
  const alpha = cfg.alpha ?? 0.2;
  const poolStart = {
    size: cfg.threads ?? 1,
    program: hyperNetProgramSpec(model.spec, spec.hidden),
    shape: { sizes: specs.map((s) => s.shape.reduce((a, b) => a * b, 1)), rowSize: data.inputShape.reduce((a, b) => a * b, 1), maxBatch: cfg.batchSize, numTasks: K, numLosses: K, mode: 'scalar' as const },
  };
  return withPool(poolStart, async (pool) => {
    const rayOf = (ctx: { epoch: number; step: number }) => dirichletRay(K, alpha, makeRng(deriveSeed(cfg.seed, `phn-ray/${ctx.epoch}/${ctx.step}`)));
    const trainable: Trainable<Record<string, never>> = {
      names: specs.map((s) => s.name),
      shapes: specs.map((s) => s.shape),
      init: () => initHyperNet(model, cfg.seed, spec).map((v, i) => tf.tensor(v, specs[i].shape)),
      initialState: () => ({}),
      async step(tensors, batch, _state, ctx) {
        const ray = rayOf(ctx);
        if (pool) {
          if (!batch.raw) throw new Error('data-parallel step needs the batch as plain arrays');
          const values = tensors.map((t) => t.dataSync() as Float32Array);
          const r = await pool.step(values, { x: batch.raw.x, y: batch.raw.y, size: batch.size }, { ray }, () => ray);
          return { grads: unflattenGradient(r.grads[0], tensors.map((t) => t.shape)), losses: r.losses };
        }
        let losses: number[] = [];
        const f = (...hyper: tf.Tensor[]) => {
          const theta = hyperForward(model, hyper, ray);
          const ls = model.forward(theta, batch.x).map((o, k) => taskLoss(model.losses[k], o, batch.y[k]));
          losses = ls.map((l) => l.dataSync()[0]);
          return tf.addN(ls.map((l, k) => tf.mul(l, ray[k]))) as tf.Scalar;
        };
        const { value, grads } = tf.valueAndGrads(f)(tensors as tf.Tensor[]);
        value.dispose();
        return { grads, losses };
      },
      evaluate(tensors) {
        return { valAlongRays: cfg.evalRays.map((ray) => ({ ray, val: byTaskName(data.taskNames, evaluateHyperNetAt(model, tensors, ray, [data.val], data.train)[0]) })) };
      },
    };
    const res = await runTrainingLoop({ ...cfg, ...trainingFiles(cfg.dir), label: 'phn' }, data.train, data.inputShape, trainable);
    return { hyper: res.tensors, history: res.history, resumedFromEpoch: res.resumedFromEpoch };
  });
}

/** Per-task metrics of θ(ray) on the given splits (BatchNormalization statistics from `train`). */
export function evaluateHyperNetAt(model: FunctionalModel, hyper: readonly tf.Tensor[], ray: readonly number[], splits: LabelledSplit[], train?: LabelledSplit): TaskMetrics[][] {
  const theta = tf.tidy(() => hyperForward(model, hyper, ray));
  try {
    return evaluateSplits(model, theta, splits, train);
  } finally {
    tf.dispose(theta);
  }
}
