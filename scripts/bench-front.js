// Equal-budget Pareto fronts: LS sweep vs line / Bézier / PolyChain / NURBS (± order term).
// Usage: npm run bench -- front [--dataset multi-mnist,...] [--seeds 3] [--epochs N] [--quick] [--out DIR]
import { parseArgs } from 'node:util';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { runFrontBenchmark, summarizeRows, frontMethods, frontPlotFigure } from '../dist/bench/front.js';
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
