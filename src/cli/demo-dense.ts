import { promises as fsp } from 'node:fs';
import { ExtraInputError } from '../errors.js';
import { kernelEngine } from '../backend/index.js';
import { readRun } from '../run/index.js';
import { trainEndpoints, fitRunCurve, evaluateRunCurve, query, runLayout, type QueryResult } from '../app/index.js';
import { deltaMPercent, meanRanks, type BaselineNumbers, type TaskMetrics } from '../tasks/index.js';
import { writeReport } from '../report/index.js';
import type { Io } from './context.js';

/**
 * `extra demo --dense`: the whole pipeline on the built-in per-pixel set (dense-digits: segmentation,
 * depth, normals) with the built-in encoder-decoder, sized to finish in about two minutes on a 2-core
 * machine (README: measured time).
 */
export const denseDemoDefaults = {
  trainSize: 1000,
  valSize: 300,
  testSize: 300,
  // the single-task models get the endpoints' epochs: the same budget per model
  endpointEpochs: 5,
  curveEpochs: 3,
  lr: 3e-3,
  batchSize: 64,
  points: 11,
  prefs: ['0.7,0.15,0.15', '0.15,0.7,0.15'],
};

export interface DenseDemoOptions {
  out: string;
  backend?: string;
  endpointEpochs?: number;
  curveEpochs?: number;
  points?: number;
  trainSize?: number;
  quiet: boolean;
  json: boolean;
}

/** The nine NYUv2 metrics of a row, in the paper's column order. */
const columns: { task: number; key: keyof TaskMetrics; head: string; scale: number; digits: number }[] = [
  { task: 0, key: 'miou', head: 'mIoU', scale: 100, digits: 2 },
  { task: 0, key: 'pixelAccuracy', head: 'PixAcc', scale: 100, digits: 2 },
  { task: 1, key: 'absErr', head: 'AbsErr', scale: 1, digits: 4 },
  { task: 1, key: 'relErr', head: 'RelErr', scale: 1, digits: 4 },
  { task: 2, key: 'meanAngle', head: 'Mean°', scale: 1, digits: 2 },
  { task: 2, key: 'medianAngle', head: 'Median°', scale: 1, digits: 2 },
  { task: 2, key: 'within11_25', head: '<11.25', scale: 100, digits: 2 },
  { task: 2, key: 'within22_5', head: '<22.5', scale: 100, digits: 2 },
  { task: 2, key: 'within30', head: '<30', scale: 100, digits: 2 },
];

/** The paper-style table (Table 2's columns): the nine metrics, Δm% against the single-task rows, and the mean rank. */
export function denseTable(taskNames: string[], rows: { name: string; test: TaskMetrics[] }[], baseline: BaselineNumbers): string[] {
  const ranks = meanRanks(taskNames, rows.map((r) => r.test));
  const head = ['', ...columns.map((c) => c.head), 'Δm%', 'MR'];
  const body = rows.map((r, i) => {
    const dm = deltaMPercent(taskNames, r.test, baseline);
    return [r.name, ...columns.map((c) => ((r.test[c.task]?.[c.key] ?? NaN) * c.scale).toFixed(c.digits)), dm === null ? '—' : `${dm >= 0 ? '+' : ''}${dm.toFixed(2)}`, ranks[i].toFixed(2)];
  });
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  return [line(head), ...body.map(line)];
}

export async function denseDemo(o: DenseDemoOptions, io: Io): Promise<number> {
  const d = denseDemoDefaults;
  const { out, backend, quiet } = o;
  const E = o.endpointEpochs ?? d.endpointEpochs;
  const C = o.curveEpochs ?? d.curveEpochs;
  const points = o.points ?? d.points;
  const t0 = performance.now();
  const prev = await readRun(out).catch(() => null);
  if (prev) {
    for (const sub of [runLayout.endpointsDir(out), runLayout.singleTaskRoot(out), runLayout.baselineFile(out), runLayout.curveDir(out), runLayout.profileFile(out), runLayout.runFile(out)]) await fsp.rm(sub, { recursive: true, force: true });
  } else {
    const entries = await fsp.readdir(out).catch(() => [] as string[]);
    if (entries.length) throw new ExtraInputError(`demo: ${out} exists and is not an extra run; choose another --out`);
  }
  const stage = (s: string) => io.err(`\n== ${s} (${((performance.now() - t0) / 1000).toFixed(0)} s) ==`);
  const common = { run: out, method: 'ls', batchSize: d.batchSize, lr: d.lr, optimizer: 'adam' as const, schedule: 'constant' as const, seed: 0, backend, workers: 2, resume: false, quiet };
  stage(`1/6 endpoints: ls (${d.prefs.join(') and (')}) on dense-digits with segnet-mtl`);
  const tr = await trainEndpoints(
    { ...common, dataset: { name: 'dense-digits', seed: 0, trainSize: o.trainSize ?? d.trainSize, valSize: d.valSize, testSize: d.testSize }, arch: 'segnet-mtl', prefs: d.prefs, epochs: E },
    io.err,
  );
  stage('2/6 single-task models (the "Independent" rows Δm% compares against)');
  const stl = await trainEndpoints({ ...common, prefs: [], singleTask: true, epochs: E }, io.err);
  stage('3/6 NURBS curve with the order-aware loss');
  await fitRunCurve({ run: out, kind: 'nurbs', controls: 4, degree: 3, alpha: 0.5, samples: 2, epochs: C, batchSize: d.batchSize, lr: 1e-3, seed: 0, curve: 'curve', evalPoints: 0, backend, resume: false, quiet }, io.err);
  stage(`4/6 profile on ${points} points`);
  const prof = await evaluateRunCurve({ run: out, points, curve: 'curve', backend, quiet }, io.err);
  stage('5/6 queries: the balanced preference and the point of best Δm%');
  const balanced = await query({ run: out, pref: '1,1,1', method: 'chebyshev', curve: 'curve', refine: 'parabola', backend });
  const best = await query({ run: out, pref: 'best-dm', curve: 'curve', backend });
  stage('6/6 report');
  const rep = await writeReport(out, `${out}/report`);
  const seconds = (performance.now() - t0) / 1000;
  const names = prof.taskNames;
  const asRow = (m: Record<string, TaskMetrics>) => names.map((n) => m[n]);
  const baseline: BaselineNumbers = Object.fromEntries(names.map((n, k) => [n, stl.endpoints[k].test[n]]));
  const rows = [
    ...names.map((n, k) => ({ name: `single-task ${n}`, test: names.map((_, j) => (j === k ? stl.endpoints[k].test[n] : { loss: NaN })) })),
    ...tr.endpoints.map((e, i) => ({ name: `endpoint ${i ? 'B' : 'A'} (${d.prefs[i]})`, test: asRow(e.test) })),
    { name: `query (⅓,⅓,⅓) t=${balanced.t.toFixed(2)}`, test: asRow(balanced.predicted) },
    { name: `best Δm t=${best.t.toFixed(2)}`, test: asRow(best.predicted) },
  ];
  // the single-task rows together are the baseline itself (Δm 0); in the table each shows its own task only
  const stlRow = { name: 'single-task (each its own)', test: names.map((n, k) => stl.endpoints[k].test[n]) };
  const table = denseTable(names, [stlRow, ...rows.slice(names.length)], baseline);
  const summary = {
    run: out,
    backend: tr.backend,
    seconds,
    endpoints: tr.endpoints.map((e) => ({ id: e.id, test: e.test })),
    singleTask: stl.endpoints.map((e) => ({ id: e.id, test: e.test })),
    queries: [balanced, best].map((q: QueryResult) => ({ t: q.t, preference: q.preference, test: q.predicted, deltaM: q.deltaM })),
    deltaM: prof.deltaM,
    hypervolume: prof.hypervolume,
    report: { html: rep.html, pngs: rep.pngs },
  };
  if (o.json) {
    io.out(JSON.stringify(summary));
    return 0;
  }
  const kernels = kernelEngine();
  io.out('');
  io.out(`extra demo --dense — dense-digits (seg, depth, normal) with segnet-mtl, backend ${tr.backend}${tr.backend === 'wasm' ? `, kernels ${kernels.engine} (${kernels.detail})` : ''}, ${seconds.toFixed(0)} s in all`);
  io.out(`  recipe: ${E} epochs per endpoint and per single-task model, ${C} NURBS curve epochs; test split, Δm% against the single-task models`);
  for (const l of table) io.out(`  ${l}`);
  io.out(`  report: ${rep.html}${rep.pngs.length ? ` (+ ${rep.pngs.length} PNG figures)` : ''}   explorer: extra serve --run ${out}`);
  io.out(`  next: extra query --run ${out} --best-dm   |   extra export --run ${out} --best-dm --format onnx --out model/`);
  return 0;
}
