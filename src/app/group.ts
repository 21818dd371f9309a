import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { buildModel } from '../models/index.js';
import { trainEndpoint } from '../train/index.js';
import { taskGradientCosines, cosineToAffinity, spectralClustering, chooseRoles, writeGrouping, type GroupingFile } from '../grouping/index.js';
import { removeCreatedOnFailure } from '../util/fs.js';
import { createOrOpenRun, loadRunDataset, silent, useBackend, type Log } from './run.js';
import { groupingWarmupDir, metricsFile, trainingFiles } from '../run/layout.js';

export const groupDefaults = { dataset: 'multi-mnist-attributes', k: 3, arch: 'lenet-mtl', seed: 0, warmupEpochs: 1, batches: 8, batchSize: 256, lr: 1e-3 };

export interface GroupRequest {
  run: string;
  /** number of groups, or 'eigengap' to choose it from the spectrum */
  k?: number | 'eigengap';
  dataset?: string;
  trainSize?: number;
  valSize?: number;
  testSize?: number;
  arch?: string;
  seed?: number;
  warmupEpochs?: number;
  /** batches whose trunk-gradient cosines are averaged */
  batches?: number;
  batchSize?: number;
  lr?: number;
  backend?: string;
  quiet?: boolean;
}

/**
 * Many tasks: warm up a shared model with equal task weights (heads start identical), average the
 * cosine similarity of the tasks' trunk gradients over several batches, and cluster the tasks
 * spectrally. The two most conflicting groups become the curve's endpoint objectives; with k ≥ 3 the
 * group that agrees best with both is aligned at t = ½. Writes RUN/grouping.json; a run directory this
 * call creates goes again if it fails.
 */
export async function groupTasks(req: GroupRequest, log: Log = silent): Promise<GroupingFile> {
  return removeCreatedOnFailure(req.run, () => groupTasksIn(req, log));
}

async function groupTasksIn(req: GroupRequest, log: Log): Promise<GroupingFile> {
  const d = groupDefaults;
  const k = req.k ?? d.k;
  if (k !== 'eigengap' && (!Number.isInteger(k) || k < 1)) throw new ExtraInputError(`--k must be a positive integer or 'eigengap', got '${k}'`);
  const seed = req.seed ?? d.seed;
  const warmupEpochs = req.warmupEpochs ?? d.warmupEpochs;
  const batches = req.batches ?? d.batches;
  const quiet = req.quiet ?? false;
  const backend = await useBackend(req.backend, quiet);
  const { info } = await createOrOpenRun(
    {
      run: req.run,
      dataset: { name: req.dataset ?? d.dataset, seed, trainSize: req.trainSize, valSize: req.valSize, testSize: req.testSize },
      arch: req.arch ?? d.arch,
      seed,
      quiet,
      prefs: [],
    },
    backend,
  );
  const K = info.dataset.taskNames.length;
  if (k !== 'eigengap' && k > K) throw new ExtraInputError(`--k ${k} is larger than the number of tasks (${K})`);
  const ds = await loadRunDataset(info, quiet);
  const warm = await trainEndpoint(
    {
      dir: groupingWarmupDir(req.run),
      ...trainingFiles(groupingWarmupDir(req.run)),
      metricsFile: metricsFile(groupingWarmupDir(req.run)),
      id: 'grouping-warmup',
      spec: info.model,
      method: 'ls',
      preference: Array(K).fill(1 / K),
      epochs: warmupEpochs,
      batchSize: req.batchSize ?? d.batchSize,
      lr: req.lr ?? d.lr,
      optimizer: { name: 'adam' },
      schedule: { name: 'constant' },
      seed,
      resume: false,
      progress: !quiet,
      tieHeadInit: true,
    },
    ds,
  );
  const cosine = taskGradientCosines(buildModel(info.model), warm.params, ds.train, { batches, seed });
  warm.params.forEach((p) => p.dispose());
  const sc = spectralClustering(cosineToAffinity(cosine), k, seed);
  if (sc.degenerate) log('every task pair has the same affinity; fell back to contiguous equal-size groups');
  const members = Array.from({ length: sc.k }, (_, g) => sc.labels.map((l, i) => (l === g ? i : -1)).filter((i) => i >= 0)).filter((m) => m.length > 0);
  const names = members.map((_, g) => `g${g}`);
  const roles = members.length >= 2 ? chooseRoles(cosine, members) : { endpoints: [0, 0] as [number, number], aligned: null };
  const file: GroupingFile = {
    format: 'extra-grouping',
    version: 1,
    tasks: info.dataset.taskNames,
    cosine,
    affinityRule: 'max(cos, 0) off the diagonal, 1 on it',
    k: members.length,
    eigenvalues: sc.eigenvalues,
    degenerate: sc.degenerate,
    groups: { names, members },
    roles,
    warmup: { epochs: warmupEpochs, batches, seed },
  };
  await writeGrouping(req.run, file);
  return file;
}
