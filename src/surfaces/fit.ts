import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import type { FunctionalModel } from '../models/index.js';
import { runTrainingLoop, evaluateSplits, taskLoss, makeProgress, type LoopConfig, type Trainable, type LabelledSplit, type EpochRecord, type TaskMetrics, errorRates } from '../train/index.js';
import { hypervolume, nonDominated, spearman } from '../pareto/index.js';
import { objectiveMetrics, lossReference, type ObjectiveMap } from '../curves/index.js';
import { makeRng, deriveSeed } from '../util/rng.js';
import { initSurfaceTrainable, surfacePoint, surfaceTrainableNames, interiorIndices, type WeightSurface } from './surface.js';
import { sampleSimplex, simplexGrid, type Bary } from './triangle.js';
import { z } from 'zod';
import { taskMetricsSchema } from '../io/json-file.js';
import { trainingFiles } from '../run/layout.js';

/**
 * The order-aware term generalised to the simplex: for every pair of sampled points and each corner
 * objective g, exp((L_g(b₁) − L_g(b₂))·(b₁[g] − b₂[g])) is small when the objective with more weight
 * has the lower loss. With two corners and b = (1 − t, t) it is exactly the curve's R_order.
 */
export function simplexOrderRegularizer(bs: Bary[], losses: tf.Scalar[][]): tf.Scalar {
  return tf.tidy(() => {
    const terms: tf.Tensor[] = [];
    for (let i = 0; i < bs.length; i++)
      for (let j = i + 1; j < bs.length; j++)
        for (let g = 0; g < 3; g++) terms.push(tf.exp(tf.mul(tf.sub(losses[i][g], losses[j][g]), bs[i][g] - bs[j][g])));
    if (!terms.length) return tf.scalar(0);
    // mean over pairs of the mean over the three corners
    return tf.div(tf.addN(terms), terms.length) as tf.Scalar;
  });
}

export interface SurfaceFitConfig extends Omit<LoopConfig, 'checkpointFile' | 'logFile' | 'label'> {
  dir: string;
  alpha: number;
  samplesPerBatch: number;
  /** the three objectives at corners 0, 1, 2 */
  objectives: ObjectiveMap;
  corners: [number, number, number];
}

export async function fitSurface(
  model: FunctionalModel,
  surface: WeightSurface,
  cfg: SurfaceFitConfig,
  data: { inputShape: number[]; train: LabelledSplit },
): Promise<{ trainable: tf.Tensor[]; history: EpochRecord[] }> {
  const K = model.spec.numClasses.length;
  const members = cfg.corners.map((c) => cfg.objectives.members[c]);
  const trainable: Trainable<Record<string, never>> = {
    names: surfaceTrainableNames(surface),
    shapes: interiorIndices(surface).flatMap(() => surface.corners[0].map((t) => t.shape)),
    init: () => initSurfaceTrainable(surface),
    initialState: () => ({}),
    step(tensors, batch, _s, ctx) {
      const rng = makeRng(deriveSeed(cfg.seed, `surface-b/${ctx.epoch}/${ctx.step}`));
      const bs = Array.from({ length: cfg.samplesPerBatch }, () => sampleSimplex(rng.next(), rng.next()));
      let record: number[][] = [];
      const { value, grads } = tf.valueAndGrads((...tr: tf.Tensor[]) => {
        const perB = bs.map((b) => {
          const outs = model.forward(surfacePoint(surface, tr, b), batch.x);
          return outs.map((o, k) => taskLoss(model.losses[k], o, batch.y[k]));
        });
        record = perB.map((ls) => ls.map((l) => l.dataSync()[0]));
        let total: tf.Tensor = tf.div(tf.addN(perB.map((ls) => tf.div(tf.addN(ls), K))), bs.length);
        if (cfg.alpha > 0 && bs.length >= 2) {
          const obj = perB.map((ls) => members.map((m) => tf.div(tf.addN(m.map((k) => ls[k])), m.length) as tf.Scalar));
          total = tf.add(total, tf.mul(simplexOrderRegularizer(bs, obj), cfg.alpha));
        }
        return total as tf.Scalar;
      })(tensors as tf.Tensor[]);
      value.dispose();
      return { grads, losses: Array.from({ length: K }, (_, k) => record.reduce((s, l) => s + l[k], 0) / record.length) };
    },
    evaluate: () => ({}),
  };
  const r = await runTrainingLoop({ ...cfg, ...trainingFiles(cfg.dir), label: 'surface' }, data.train, data.inputShape, trainable);
  return { trainable: r.tensors, history: r.history };
}

export interface SurfacePoint {
  bary: Bary;
  val: TaskMetrics[];
  test: TaskMetrics[];
  /** the three corner objectives' metrics */
  valObjectives: TaskMetrics[];
  testObjectives: TaskMetrics[];
}

export interface SurfaceProfile {
  format: 'extra-surface-profile';
  taskNames: string[];
  objectiveNames: string[];
  points: SurfacePoint[];
  nonDominatedTestLoss: number[];
  /** testError is null when a corner objective is a regression (no error rate) */
  hypervolume: { testLoss: { ref: number[]; surface: number; corners: number }; testError: { ref: number[]; surface: number; corners: number } | null };
  /** Spearman of each corner objective's validation loss with its own barycentric weight (≈ −1 when the knob works) */
  spearmanValLoss: Record<string, number>;
  /** the fingerprint of the surface files it measured (a stale profile is refused) */
  surfaceFingerprint?: string;
}

export function profileSurface(
  model: FunctionalModel,
  surface: WeightSurface,
  trainable: readonly tf.Tensor[],
  data: { taskNames: string[]; val: LabelledSplit; test: LabelledSplit; train?: LabelledSplit },
  objectives: ObjectiveMap,
  corners: [number, number, number],
  resolution = 10,
  progressOn = true,
): SurfaceProfile {
  const progress = makeProgress('surface profile', progressOn);
  const map: ObjectiveMap = { names: corners.map((c) => objectives.names[c]), members: corners.map((c) => objectives.members[c]) };
  const grid = simplexGrid(resolution);
  const points: SurfacePoint[] = grid.map((b, i) => {
    const params = surfacePoint(surface, trainable, b);
    const [val, test] = evaluateSplits(model, params, [data.val, data.test], data.train);
    params.forEach((p) => p.dispose());
    progress.update(`point ${i + 1}/${grid.length}`);
    return { bary: b, val, test, valObjectives: objectiveMetrics(val, map), testObjectives: objectiveMetrics(test, map) };
  });
  progress.done(`${grid.length} points`);
  const lossRows = points.map((p) => p.testObjectives.map((m) => m.loss));
  const errs = points.map((p) => errorRates(p.testObjectives));
  const errRows = errs.every((e) => e !== null) ? (errs as number[][]) : null;
  const cornerIdx = [0, 1, 2].map((c) => grid.findIndex((b) => b[c] === 1));
  // 2 per cross-entropy objective, a regression's test-target variance (src/curves/profile.ts)
  const lref = lossReference(model, data.test, map);
  const sp: Record<string, number> = {};
  map.names.forEach((n, g) => (sp[n] = spearman(points.map((p) => p.bary[g]), points.map((p) => p.valObjectives[g].loss))));
  return {
    format: 'extra-surface-profile',
    taskNames: data.taskNames,
    objectiveNames: map.names,
    points,
    nonDominatedTestLoss: nonDominated(lossRows),
    hypervolume: {
      testLoss: { ref: lref, surface: hypervolume(lossRows, lref), corners: hypervolume(cornerIdx.map((i) => lossRows[i]), lref) },
      testError: errRows && { ref: [1, 1, 1], surface: hypervolume(errRows, [1, 1, 1]), corners: hypervolume(cornerIdx.map((i) => errRows[i]), [1, 1, 1]) },
    },
    spearmanValLoss: sp,
  };
}

const metricsRow = z.array(taskMetricsSchema).length(3);
/** surface/profile.json as `extra surface eval` writes it: what queries and the report read. */
export const surfaceProfileSchema = z
  .object({
    format: z.literal('extra-surface-profile'),
    taskNames: z.array(z.string()).min(1),
    objectiveNames: z.array(z.string()).length(3),
    points: z.array(z.object({ bary: z.array(z.number().finite().min(0)).length(3), valObjectives: metricsRow, testObjectives: metricsRow }).passthrough()).min(1),
    surfaceFingerprint: z.string().optional(),
  })
  .passthrough();

