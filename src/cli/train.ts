import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { defaultModelSpec, modelArchs } from '../models/index.js';
import { parsePreference } from '../objectives/index.js';
import { getObjective } from '../objectives/index.js';
import { trainEndpoint, trainEndpointsInWorkers, workersAvailable, type EndpointConfig, type EndpointSummary } from '../train/index.js';
import { assertWritableDir, endpointId, endpointsDir, packageVersions, readRun, writeRun, type DatasetRecipe, type RunInfo } from '../run/index.js';
import { loadDataset } from '../data/index.js';
import { readGrouping, groupPreferenceToTasks } from '../grouping/index.js';
import { optList, optNumber, optString, parseFlags, reqString, type OptionSpec } from './args.js';
import { setupBackend, stdio, type Io } from './context.js';
import { defaultThreads } from '../parallel/pool.js';

export const trainOptions: OptionSpec = {
  run: { type: 'string' },
  dataset: { type: 'string' },
  pref: { type: 'string', multiple: true },
  method: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  schedule: { type: 'string' },
  arch: { type: 'string' },
  hidden: { type: 'string' },
  seed: { type: 'string' },
  'train-size': { type: 'string' },
  'val-size': { type: 'string' },
  'test-size': { type: 'string' },
  'data-dir': { type: 'string' },
  backend: { type: 'string' },
  workers: { type: 'string' },
  threads: { type: 'string' },
  resume: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
};

export const trainHelp = `extra train --run DIR --dataset NAME --pref 0.8,0.2 [--pref 0.2,0.8 ...] [options]

Train endpoint models (one per --pref) into DIR/endpoints/ID (tfjs layers format + metrics.json).
Several --pref values train two at a time in worker threads.

  --dataset NAME        multi-mnist (default, embedded) | multi-fashion | multi-fashion-mnist
  --method M            ls (default) | chebyshev | mgda | cagrad | fairgrad | pcgrad | nash-mtl
  --epochs N            default 10          --batch-size N   default 256
  --lr X                default 1e-3        --optimizer adam|sgd (default adam)
  --schedule S          constant|cosine|step (default constant)
  --arch A              lenet-mtl (default) | mlp-mtl   [--hidden 256,256 for mlp-mtl]
  --seed N              default 0
  --train-size/--val-size/--test-size N   data set sizes (default: the data set's own)
  --data-dir DIR        where the Fashion-MNIST IDX files are
  --backend B           force a backend (tensorflow-gpu, tensorflow, wasm, cpu); or EXTRA_BACKEND
  --workers N           parallel endpoint trainings (default 2)
  --threads N           threads splitting each batch of one training (default: cores ÷ parallel
                        trainings). Same seed + same threads → bit-identical checkpoints; another
                        thread count changes the gradients' float summation order (last bits)
  --resume              continue an interrupted training from its last complete epoch
  --json                print one JSON object on stdout`;

export interface TrainArgs {
  run: string;
  dataset: DatasetRecipe;
  arch: string;
  hidden?: number[];
  prefs: string[];
  method: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'adam' | 'sgd';
  schedule: 'constant' | 'cosine' | 'step';
  seed: number;
  backend?: string;
  workers: number;
  /** data-parallel threads per training (default: cores ÷ concurrent trainings) */
  threads?: number;
  resume: boolean;
  quiet: boolean;
}

export function parseTrainArgs(argv: string[]): TrainArgs | 'help' {
  const { values: v, positionals } = parseFlags('train', argv, trainOptions);
  if (v.help) return 'help';
  if (positionals.length) throw new ExtraInputError(`train: unexpected argument '${positionals[0]}'`);
  const optimizer = optString(v, 'optimizer') ?? 'adam';
  if (optimizer !== 'adam' && optimizer !== 'sgd') throw new ExtraInputError(`train: --optimizer must be adam or sgd, got '${optimizer}'`);
  const schedule = optString(v, 'schedule') ?? 'constant';
  if (!['constant', 'cosine', 'step'].includes(schedule)) throw new ExtraInputError(`train: --schedule must be constant, cosine or step, got '${schedule}'`);
  const arch = optString(v, 'arch') ?? 'lenet-mtl';
  if (!(modelArchs as readonly string[]).includes(arch)) throw new ExtraInputError(`train: unknown --arch '${arch}' (known: ${modelArchs.join(', ')})`);
  const hiddenS = optString(v, 'hidden');
  const hidden = hiddenS?.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new ExtraInputError(`train: --hidden must be positive integers like 256,256, got '${hiddenS}'`);
    return n;
  });
  const prefs = optList(v, 'pref');
  if (!prefs.length) throw new ExtraInputError('train: at least one --pref is required (e.g. --pref 0.8,0.2)');
  const seed = optNumber('train', v, 'seed', { integer: true, min: 0 }) ?? 0;
  return {
    run: reqString('train', v, 'run'),
    dataset: {
      name: optString(v, 'dataset') ?? '',
      seed,
      trainSize: optNumber('train', v, 'train-size', { integer: true, positive: true }),
      valSize: optNumber('train', v, 'val-size', { integer: true, positive: true }),
      testSize: optNumber('train', v, 'test-size', { integer: true, positive: true }),
      dataDir: optString(v, 'data-dir'),
    },
    arch,
    hidden,
    prefs,
    method: optString(v, 'method') ?? 'ls',
    epochs: optNumber('train', v, 'epochs', { integer: true, positive: true }) ?? 10,
    batchSize: optNumber('train', v, 'batch-size', { integer: true, positive: true }) ?? 256,
    lr: optNumber('train', v, 'lr', { positive: true }) ?? 1e-3,
    optimizer,
    schedule: schedule as TrainArgs['schedule'],
    seed,
    backend: optString(v, 'backend'),
    workers: optNumber('train', v, 'workers', { integer: true, positive: true }) ?? 2,
    threads: optNumber('train', v, 'threads', { integer: true, positive: true, max: 64 }),
    resume: v.resume === true,
    quiet: v.quiet === true,
  };
}

/**
 * Ensure run.json exists and agrees with the requested data set and model; returns it. Everything
 * the user gave (data set, preferences) is validated before anything is written.
 */
export async function prepareRun(
  a: Pick<TrainArgs, 'run' | 'dataset' | 'arch' | 'hidden' | 'seed' | 'quiet'> & { prefs: string[] },
  backend: string,
): Promise<{ info: RunInfo; prefs: number[][]; groupPrefs?: number[][] }> {
  const existing = await readRun(a.run);
  if (existing) {
    if (a.dataset.name && a.dataset.name !== existing.dataset.name) {
      throw new ExtraInputError(`run ${a.run} uses data set ${existing.dataset.name}, not ${a.dataset.name}; use another --run`);
    }
    if (a.arch !== existing.model.arch) throw new ExtraInputError(`run ${a.run} uses model ${existing.model.arch}, not ${a.arch}`);
    // data sizes given for an existing run must be the run's own: they are never silently ignored
    const d = existing.dataset;
    const asked: [string, number | undefined, number | undefined][] = [
      ['--train-size', a.dataset.trainSize, d.trainSize],
      ['--val-size', a.dataset.valSize, d.valSize],
      ['--test-size', a.dataset.testSize, d.testSize],
    ];
    const differ = asked.filter(([, given, had]) => given !== undefined && had !== undefined && given !== had);
    if (differ.length) {
      throw new ExtraInputError(`run ${a.run} was made with ${differ.map(([f, , had]) => `${f} ${had}`).join(', ')}, not ${differ.map(([f, given]) => `${f} ${given}`).join(', ')}; drop the flags or use another --run`);
    }
    const grouping = await readGrouping(a.run);
    const K = existing.dataset.taskNames.length;
    if (grouping) {
      // with task grouping a preference has one entry per group
      const groupPrefs = a.prefs.map((p) => parsePreference(p, grouping.k, `preference over ${grouping.k} groups`));
      return { info: existing, prefs: groupPrefs.map((g) => groupPreferenceToTasks(g, grouping.groups, K)), groupPrefs };
    }
    return { info: existing, prefs: a.prefs.map((p) => parsePreference(p, K)) };
  }
  const recipe: DatasetRecipe = { ...a.dataset, name: a.dataset.name || 'multi-mnist' };
  const ds = await loadDataset(recipe.name, { ...recipe, quiet: a.quiet });
  const prefs = a.prefs.map((p) => parsePreference(p, ds.taskNames.length));
  await assertWritableDir(a.run);
  const spec = defaultModelSpec(a.arch, ds.inputShape, ds.numClasses, ds.taskNames, a.hidden);
  const info: RunInfo = {
    format: 'extra-run',
    version: 1,
    created: new Date().toISOString(),
    dataset: { ...recipe, fingerprint: ds.fingerprint, taskNames: ds.taskNames, numClasses: ds.numClasses, inputShape: ds.inputShape },
    model: spec,
    seed: a.seed,
    backend,
    packages: packageVersions(),
  };
  await writeRun(a.run, info);
  return { info, prefs };
}

export async function trainEndpoints(a: TrainArgs, io: Io = stdio): Promise<{ backend: string; endpoints: (EndpointSummary & { dir: string; preference: number[] })[] }> {
  getObjective(a.method); // validate before any work
  const backend = await setupBackend(a.backend, a.quiet);
  const { info, prefs, groupPrefs } = await prepareRun(a, backend);
  const recipe: DatasetRecipe = { name: info.dataset.name, seed: info.dataset.seed, trainSize: info.dataset.trainSize, valSize: info.dataset.valSize, testSize: info.dataset.testSize, dataDir: info.dataset.dataDir };
  const cfgs: EndpointConfig[] = prefs.map((pref, i) => {
    const id = groupPrefs ? endpointId(`${a.method}-groups`, groupPrefs[i]) : endpointId(a.method, pref);
    return {
      dir: path.join(endpointsDir(a.run), id),
      id,
      spec: info.model,
      method: a.method,
      preference: pref,
      epochs: a.epochs,
      batchSize: a.batchSize,
      lr: a.lr,
      optimizer: { name: a.optimizer },
      schedule: { name: a.schedule },
      seed: a.seed,
      resume: a.resume,
      progress: !a.quiet,
      record: { backend, dataset: info.dataset.name, dataFingerprint: info.dataset.fingerprint, ...(groupPrefs ? { groupPreference: groupPrefs[i] } : {}) },
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
  if (concurrent > 1) {
    io.err(`training ${cfgs.length} endpoints, ${concurrent} at a time in worker threads${threads > 1 ? `, ${threads} threads each` : ''}`);
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
  return { backend, endpoints: results.map((r, i) => ({ ...r, dir: cfgs[i].dir, preference: cfgs[i].preference })) };
}

export async function trainCommand(argv: string[], io: Io = stdio, json = false): Promise<number> {
  const a = parseTrainArgs(argv);
  if (a === 'help') {
    io.out(trainHelp);
    return 0;
  }
  const r = await trainEndpoints(a, io);
  if (json || argv.includes('--json')) {
    io.out(JSON.stringify({ run: a.run, backend: r.backend, endpoints: r.endpoints }));
  } else {
    for (const e of r.endpoints) {
      const tasks = Object.entries(e.test)
        .map(([k, m]) => `${k} ${(100 * m.accuracy).toFixed(2)}% (loss ${m.loss.toFixed(4)})`)
        .join(', ');
      io.out(`${e.id}: test ${tasks} — ${e.seconds.toFixed(1)} s → ${e.dir}`);
    }
  }
  return 0;
}
