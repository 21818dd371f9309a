// Equal-budget Pareto fronts: LS sweep vs line / Bézier / PolyChain / NURBS (± order term).
// Usage: npm run bench -- front [--dataset multi-mnist,...] [--seeds 3] [--epochs N] [--quick] [--out DIR]
//   [--train-size N --val-size N --test-size N] [--workers N] [--endpoint-method ls|fairgrad|cagrad] [--reuse] [--png DIR]
import { parseArgs } from 'node:util';
import { writeFileSync, mkdirSync, readFileSync, existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import { runFrontBenchmark, summarizeRows, pairedComparison, frontMethods, frontPlotFigure } from '../dist/bench/front.js';
import { renderFigurePngs, plotlyFile } from '../dist/report/index.js';
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
    png: { type: 'string' },
    'train-size': { type: 'string' },
    'val-size': { type: 'string' },
    'test-size': { type: 'string' },
    workers: { type: 'string', default: '2' },
    'endpoint-method': { type: 'string', default: 'ls' },
    reuse: { type: 'boolean' },
  },
});
const quick = v.quick === true;
const datasets = quick ? ['multi-mnist'] : v.dataset.split(',');
const seeds = quick ? 1 : Number(v.seeds);
const epochs = Number(v.epochs ?? (quick ? 2 : 4));
const num = (x) => (x === undefined ? undefined : Number(x));
const sizes = quick ? { trainSize: 1024, valSize: 256, testSize: 256 } : { trainSize: num(v['train-size']), valSize: num(v['val-size']), testSize: num(v['test-size']) };
console.log(JSON.stringify({ ...machineInfo(), backend: v.backend ?? process.env.EXTRA_BACKEND ?? 'auto' }));
for (const dataset of datasets) {
  const all = [];
  for (let seed = 0; seed < seeds; seed++) {
    const opts = { dataset, out: v.out, seed, sizes, epochs, sweep: Number(v.sweep), points: quick ? 7 : Number(v.points), lr: 3e-3, methods: v.methods.split(','), backend: v.backend, workers: Number(v.workers), endpointMethod: v['endpoint-method'], quiet: true };
    // each finished seed is kept (atomically) beside the runs, so an interrupted benchmark re-run with --reuse
    // skips the seeds it already has — but only when they were made with the same options
    const saved = path.join(v.out, `${dataset}-${v['endpoint-method']}-seed${seed}.rows.json`);
    const key = JSON.stringify(opts);
    if (v.reuse && existsSync(saved)) {
      const prev = JSON.parse(readFileSync(saved, 'utf8'));
      if (prev.key === key) {
        process.stderr.write(`[bench front] ${dataset} seed ${seed}: reusing ${saved}\n`);
        all.push(prev.rows);
        continue;
      }
    }
    const rows = await runFrontBenchmark(opts, (s) => process.stderr.write(s + '\n'));
    mkdirSync(v.out, { recursive: true });
    writeFileSync(saved + '.tmp', JSON.stringify({ key, rows }));
    renameSync(saved + '.tmp', saved);
    all.push(rows);
  }
  console.log(`\n## ${dataset} — ${seeds} seed(s), LS sweep of ${v.sweep} × ${epochs} epochs; curves: 2 endpoints × ${epochs} epochs + equal-budget curve epochs${quick ? ' (quick mode: 1024 training images)' : ''}${sizes.trainSize ? ` (train/val/test sizes ${sizes.trainSize}/${sizes.valSize ?? 'default'}/${sizes.testSize ?? 'default'})` : ''}; endpoints: ${v['endpoint-method']}\n`);
  console.log(summarizeRows(all));
  if (all[0].some((r) => r.method === 'nurbs') && all[0].length > 1) {
    console.log(`\nPaired per seed, NURBS + order term minus each other method (better = higher HV, lower Chebyshev and angle):\n`);
    console.log(pairedComparison(all, 'nurbs'));
  }
  if (v.png) {
    // the Pareto plot of seed 0, drawn by Chromium from a small page (plotly.js from plotly.js-dist)
    mkdirSync(v.png, { recursive: true });
    const fig = frontPlotFigure(all[0], dataset);
    const html = path.join(v.out, `front-${dataset}.html`);
    writeFileSync(html, `<!doctype html><html><head><script src="file://${plotlyFile()}"></script></head><body><div id="fig-${fig.id}" style="width:900px;height:600px"></div><script>Plotly.newPlot('fig-${fig.id}', ${JSON.stringify(fig.data)}, ${JSON.stringify(fig.layout)}).then(() => { window.__extraDrawn = true; });</script></body></html>`);
    const r = await renderFigurePngs(html, [fig.id], v.png);
    console.log(r.files.length ? `\nPareto plot: ${r.files.join(', ')}` : `\nno Pareto plot: ${r.skipped}`);
  }
}
