import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { buildModel, modelArchs } from '../models/index.js';
import { trainEndpoint } from '../train/index.js';
import { taskGradientCosines, cosineToAffinity, spectralClustering, chooseRoles, writeGrouping, type GroupingFile } from '../grouping/index.js';
import { optNumber, optString, parseFlags, reqString } from './args.js';
import { setupBackend, loadRunDataset, stdio, type Io } from './context.js';
import { prepareRun } from './train.js';

export const groupHelp = `extra group --run DIR [--dataset multi-mnist-attributes] [--k 3|eigengap] [--warmup-epochs 1] [--batches 8]

Many tasks: warm up a shared model with equal task weights (task heads start identical), average the
cosine similarity of the tasks' trunk gradients over several batches, turn it into an affinity
max(cos, 0), and cluster the tasks spectrally (normalized Laplacian, mathjs eigenvectors, seeded
k-means++). The two most conflicting groups become the curve's endpoint objectives; with k ≥ 3 the
group that agrees best with both is aligned at t = 1/2. Writes DIR/grouping.json; afterwards
'extra train --pref' takes one entry per group.`;

export async function groupCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('group', argv, {
    run: { type: 'string' },
    dataset: { type: 'string' },
    k: { type: 'string' },
    'warmup-epochs': { type: 'string' },
    batches: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    arch: { type: 'string' },
    seed: { type: 'string' },
    'train-size': { type: 'string' },
    'val-size': { type: 'string' },
    'test-size': { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  if (v.help) {
    io.out(groupHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`group: unexpected argument '${positionals[0]}'`);
  const run = reqString('group', v, 'run');
  const kText = optString(v, 'k') ?? '3';
  const k: number | 'eigengap' = kText === 'eigengap' ? 'eigengap' : Number(kText);
  if (k !== 'eigengap' && (!Number.isInteger(k) || k < 1)) throw new ExtraInputError(`group: --k must be a positive integer or 'eigengap', got '${kText}'`);
  const arch = optString(v, 'arch') ?? 'lenet-mtl';
  if (!(modelArchs as readonly string[]).includes(arch)) throw new ExtraInputError(`group: unknown --arch '${arch}'`);
  const seed = optNumber('group', v, 'seed', { integer: true, min: 0 }) ?? 0;
  const warmupEpochs = optNumber('group', v, 'warmup-epochs', { integer: true, positive: true }) ?? 1;
  const batches = optNumber('group', v, 'batches', { integer: true, positive: true }) ?? 8;
  const quiet = v.quiet === true;
  const backend = await setupBackend(optString(v, 'backend'), quiet);
  const { info } = await prepareRun(
    {
      run,
      dataset: {
        name: optString(v, 'dataset') ?? 'multi-mnist-attributes',
        seed,
        trainSize: optNumber('group', v, 'train-size', { integer: true, positive: true }),
        valSize: optNumber('group', v, 'val-size', { integer: true, positive: true }),
        testSize: optNumber('group', v, 'test-size', { integer: true, positive: true }),
      },
      arch,
      seed,
      quiet,
      prefs: [],
    },
    backend,
  );
  const K = info.dataset.taskNames.length;
  if (k !== 'eigengap' && k > K) throw new ExtraInputError(`group: --k ${k} is larger than the number of tasks (${K})`);
  const ds = await loadRunDataset(info, quiet);
  const warm = await trainEndpoint(
    {
      dir: path.join(run, 'grouping', 'warmup'),
      id: 'grouping-warmup',
      spec: info.model,
      method: 'ls',
      preference: Array(K).fill(1 / K),
      epochs: warmupEpochs,
      batchSize: optNumber('group', v, 'batch-size', { integer: true, positive: true }) ?? 256,
      lr: optNumber('group', v, 'lr', { positive: true }) ?? 1e-3,
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
  if (sc.degenerate) io.err('group: every task pair has the same affinity; fell back to contiguous equal-size groups');
  const members = Array.from({ length: sc.k }, (_, g) => sc.labels.map((l, i) => (l === g ? i : -1)).filter((i) => i >= 0)).filter((m) => m.length > 0);
  const names = members.map((m, g) => `g${g}`);
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
  await writeGrouping(run, file);
  const describe = members.map((m, g) => `${names[g]}: ${m.map((i) => info.dataset.taskNames[i]).join(', ')}`);
  if (v.json) io.out(JSON.stringify({ groups: members.map((m) => m.map((i) => info.dataset.taskNames[i])), roles, eigenvalues: sc.eigenvalues.slice(0, 6) }));
  else {
    describe.forEach((d) => io.out(d));
    io.out(`endpoints: ${names[roles.endpoints[0]]} (t=0) vs ${names[roles.endpoints[1]]} (t=1)${roles.aligned !== null ? `; ${names[roles.aligned]} aligned at t=1/2` : ''}`);
    io.out(`next: extra train --run ${run} --pref <one entry per group, e.g. ${members.map((_, g) => (g === roles.endpoints[0] ? '0.8' : g === roles.endpoints[1] ? '0.2' : '0.5')).join(',')}>`);
  }
  return 0;
}
