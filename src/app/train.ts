import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { containsFile, removeCreatedOnFailure } from '../util/fs.js';
import { getObjective } from '../objectives/index.js';
import { assertResumable, trainEndpoint, trainEndpointsInWorkers, workersAvailable, type EndpointConfig, type EndpointSummary } from '../train/index.js';
import { baselineFile, endpointDir, endpointId, endpointsDir, metricsFile, singleTaskDir, sourceOnnxFile, trainingFileNames, trainingFiles, warmStartDir, writeBaseline, type DatasetRecipe } from '../run/index.js';
import { baselineOf } from '../tasks/index.js';
import { buildModel, type TaskLoss } from '../models/index.js';
import { assertFootprintFits } from '../models/footprint.js';
import { loadDataset } from '../data/index.js';
import { datasetRecipeOf } from '../data/types.js';
import { defaultThreads } from '../parallel/pool.js';
import { createOrOpenRun, silent, useBackend, withDefaults, type Log } from './run.js';

/** Defaults of an endpoint training (the CLI's too). */
export const trainDefaults = {
  arch: 'lenet-mtl',
  method: 'ls',
  epochs: 10,
  batchSize: 256,
  lr: 1e-3,
  optimizer: 'adam' as 'adam' | 'sgd',
  schedule: 'constant' as 'constant' | 'cosine' | 'step',
  seed: 0,
  workers: 2,
};

export interface TrainRequest {
  /** the run directory (created with run.json on first use) */
  run: string;
  /** preferences as text, one endpoint each: '0.8,0.2' (per task, or per group in a grouped run) */
  prefs: string[];
  /** the data set of a new run; for an existing run only checked against it */
  dataset?: Partial<DatasetRecipe>;
  arch?: string;
  /** hidden layer widths for mlp-mtl */
  hidden?: number[];
  /** your own model: a tfjs-layers / Keras model.json (or the directory holding it); replaces arch */
  modelJson?: string;
  modelOnnx?: string;
  /** per-task losses of a --model-json model (default: inferred from each output's final activation) */
  losses?: TaskLoss[];
  /** --tasks: the --model-json output layers answering the tasks, in task order */
  outputs?: string[];
  method?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: 'adam' | 'sgd';
  schedule?: 'constant' | 'cosine' | 'step';
  /** 'step': the epochs at which the learning rate is multiplied by `gamma` (default 0.1), as MultiStepLR */
  milestones?: number[];
  gamma?: number;
  seed?: number;
  backend?: string;
  /** concurrent endpoint trainings in worker threads (default 2) */
  workers?: number;
  /** data-parallel threads per training (default: cores ÷ concurrent trainings) */
  threads?: number;
  /**
   * epochs of one shared training at the preferences' mean that every endpoint then starts from (0: each
   * endpoint from its own random start); kept in RUN/warm-start, and counted in passes on top of --epochs
   */
  warmStart?: number;
  resume?: boolean;
  /**
   * the single-task ("Independent") models instead of endpoints: one model per task trained on that task
   * alone (a one-hot preference), kept in RUN/single-task/TASK; their numbers become RUN/baseline.json,
   * what Δm% compares every point of the curve against
   */
  singleTask?: boolean;
  /** no progress bars on stderr */
  quiet?: boolean;
}

export type TrainedEndpoint = EndpointSummary & { dir: string; preference: number[] };

/** Train one endpoint per preference into RUN/endpoints/ID (tfjs layers format + metrics.json). */
export async function trainEndpoints(req: TrainRequest, log: Log = silent): Promise<{ backend: string; endpoints: TrainedEndpoint[] }> {
  const d = trainDefaults;
  // no default arch or seed here: an existing run keeps its own
  const { arch: _arch, seed: _seed, ...loopDefaults } = d;
  const a = withDefaults(req, loopDefaults);
  getObjective(a.method); // validate before any work
  if (req.singleTask && req.prefs.length) throw new ExtraInputError('--single-task trains one model per task at its own one-hot preference; give no --pref');
  if (req.singleTask && req.warmStart) throw new ExtraInputError('--single-task models start from scratch; drop --warm-start');
  if ((req.milestones || req.gamma !== undefined) && a.schedule !== 'step') throw new ExtraInputError('--milestones and --gamma are for --schedule step');
  if (req.milestones && !req.milestones.every((m, i) => Number.isInteger(m) && m > 0 && (i === 0 || m > req.milestones![i - 1]))) throw new ExtraInputError(`--milestones must be increasing positive epochs, got ${req.milestones.join(',')}`);
  if (req.gamma !== undefined && !(req.gamma > 0 && req.gamma <= 1)) throw new ExtraInputError(`--gamma must be in (0, 1], got ${req.gamma}`);
  const quiet = a.quiet ?? false;
  const backend = await useBackend(a.backend, quiet);
  const seed = req.seed ?? d.seed;
  // a run directory this training creates goes again if it fails before any epoch was checkpointed or any endpoint finished
  return removeCreatedOnFailure(a.run, async () => {
    const ds0 = req.dataset ?? {};
    const { info, prefs, groupPrefs } = await createOrOpenRun(
      {
        run: a.run,
        dataset: { name: ds0.name ?? '', seed: ds0.seed ?? seed, trainSize: ds0.trainSize, valSize: ds0.valSize, testSize: ds0.testSize, dataDir: ds0.dataDir, ...optionalRecipe(ds0) },
        // no arch: the existing run's own (lenet-mtl for a new run)
        arch: a.arch,
        hidden: a.hidden,
        modelJson: req.modelJson,
        ...(req.modelOnnx !== undefined ? { modelOnnx: req.modelOnnx } : {}),
        losses: req.losses,
        outputs: req.outputs,
        seed,
        prefs: a.prefs,
        batchSize: a.batchSize,
        quiet,
      },
      backend,
    );
    const footprint = buildModel(info.model).footprint;
    if (footprint) assertFootprintFits(footprint, a.batchSize);
    const recipe: DatasetRecipe = datasetRecipeOf(info.dataset);
    const taskNames = info.dataset.taskNames;
    // --single-task: task k alone, in RUN/single-task/TASK (never a curve's endpoint)
    const jobs = req.singleTask
      ? taskNames.map((name, k) => ({ id: `single-${name}`, dir: singleTaskDir(a.run, name), pref: taskNames.map((_, j) => (j === k ? 1 : 0)) }))
      : prefs.map((pref, i) => {
          const id = groupPrefs ? endpointId(`${a.method}-groups`, groupPrefs[i]) : endpointId(a.method, pref);
          return { id, dir: endpointDir(a.run, id), pref };
        });
    const cfgs: EndpointConfig[] = jobs.map(({ id, dir, pref }, i) => {
      return {
        dir,
        ...trainingFiles(dir),
        metricsFile: metricsFile(dir),
        // an ONNX-made model starts from the file's own weights
        // (a single-task model starts from scratch: from the file's trained weights it would be that endpoint fine-tuned, not independent)
        ...(info.model.onnx && !req.singleTask ? { initialOnnx: sourceOnnxFile(a.run) } : {}),
        id,
        spec: info.model,
        method: a.method,
        preference: pref,
        epochs: a.epochs,
        batchSize: a.batchSize,
        lr: a.lr,
        optimizer: { name: a.optimizer },
        schedule: { name: a.schedule, ...(req.milestones ? { milestones: [...req.milestones] } : {}), ...(req.gamma !== undefined ? { gamma: req.gamma } : {}) },
        seed,
        resume: a.resume ?? false,
        progress: !quiet,
        record: { backend, dataset: info.dataset.name, dataFingerprint: info.dataset.fingerprint, ...(groupPrefs && !req.singleTask ? { groupPreference: groupPrefs[i] } : {}) },
      };
    });
    const seen = new Map<string, number>();
    cfgs.forEach((c, i) => {
      // 0.8,0.2 and 8,2 normalize to the same endpoint: training it twice at once would clobber it
      if (seen.has(c.id)) throw new ExtraInputError(`--pref ${i + 1} is the same preference as --pref ${seen.get(c.id)! + 1} (endpoint ${c.id}); give each preference once`);
      seen.set(c.id, i);
    });
    let results: EndpointSummary[];
    const concurrent = cfgs.length > 1 && a.workers > 1 && workersAvailable() ? Math.min(a.workers, cfgs.length) : 1;
    const threads = a.threads ?? defaultThreads(concurrent);
    cfgs.forEach((c) => (c.threads = threads));
    if (req.warmStart !== undefined && !(Number.isInteger(req.warmStart) && req.warmStart >= 0)) throw new ExtraInputError(`--warm-start must be a whole number of epochs, got ${req.warmStart}`);
    // what --resume continues (the warm start's checkpoint too) is checked before any work or status line
    if (a.resume) {
      for (const c of cfgs) await assertResumable({ ...c, label: c.id });
      if (req.warmStart) await assertResumable({ ...cfgs[0], ...trainingFiles(warmStartDir(a.run)), label: 'warm-start' });
    }
    if (req.warmStart) {
      // one training at the preferences' mean; every endpoint branches from its weights (one basin, so a
      // low barrier between them, and endpoints that need fewer epochs of their own)
      const ds = await loadDataset(recipe.name, { ...recipe, quiet: true });
      const mean = cfgs[0].preference.map((_, k) => cfgs.reduce((sum, c) => sum + c.preference[k], 0) / cfgs.length);
      const dir = warmStartDir(a.run);
      log(`warm start: ${req.warmStart} epoch(s) at (${mean.map((v) => +v.toFixed(4)).join(', ')}), then every endpoint from it`);
      const warm = await trainEndpoint({ ...cfgs[0], dir, ...trainingFiles(dir), metricsFile: metricsFile(dir), id: 'warm-start', preference: mean, epochs: req.warmStart, threads: a.threads ?? defaultThreads(1) }, ds);
      const start = warm.params.map((p) => Float32Array.from(p.dataSync()));
      warm.params.forEach((p) => p.dispose());
      cfgs.forEach((c) => (c.initial = start));
    }
    if (concurrent > 1) {
      log(`training ${cfgs.length} endpoints, ${concurrent} at a time in worker threads${threads > 1 ? `, ${threads} threads each` : ''}`);
      results = await trainEndpointsInWorkers(
        cfgs.map((cfg) => ({ backend, recipe, cfg })),
        a.workers,
      );
    } else {
      const ds = await loadDataset(recipe.name, { ...recipe, quiet: true });
      results = [];
      for (const cfg of cfgs) {
        const r = await trainEndpoint(cfg, ds);
        r.params.forEach((p) => p.dispose());
        results.push({ id: cfg.id, val: r.val, test: r.test, seconds: r.seconds });
      }
    }
    if (req.singleTask) {
      // each task's numbers come from its own model
      const pick = (split: 'val' | 'test') => Object.fromEntries(taskNames.map((name, k) => [name, baselineOf(results[k][split][name])]));
      await writeBaseline(a.run, { format: 'extra-baseline', source: 'single-task', test: pick('test'), val: pick('val') });
      log(`single-task numbers written to ${baselineFile(a.run)} (Δm% of every profile point compares against them)`);
    }
    return { backend, endpoints: results.map((r, i) => ({ ...r, dir: cfgs[i].dir, preference: cfgs[i].preference })) };
  }, async () => (await containsFile(endpointsDir(a.run), trainingFileNames.checkpoint)) || (await containsFile(endpointsDir(a.run), trainingFileNames.metrics)));
}

/** The recipe fields only some data sets use, copied only when set (so run.json stays as it was for the others). */
export function optionalRecipe(d: Partial<DatasetRecipe>): Partial<DatasetRecipe> {
  return {
    ...(d.valFraction !== undefined ? { valFraction: d.valFraction } : {}),
    ...(d.resolution !== undefined ? { resolution: d.resolution } : {}),
    ...(d.attributes !== undefined ? { attributes: d.attributes } : {}),
    ...(d.ignoreLabel !== undefined ? { ignoreLabel: d.ignoreLabel } : {}),
  };
}
