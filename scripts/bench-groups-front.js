// Grouped curve vs ungrouped curve vs surface (issue #21 §4), on multi-mnist-attributes: per seed, `extra group`
// (k = 3) → three endpoints, one favouring each group → (a) the grouped curve (order term on the two conflicting
// groups, R_align on the third), (b) an ungrouped curve between the same two endpoints (order term on tasks), (c)
// the triangular surface over the three endpoints. Each is scored on the 3-D hypervolume of the three group test
// losses (ref 2,2,2) and the best worst-group test loss (Chebyshev at equal weights), paired per seed.
// Usage (after npm run build):
//   npm run bench -- groups-front [--seeds 3] [--epochs 4] [--curve-epochs 4] [--surface-epochs 4] [--points 21]
//                                 [--resolution 10] [--train-size 10000] [--out runs/bench-groups-front]
import { parseArgs } from 'node:util';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { groupTasks, trainEndpoints, fitRunCurve, evaluateRunCurve, fitRunSurface, evaluateRunSurface } from '../dist/app/index.js';
import { objectiveMetrics } from '../dist/curves/index.js';
import { hypervolume } from '../dist/pareto/index.js';
import { machineInfo } from './machine.js';

const { values: v } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    epochs: { type: 'string', default: '4' },
    'curve-epochs': { type: 'string', default: '4' },
    'surface-epochs': { type: 'string', default: '4' },
    points: { type: 'string', default: '21' },
    resolution: { type: 'string', default: '10' },
    'train-size': { type: 'string', default: '10000' },
    out: { type: 'string', default: 'runs/bench-groups-front' },
  },
});
console.log(JSON.stringify(await machineInfo()));
const REF = [2, 2, 2];
const log = (s) => process.stderr.write(`[bench groups-front] ${s}\n`);
const worst = (rows) => Math.min(...rows.map((r) => Math.max(...r)));
const seeds = Array.from({ length: Number(v.seeds) }, (_, i) => i);
const rows = [];
for (const seed of seeds) {
  const run = path.join(v.out, `seed${seed}`);
  rmSync(run, { recursive: true, force: true });
  const time = async (f) => {
    const t0 = performance.now();
    const r = await f();
    return [r, (performance.now() - t0) / 1000];
  };
  const [g] = await time(() => groupTasks({ run, dataset: 'multi-mnist-attributes', k: 3, seed, warmupEpochs: 1, trainSize: Number(v['train-size']), valSize: 2000, testSize: 2000, quiet: true }));
  const groups = g.groups;
  log(`seed ${seed}: groups ${groups.members.map((m) => `{${m.map((i) => g.tasks[i]).join(' ')}}`).join(' ')}, endpoints ${g.roles.endpoints.join(',')}, aligned ${g.roles.aligned}`);
  // one endpoint favouring each group
  const prefs = [0, 1, 2].map((c) => [0, 1, 2].map((q) => (q === c ? 0.8 : 0.1)).join(','));
  const [, endpointSeconds] = await time(() => trainEndpoints({ run, prefs, epochs: Number(v.epochs), seed, quiet: true }));
  log(`seed ${seed}: 3 endpoints in ${endpointSeconds.toFixed(0)} s`);
  const common = { run, epochs: Number(v['curve-epochs']), seed, quiet: true };
  const [, groupedSeconds] = await time(() => fitRunCurve({ ...common, curve: 'curve' }));
  const [, flatSeconds] = await time(() => fitRunCurve({ ...common, curve: 'ungrouped', ungrouped: true }));
  const [, surfaceSeconds] = await time(() => fitRunSurface({ run, epochs: Number(v['surface-epochs']), seed, quiet: true }));
  log(`seed ${seed}: grouped curve ${groupedSeconds.toFixed(0)} s, ungrouped ${flatSeconds.toFixed(0)} s, surface ${surfaceSeconds.toFixed(0)} s`);
  const grouped = await evaluateRunCurve({ run, curve: 'curve', points: Number(v.points), quiet: true });
  const flat = await evaluateRunCurve({ run, curve: 'ungrouped', points: Number(v.points), quiet: true });
  const surface = await evaluateRunSurface({ run, resolution: Number(v.resolution), quiet: true });
  // every front in the same space: the three group test losses
  const groupLosses = (points) => points.map((p) => objectiveMetrics(p.test, groups).map((m) => m.loss));
  const fronts = {
    grouped: groupLosses(grouped.points),
    ungrouped: groupLosses(flat.points),
    surface: surface.points.map((p) => p.testObjectives.map((m) => m.loss)),
  };
  // the three endpoints themselves: the surface's corners
  fronts.endpoints = [0, 1, 2].map((c) => fronts.surface[surface.points.findIndex((p) => p.bary[c] === 1)]);
  const row = { seed, endpointSeconds, seconds: { grouped: groupedSeconds, ungrouped: flatSeconds, surface: surfaceSeconds }, groups: groups.members.map((m) => m.map((i) => g.tasks[i])) };
  for (const [name, f] of Object.entries(fronts)) row[name] = { hv: hypervolume(f, REF), chebyshev: worst(f), points: f.length };
  // the grouped profile's own 3-D HV is computed the same way: a check that the spaces agree
  if (Math.abs(grouped.hypervolume.testLoss.curve - row.grouped.hv) > 1e-9) throw new Error('grouped HV mismatch');
  rows.push(row);
  log(`seed ${seed}: HV grouped ${row.grouped.hv.toFixed(4)}, ungrouped ${row.ungrouped.hv.toFixed(4)}, surface ${row.surface.hv.toFixed(4)}, endpoints ${row.endpoints.hv.toFixed(4)}`);
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStd = (xs) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const f = (xs, d = 4) => `${mean(xs).toFixed(d)} ± ${(xs.length > 1 ? sampleStd(xs) : 0).toFixed(d)}`;
console.log('\n| front | points | 3-D test-loss HV ↑ (ref 2,2,2) | best worst-group test loss ↓ | fit wall time (s) |');
console.log('|---|---|---|---|---|');
for (const name of ['endpoints', 'ungrouped', 'grouped', 'surface']) {
  const t = name === 'endpoints' ? rows.map((r) => r.endpointSeconds) : rows.map((r) => r.seconds[name]);
  console.log(`| ${name} | ${rows[0][name].points} | ${f(rows.map((r) => r[name].hv))} | ${f(rows.map((r) => r[name].chebyshev))} | ${f(t, 0)} |`);
}
console.log('\nPaired per seed (grouped minus the other; better = higher HV, lower worst-group loss):');
console.log('| grouped vs | Δ HV (seeds better) | Δ worst-group loss (seeds better) |');
console.log('|---|---|---|');
for (const other of ['endpoints', 'ungrouped', 'surface']) {
  const dh = rows.map((r) => r.grouped.hv - r[other].hv);
  const dc = rows.map((r) => r.grouped.chebyshev - r[other].chebyshev);
  console.log(`| ${other} | ${f(dh)} (${dh.filter((x) => x > 0).length}/${rows.length}) | ${f(dc)} (${dc.filter((x) => x < 0).length}/${rows.length}) |`);
}
console.log('\nPer seed:');
for (const r of rows) console.log(`- seed ${r.seed}: groups ${r.groups.map((m) => `{${m.join(' ')}}`).join(' ')}; HV endpoints ${r.endpoints.hv.toFixed(4)}, ungrouped ${r.ungrouped.hv.toFixed(4)}, grouped ${r.grouped.hv.toFixed(4)}, surface ${r.surface.hv.toFixed(4)}`);
