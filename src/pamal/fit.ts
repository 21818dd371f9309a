import * as tf from '@tensorflow/tfjs';
import type { FunctionalModel } from '../models/index.js';
import { runTrainingLoop, evaluateSplits, taskLoss, type LoopConfig, type Trainable, type LabelledSplit, type EpochRecord, type TaskMetrics } from '../train/index.js';
import { makeRng, deriveSeed } from '../util/rng.js';
import { dirichletRay } from '../hypernet/index.js';
import { threadsInsideKernels, withKernelThreads } from '../parallel/pool.js';
import { trainingFiles } from '../run/layout.js';
import { ExtraInputError } from '../errors.js';
import { initPamal, pamalForward, pamalParamSpecs } from './ensemble.js';

export interface PamalFitConfig extends Omit<LoopConfig, 'checkpointFile' | 'logFile' | 'label'> {
  dir: string;
  /** preferences per batch, each a full forward/backward (the authors' `num`, the paper's window; their default 4) */
  window?: number;
  /** Dirichlet concentration of the preferences (the authors' `p`: 1, uniform on the simplex) */
  concentration?: number;
  /** threads inside the native kernels (where they run; otherwise this thread only) */
  threads?: number;
}

export interface PamalFitData {
  inputShape: number[];
  train: LabelledSplit;
}

export const pamalDefaults = { window: 4, concentration: 1 };

/**
 * PaMaL with linear scalarization (the authors' `inner_method: ls`, regularisation 0): every batch draws
 * `window` preferences α ~ Dirichlet(p) (seeded by epoch, step and draw) and descends on
 *   Σ_j Σ_k α_jk L_k(θ(α_j))
 * so each pass of the window is one forward and backward of the whole batch: an epoch costs `window`
 * passes over the data. Models with BatchNormalization are refused (the ensemble's statistics are not
 * the members' and the benchmark has no use for them yet).
 */
export async function fitPamal(model: FunctionalModel, cfg: PamalFitConfig, data: PamalFitData): Promise<{ tensors: tf.Tensor[]; history: EpochRecord[]; resumedFromEpoch: number }> {
  if (model.statistics.length) throw new ExtraInputError('PaMaL: models with BatchNormalization are not supported');
  const K = model.spec.numClasses.length;
  const window = cfg.window ?? pamalDefaults.window;
  const p = cfg.concentration ?? pamalDefaults.concentration;
  const specs = pamalParamSpecs(model, K);
  const prefsOf = (ctx: { epoch: number; step: number }) => Array.from({ length: window }, (_, j) => dirichletRay(K, p, makeRng(deriveSeed(cfg.seed, `pamal-alpha/${ctx.epoch}/${ctx.step}/${j}`))));
  const trainable: Trainable<Record<string, never>> = {
    names: specs.map((s) => s.name),
    shapes: specs.map((s) => s.shape),
    init: () => initPamal(model, cfg.seed, K).map((v, i) => tf.tensor(v, specs[i].shape)),
    initialState: () => ({}),
    async step(tensors, batch, _state, ctx) {
      const alphas = prefsOf(ctx);
      const sums = new Array<number>(K).fill(0);
      const f = (...members: tf.Tensor[]) => {
        const terms = alphas.map((alpha) => {
          const ls = model.forward(pamalForward(model, members, alpha), batch.x).map((o, k) => taskLoss(model.losses[k], o, batch.y[k]));
          ls.forEach((l, k) => (sums[k] += l.dataSync()[0] / window));
          return tf.addN(ls.map((l, k) => tf.mul(l, alpha[k])));
        });
        return tf.addN(terms) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(f)(tensors as tf.Tensor[]);
      value.dispose();
      // reported losses: each task's mean over the window's models
      return { grads, losses: sums };
    },
    // the front benchmark profiles the ensemble after training; nothing to add to each epoch's record
    evaluate: () => ({}),
  };
  const train = () => runTrainingLoop({ ...cfg, ...trainingFiles(cfg.dir), label: 'pamal' }, data.train, data.inputShape, trainable);
  const res = (cfg.threads ?? 1) > 1 && threadsInsideKernels() ? await withKernelThreads(cfg.threads ?? 1, train) : await train();
  return { tensors: res.tensors, history: res.history, resumedFromEpoch: res.resumedFromEpoch };
}

/** Per-task metrics of θ(α) on the given splits. */
export function evaluatePamalAt(model: FunctionalModel, tensors: readonly tf.Tensor[], alpha: readonly number[], splits: LabelledSplit[]): TaskMetrics[][] {
  const theta = tf.tidy(() => pamalForward(model, tensors, alpha));
  try {
    return evaluateSplits(model, theta, splits);
  } finally {
    tf.dispose(theta);
  }
}
