// The published size (issue #21 §1): per data set and seed, two LS endpoints (0.9,0.1) and (0.1,0.9) at the
// data set's default size (108k / 12k / 20k for multi-fashion and multi-fashion-mnist), Adam 1e-3, batch 256, the
// COSMOS MultiStepLR milestones; a NURBS curve (and, with --curves nurbs,bezier, its Bézier twin between the same
// endpoints) with as many epochs; a 21-point profile and the (0.5,0.5) query. Prints one row per seed and curve,
// curve minus endpoints, and NURBS minus Bézier paired per seed.
// Usage (after npm run build):
//   npm run bench -- published [--dataset multi-fashion,multi-fashion-mnist] [--seeds 3] [--epochs 20]
//                              [--curves nurbs,bezier] [--out runs/published] [--reuse] [--train-size N ...]
//   npm run bench -- published --runs DIR,DIR,...   (summarize finished runs; nothing is trained)
//   --png DIR: one test-loss front figure per data set
// Run directories are OUT/DATASET-sSEED; --reuse keeps every finished step (endpoints, curve, profile) of them.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { existsSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { renderFigurePngs, plotlyFile } from '../dist/report/index.js';
import { trainEndpoints, fitRunCurve, evaluateRunCurve, readProfile, query, runLayout } from '../dist/app/index.js';
import { readJsonWith } from '../dist/io/json-file.js';
import { runInfoSchema, metricsSchema } from '../dist/run/schema.js';
import { curveFileSchema } from '../dist/curves/store.js';
import { machineInfo } from './machine.js';

const { values: v } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'multi-fashion,multi-fashion-mnist' },
    seeds: { type: 'string', default: '3' },
    epochs: { type: 'string', default: '20' },
    milestones: { type: 'string', default: '20,40,80,90' },
    curves: { type: 'string', default: 'nurbs' },
    points: { type: 'string', default: '21' },
    out: { type: 'string', default: 'runs/published' },
    runs: { type: 'string' },
    reuse: { type: 'boolean', default: false },
    // a test-loss front figure per data set (every seed; NURBS solid, Bézier dashed), drawn by Chromium
    png: { type: 'string' },
    // smaller data than the data set's default (the published size), for a smoke test
    'train-size': { type: 'string' },
    'val-size': { type: 'string' },
    'test-size': { type: 'string' },
  },
});
const log = (s) => process.stderr.write(`[bench published] ${s}\n`);
const curves = v.curves.split(',');
const curveDirName = (kind) => (kind === 'nurbs' ? 'curve' : kind);
const epochs = Number(v.epochs);
const milestones = v.milestones.split(',').map(Number);
const sizes = Object.fromEntries(['train', 'val', 'test'].filter((k) => v[`${k}-size`] !== undefined).map((k) => [`${k}Size`, Number(v[`${k}-size`])]));
console.log(JSON.stringify(await machineInfo()));

/** Train and fit what a run directory does not hold yet (all of it without --reuse). */
async function make(dataset, seed) {
  const run = path.join(v.out, `${dataset}-s${seed}`);
  if (!v.reuse) rmSync(run, { recursive: true, force: true });
  const prefs = ['0.9,0.1', '0.1,0.9'];
  const trained = ['ls-0.9_0.1', 'ls-0.1_0.9'].every((id) => existsSync(runLayout.metricsFile(runLayout.endpointDir(run, id))));
  if (!trained) {
    log(`${run}: endpoints`);
    await trainEndpoints({ run, prefs, dataset: { name: dataset, seed, ...sizes }, epochs, batchSize: 256, lr: 1e-3, schedule: 'step', milestones, seed, resume: true });
  }
  for (const kind of curves) {
    const curve = curveDirName(kind);
    if (!existsSync(path.join(runLayout.curveDir(run, curve), 'curve.json'))) {
      log(`${run}: ${kind} curve`);
      await fitRunCurve({ run, kind, curve, epochs, resume: true });
    }
    if (!existsSync(runLayout.profileFile(run, curve))) await evaluateRunCurve({ run, curve, points: Number(v.points) });
  }
  return run;
}

const pct = (x) => `${(100 * x).toFixed(2)} %`;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pm = (xs, d = 4) => `${mean(xs) >= 0 ? '+' : '−'}${Math.abs(mean(xs)).toFixed(d)} ± ${sd(xs).toFixed(d)}`;

/** One run's numbers for one curve: endpoints, profile, query, learned weights, wall times. */
async function summarize(run, kind) {
  const curve = curveDirName(kind);
  const info = await readJsonWith(runInfoSchema, runLayout.runFile(run));
  const p = await readProfile(run, curve);
  const c = await readJsonWith(curveFileSchema, path.join(runLayout.curveDir(run, curve), 'curve.json'));
  const ends = await Promise.all(p.endpoints.map((id) => readJsonWith(metricsSchema, runLayout.metricsFile(runLayout.endpointDir(run, id)))));
  const q = await query({ run, pref: '0.5,0.5', curve });
  const accs = (m) => p.taskNames.map((n) => pct(m[n].accuracy)).join(' / ');
  const at = (t) => p.points.reduce((b, x) => (Math.abs(x.t - t) < Math.abs(b.t - t) ? x : b));
  return {
    dataset: info.dataset.name,
    seed: info.seed,
    kind,
    endpoints: ends.map((e) => accs(e.test)),
    mid: at(0.5).test.map((m) => pct(m.accuracy)).join(' / '),
    query: `t = ${q.t.toFixed(4)}: ${accs(q.predicted)}`,
    hv: p.hypervolume.testLoss.curve,
    hvEnds: p.hypervolume.testLoss.endpoints,
    ehv: p.hypervolume.testError.curve,
    ehvEnds: p.hypervolume.testError.endpoints,
    cheb: Math.min(...p.points.map((x) => Math.max(...x.test.map((m) => 0.5 * m.loss)))),
    nd: `${p.nonDominatedTestLoss.length}/${p.points.length}`,
    best: p.taskNames.map((_, k) => pct(Math.max(...p.points.map((x) => x.test[k].accuracy)))).join(' / '),
    weights: c.geometry.kind === 'nurbs' ? c.geometry.weights.map((w) => w.toFixed(2)).join(', ') : '—',
    losses: p.points.map((x) => x.test.map((m) => m.loss)),
    endpointLosses: ends.map((e) => p.taskNames.map((n) => e.test[n].loss)),
    taskNames: p.taskNames,
    trainS: Math.max(...ends.map((e) => e.seconds)),
    fitS: c.seconds,
    evalS: p.seconds,
  };
}

const runs = v.runs
  ? v.runs.split(',')
  : await (async () => {
      const made = [];
      for (const dataset of v.dataset.split(',')) for (let s = 0; s < Number(v.seeds); s++) made.push(await make(dataset, s));
      return made;
    })();
const rows = [];
for (const run of runs) for (const kind of curves) if (existsSync(runLayout.profileFile(run, curveDirName(kind)))) rows.push(await summarize(run, kind));

for (const dataset of [...new Set(rows.map((r) => r.dataset))]) {
  const here = rows.filter((r) => r.dataset === dataset);
  console.log(`\n### ${dataset}\n`);
  console.log('| seed | curve | endpoint (0.9,0.1) test acc | endpoint (0.1,0.9) test acc | t = 0.5 | query (0.5,0.5) | test-loss HV curve / endpoints (ref 2,2) | test-error HV curve / endpoints | best Chebyshev (0.5,0.5) | non-dominated | best acc along the curve | learned ω | train / fit / eval (s) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of here) {
    console.log(`| ${r.seed} | ${r.kind} | ${r.endpoints[0]} | ${r.endpoints[1]} | ${r.mid} | ${r.query} | ${r.hv.toFixed(4)} / ${r.hvEnds.toFixed(4)} | ${r.ehv.toFixed(4)} / ${r.ehvEnds.toFixed(4)} | ${r.cheb.toFixed(4)} | ${r.nd} | ${r.best} | ${r.weights} | ${r.trainS.toFixed(0)} / ${r.fitS.toFixed(0)} / ${r.evalS.toFixed(0)} |`);
  }
  for (const kind of curves) {
    const k = here.filter((r) => r.kind === kind);
    if (k.length === 0) continue;
    const d = k.map((r) => r.hv - r.hvEnds);
    const de = k.map((r) => r.ehv - r.ehvEnds);
    console.log(`\n${kind} − its endpoints over ${k.length} seed(s): test-loss HV ${pm(d)} (${d.filter((x) => x > 0).length}/${k.length} better), test-error HV ${pm(de)} (${de.filter((x) => x > 0).length}/${k.length})`);
  }
  if (curves.includes('nurbs') && curves.includes('bezier')) {
    const pairs = here.filter((r) => r.kind === 'nurbs').map((n) => [n, here.find((b) => b.kind === 'bezier' && b.seed === n.seed)]).filter(([, b]) => b);
    if (pairs.length > 0) {
      const dh = pairs.map(([n, b]) => n.hv - b.hv);
      const dc = pairs.map(([n, b]) => n.cheb - b.cheb);
      console.log(`nurbs − bezier, paired over ${pairs.length} seed(s): test-loss HV ${pm(dh)} (${dh.filter((x) => x > 0).length}/${pairs.length} NURBS better), Chebyshev ${pm(dc)} (${dc.filter((x) => x < 0).length}/${pairs.length} NURBS better)`);
    }
  }
}

if (v.png) {
  mkdirSync(v.png, { recursive: true });
  for (const dataset of [...new Set(rows.map((r) => r.dataset))]) {
    const here = rows.filter((r) => r.dataset === dataset);
    const colour = (seed) => ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'][seed % 5];
    const data = here.flatMap((r) => [
      { type: 'scatter', mode: 'lines', name: `seed ${r.seed} ${r.kind} (HV ${r.hv.toFixed(3)})`, x: r.losses.map((l) => l[0]), y: r.losses.map((l) => l[1]), line: { color: colour(r.seed), dash: r.kind === 'nurbs' ? 'solid' : 'dash' } },
      ...(r.kind === curves[0] ? [{ type: 'scatter', mode: 'markers', name: `seed ${r.seed} endpoints (HV ${r.hvEnds.toFixed(3)})`, x: r.endpointLosses.map((l) => l[0]), y: r.endpointLosses.map((l) => l[1]), marker: { size: 11, symbol: 'square', color: colour(r.seed) } }] : []),
    ]);
    const id = `published-${dataset}`;
    const layout = { title: { text: `${dataset} at its published size: test-loss fronts (${epochs}-epoch endpoints and curves)` }, xaxis: { title: { text: `${here[0].taskNames[0]} test loss` } }, yaxis: { title: { text: `${here[0].taskNames[1]} test loss` } }, width: 900, height: 600 };
    const html = path.join(v.png, `${id}.html`);
    writeFileSync(html, `<!doctype html><html><head><script src="file://${plotlyFile()}"></script></head><body><div id="fig-${id}" style="width:900px;height:600px"></div><script>Plotly.newPlot('fig-${id}', ${JSON.stringify(data)}, ${JSON.stringify(layout)}).then(() => { window.__extraDrawn = true; });</script></body></html>`);
    const r = await renderFigurePngs(html, [id], v.png);
    rmSync(html, { force: true });
    console.log(r.files.length ? `\nfigure: ${r.files.join(', ')}` : `\nno figure: ${r.skipped}`);
  }
}
