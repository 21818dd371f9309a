// Equal-budget Pareto fronts: LS sweep vs line / Bézier / PolyChain / NURBS (± order term).
// Usage: npm run bench -- front [--dataset multi-mnist,...] [--seeds 3] [--epochs N] [--quick] [--out DIR]
import { parseArgs } from 'node:util';
import { runFrontBenchmark, summarizeRows, frontMethods } from '../dist/bench/front.js';
import { machineInfo } from './machine.js';

const { values: v } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'multi-mnist' },
    seeds: { type: 'string', default: '3' },
    epochs: { type: 'string' },
    sweep: { type: 'string', default: '5' },
    points: { type: 'string', default: '21' },
    methods: { type: 'string', default: frontMethods.join(',') },
    out: { type: 'string', default: 'runs/bench-front' },
    quick: { type: 'boolean' },
    backend: { type: 'string' },
  },
});
const quick = v.quick === true;
const datasets = quick ? ['multi-mnist'] : v.dataset.split(',');
const seeds = quick ? 1 : Number(v.seeds);
const epochs = Number(v.epochs ?? (quick ? 2 : 4));
const sizes = quick ? { trainSize: 1024, valSize: 256, testSize: 256 } : undefined;
console.log(JSON.stringify({ ...machineInfo(), backend: v.backend ?? process.env.EXTRA_BACKEND ?? 'auto' }));
for (const dataset of datasets) {
  const all = [];
  for (let seed = 0; seed < seeds; seed++) {
    all.push(await runFrontBenchmark({ dataset, out: v.out, seed, sizes, epochs, sweep: Number(v.sweep), points: quick ? 7 : Number(v.points), lr: 3e-3, methods: v.methods.split(','), backend: v.backend, quiet: true }, { out: console.log, err: (s) => process.stderr.write(s + '\n') }));
  }
  console.log(`\n## ${dataset} — ${seeds} seed(s), LS sweep of ${v.sweep} × ${epochs} epochs; curves: 2 endpoints × ${epochs} epochs + equal-budget curve epochs${quick ? ' (quick mode: 1024 training images)' : ''}\n`);
  console.log(summarizeRows(all));
}
