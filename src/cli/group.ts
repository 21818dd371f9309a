import { ExtraInputError } from '../errors.js';
import { modelArchs } from '../models/index.js';
import { groupTasks, groupDefaults } from '../app/index.js';
import { DECIMAL } from '../util/number.js';
import { flagTable, optNumber, optString, parseFlags, reqString } from './args.js';
import { stdio, type Io } from './context.js';

export const groupHelp = `extra group --run DIR [--dataset multi-mnist-attributes] [--k 3|eigengap] [--warmup-epochs 1] [--batches 8]

Many tasks: warm up a shared model with equal task weights (task heads start identical), average the
cosine similarity of the tasks' trunk gradients over several batches, turn it into an affinity
max(cos, 0), and cluster the tasks spectrally (normalized Laplacian, mathjs eigenvectors, seeded
k-means++). The two most conflicting groups become the curve's endpoint objectives; with k ≥ 3 the
group that agrees best with both is aligned at t = 1/2. Writes DIR/grouping.json; afterwards
'extra train --pref' takes one entry per group.`;

export async function groupCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('group', argv, flagTable({ values: ['run', 'dataset', 'k', 'warmup-epochs', 'batches', 'batch-size', 'lr', 'arch', 'seed', 'train-size', 'val-size', 'test-size', 'backend'], switches: ['json', 'quiet'] }));
  if (v.help) {
    io.out(groupHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`group: unexpected argument '${positionals[0]}'`);
  const run = reqString('group', v, 'run');
  const kText = optString(v, 'k') ?? String(groupDefaults.k);
  const k: number | 'eigengap' = kText === 'eigengap' ? 'eigengap' : Number(kText);
  if (k !== 'eigengap' && (!DECIMAL.test(kText) || !Number.isInteger(k) || k < 1)) throw new ExtraInputError(`group: --k must be a positive integer or 'eigengap', got '${kText}'`);
  const arch = optString(v, 'arch');
  if (arch !== undefined && !modelArchs.includes(arch)) throw new ExtraInputError(`group: unknown --arch '${arch}' (known: ${modelArchs.join(', ')})`);
  const file = await groupTasks(
    {
      run,
      k,
      dataset: optString(v, 'dataset'),
      trainSize: optNumber('group', v, 'train-size', { integer: true, positive: true }),
      valSize: optNumber('group', v, 'val-size', { integer: true, positive: true }),
      testSize: optNumber('group', v, 'test-size', { integer: true, positive: true }),
      arch,
      seed: optNumber('group', v, 'seed', { integer: true, min: 0 }),
      warmupEpochs: optNumber('group', v, 'warmup-epochs', { integer: true, positive: true }),
      batches: optNumber('group', v, 'batches', { integer: true, positive: true }),
      batchSize: optNumber('group', v, 'batch-size', { integer: true, positive: true }),
      lr: optNumber('group', v, 'lr', { positive: true }),
      backend: optString(v, 'backend'),
      quiet: v.quiet === true,
    },
    io.err,
  );
  const { members, names } = file.groups;
  const roles = file.roles;
  const tasks = file.tasks;
  if (v.json) io.out(JSON.stringify({ groups: members.map((m) => m.map((i) => tasks[i])), roles, eigenvalues: file.eigenvalues.slice(0, 6) }));
  else {
    members.forEach((m, g) => io.out(`${names[g]}: ${m.map((i) => tasks[i]).join(', ')}`));
    io.out(`endpoints: ${names[roles.endpoints[0]]} (t=0) vs ${names[roles.endpoints[1]]} (t=1)${roles.aligned !== null ? `; ${names[roles.aligned]} aligned at t=1/2` : ''}`);
    io.out(`next: extra train --run ${run} --pref <one entry per group, e.g. ${members.map((_, g) => (g === roles.endpoints[0] ? '0.8' : g === roles.endpoints[1] ? '0.2' : '0.5')).join(',')}>`);
  }
  return 0;
}
