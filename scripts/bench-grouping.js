// Task grouping, checked (issue #21 §4): are the groups `extra group` finds on multi-mnist-attributes stable
// across seeds (0, 1, 2) and warm-up lengths (1 vs 3 epochs)? Prints each grouping, then the adjusted Rand index
// of every pair, and the ground truth it should find (the two digit positions share nothing; the attributes of
// one position share the digit's features). Usage (after npm run build):
//   npm run bench -- grouping [--seeds 3] [--warmups 1,3] [--train-size 10000] [--out runs/bench-grouping]
import { parseArgs } from 'node:util';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { groupTasks } from '../dist/app/index.js';
import { adjustedRandIndex } from '../dist/grouping/index.js';
import { machineInfo } from './machine.js';

const { values: v } = parseArgs({ options: { seeds: { type: 'string', default: '3' }, warmups: { type: 'string', default: '1,3' }, 'train-size': { type: 'string', default: '10000' }, out: { type: 'string', default: 'runs/bench-grouping' } } });
console.log(JSON.stringify(await machineInfo()));
const seeds = Array.from({ length: Number(v.seeds) }, (_, i) => i);
const warmups = v.warmups.split(',').map(Number);
const runs = [];
for (const warmupEpochs of warmups) {
  for (const seed of seeds) {
    const run = path.join(v.out, `w${warmupEpochs}-s${seed}`);
    rmSync(run, { recursive: true, force: true });
    const t0 = performance.now();
    const g = await groupTasks({ run, dataset: 'multi-mnist-attributes', k: 3, seed, warmupEpochs, trainSize: Number(v['train-size']), valSize: 2000, testSize: 2000, quiet: true });
    const labels = g.tasks.map((_, i) => g.groups.members.findIndex((m) => m.includes(i)));
    runs.push({ seed, warmupEpochs, labels, groups: g.groups.members.map((m) => m.map((i) => g.tasks[i])), seconds: (performance.now() - t0) / 1000 });
    console.log(`warm-up ${warmupEpochs} epoch(s), seed ${seed} (${runs.at(-1).seconds.toFixed(0)} s): ${runs.at(-1).groups.map((m) => `{${m.join(' ')}}`).join(' ')}`);
  }
}
const tasks = 12;
const truth = Array.from({ length: tasks }, (_, i) => (i < 6 ? 0 : 1));
console.log('\n| grouping | ' + runs.map((r) => `w${r.warmupEpochs} s${r.seed}`).join(' | ') + ' | ARI vs positions (2 groups) |');
console.log('|---|' + runs.map(() => '---').join('|') + '|---|');
for (const a of runs) {
  console.log(`| w${a.warmupEpochs} s${a.seed} | ${runs.map((b) => adjustedRandIndex(a.labels, b.labels).toFixed(3)).join(' | ')} | ${adjustedRandIndex(a.labels, truth).toFixed(3)} |`);
}
