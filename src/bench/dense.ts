import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { ExtraInputError } from '../errors.js';
import { trainEndpoints, fitRunCurve, evaluateRunCurve, query, openRun, type TrainedEndpoint } from '../app/index.js';
import { deltaMPercent, meanRanks, type BaselineNumbers, type TaskMetrics } from '../tasks/index.js';
import { getObjective } from '../objectives/index.js';
import { meanSd, median } from './stats.js';

/**
 * `extra bench dense`: the EXTRA paper's NYUv2 protocol (Table 2) in small, on the built-in dense set
 * (dense-digits: seg, depth, normal; or nyuv2 / cityscapes from files) with segnet-mtl. Per seed, in OUT/seed-S (one run): the single-task
 * models (the Independent row, RUN/baseline.json), each method at the balanced preference, and EXTRA-L /
 * EXTRA-F: NURBS curves between LS (FairGrad) endpoints at two preferences, read at t = ½ and at the grid
 * point of best validation Δm%. Every row's numbers are on the test split; Δm% against that seed's
 * single-task models.
 */
export const denseBenchDefaults = {
  seeds: 1,
  trainSize: 500,
  valSize: 200,
  testSize: 200,
  epochs: 3,
  curveEpochs: 2,
  points: 11,
  batchSize: 64,
  lr: 3e-3,
  methods: ['ls', 'fairgrad'],
  dataset: 'dense-digits',
};

/** The two endpoint preferences of the curves: 0.7 on the first (second) task, the rest shared (3 tasks: (0.7, 0.15, 0.15), (0.15, 0.7, 0.15)). */
export function endpointPrefs(tasks: number): [string, string] {
  const rest = +(0.3 / (tasks - 1)).toFixed(6);
  const at = (k: number) => Array.from({ length: tasks }, (_, j) => (j === k ? 0.7 : rest)).join(',');
  return [at(0), at(1)];
}

/** The data set of the benchmark: the built-in dense-digits, or a per-pixel set from files (nyuv2, cityscapes: --data-dir). */
export interface DenseDataset {
  name: string;
  dataDir?: string;
  resolution?: number;
}

export interface DenseBenchOptions {
  out: string;
  dataset?: DenseDataset;
  seeds?: number;
  /** dense-digits: default 500; a set from files: all of its train split */
  trainSize?: number;
  epochs?: number;
  curveEpochs?: number;
  points?: number;
  /** the methods trained at the balanced preference (ls and fairgrad are always among them: their endpoints make the curves) */
  methods?: string[];
  backend?: string;
}

/** One row of the table on one seed: per-task test metrics in task order. */
export interface DenseSeedRow {
  name: string;
  test: TaskMetrics[];
  /** Δm% against the seed's single-task models (0 for the single-task row) */
  deltaM: number | null;
  /** where on its curve a curve row was read */
  t?: number;
}

export interface DenseSeedResult {
  seed: number;
  run: string;
  seconds: number;
  taskNames: string[];
  /** the curves' endpoint preferences */
  prefs: [string, string];
  baseline: BaselineNumbers;
  rows: DenseSeedRow[];
  /** mean rank of each row among this seed's rows (all nine metrics) */
  ranks: number[];
  /** Δm% of the curves' endpoints themselves (not rows of the table) */
  endpoints: { name: string; deltaM: number | null }[];
}

/** A row over the seeds: mean metrics, and Δm% / mean rank per seed with their mean, sd and median. */
export interface DenseRow {
  name: string;
  test: TaskMetrics[];
  deltaM: { perSeed: (number | null)[]; mean: number; sd: number; median: number };
  rank: { perSeed: number[]; mean: number };
  t: number[];
}

export interface DenseBenchResult {
  taskNames: string[];
  seeds: number[];
  recipe: { dataset: DenseDataset; trainSize: number | null; valSize: number | null; testSize: number | null; epochs: number; curveEpochs: number; points: number; batchSize: number; lr: number; prefs: [string, string]; methods: string[] };
  seconds: number;
  /** the mean over seeds of the single-task numbers (the baseline of the mean table) */
  baseline: BaselineNumbers;
  rows: DenseRow[];
  perSeed: DenseSeedResult[];
}

const label: Record<string, string> = { ls: 'LS', fairgrad: 'FairGrad', chebyshev: 'Chebyshev', mgda: 'MGDA', cagrad: 'CAGrad', pcgrad: 'PCGrad', famo: 'FAMO', 'nash-mtl': 'Nash-MTL', 'dibs-mtl': 'DiBS-MTL' };
const methodLabel = (m: string): string => label[m] ?? m;

function metricsOf(taskNames: readonly string[], m: Record<string, TaskMetrics>): TaskMetrics[] {
  return taskNames.map((n) => m[n]);
}

/** The mean of each numeric field over the seeds' metrics of one task (fields missing from any seed are left out). */
function meanMetrics(xs: readonly TaskMetrics[]): TaskMetrics {
  const out: Record<string, number> = {};
  for (const key of Object.keys(xs[0]) as (keyof TaskMetrics)[]) {
    const vs = xs.map((x) => x[key]);
    if (vs.every((v): v is number => typeof v === 'number')) out[key] = vs.reduce((a, b) => a + b, 0) / vs.length;
  }
  return out as unknown as TaskMetrics;
}

/** Refuse an out folder that holds anything this benchmark did not make; its entries otherwise. */
async function checkOut(out: string): Promise<string[]> {
  const entries = (await fsp.readdir(out).catch(() => null)) ?? [];
  const mine = await fsp.stat(path.join(out, 'bench-dense.json')).then(() => true, () => false);
  if (entries.length && !mine) throw new ExtraInputError(`bench dense: ${out} exists and was not made by 'extra bench dense'; choose another --out`);
  return entries;
}

/** Every refusal of the options (methods, data set, out folder), before any work or output. */
export async function checkDenseOptions(o: DenseBenchOptions): Promise<{ methods: string[]; dataset: DenseDataset; builtIn: boolean }> {
  const d = denseBenchDefaults;
  const methods = [...new Set(['ls', 'fairgrad', ...(o.methods ?? d.methods)])];
  methods.forEach((m) => getObjective(m));
  const dataset = o.dataset ?? { name: d.dataset };
  const builtIn = dataset.name === d.dataset;
  if (!builtIn && !dataset.dataDir) throw new ExtraInputError(`bench dense: --dataset ${dataset.name} reads its files from --data-dir DIR`);
  if (builtIn && (dataset.dataDir !== undefined || dataset.resolution !== undefined)) throw new ExtraInputError('bench dense: --data-dir and --resolution are for a data set from files (nyuv2, cityscapes), not dense-digits');
  await checkOut(o.out);
  return { methods, dataset, builtIn };
}

/** The out folder: new, empty, or one this benchmark made before (its seed runs are then replaced). */
async function prepareOut(out: string): Promise<void> {
  const marker = path.join(out, 'bench-dense.json');
  const entries = await checkOut(out);
  for (const e of entries) if (/^seed-\d+$/.test(e)) await fsp.rm(path.join(out, e), { recursive: true, force: true });
  await fsp.mkdir(out, { recursive: true });
  await fsp.writeFile(marker, JSON.stringify({ format: 'extra-bench-dense', started: new Date().toISOString() }) + '\n');
}

/** One seed of the protocol in OUT/seed-S. */
export async function denseSeed(o: Required<Omit<DenseBenchOptions, 'backend' | 'seeds' | 'trainSize' | 'dataset'>> & { dataset: DenseDataset; trainSize?: number; seed: number; backend?: string }, log: (line: string) => void): Promise<DenseSeedResult> {
  const d = denseBenchDefaults;
  const run = path.join(o.out, `seed-${o.seed}`);
  const t0 = performance.now();
  const stage = (s: string) => log(`seed ${o.seed}: ${s} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  const common = { run, batchSize: d.batchSize, lr: d.lr, optimizer: 'adam' as const, schedule: 'constant' as const, seed: o.seed, backend: o.backend, workers: 2, resume: false, quiet: true, epochs: o.epochs };
  const builtIn = o.dataset.name === 'dense-digits';
  const dataset = builtIn
    ? { name: o.dataset.name, seed: o.seed, trainSize: o.trainSize, valSize: d.valSize, testSize: d.testSize }
    : { name: o.dataset.name, seed: o.seed, dataDir: o.dataset.dataDir, ...(o.trainSize !== undefined ? { trainSize: o.trainSize } : {}), ...(o.dataset.resolution !== undefined ? { resolution: o.dataset.resolution } : {}) };
  // the single-task models first: they make the run, whose tasks then give the preferences
  stage('single-task models');
  const stl = await trainEndpoints({ ...common, dataset, arch: 'segnet-mtl', prefs: [], singleTask: true });
  const taskNames = (await openRun(run)).info.dataset.taskNames;
  const prefs = endpointPrefs(taskNames.length);
  const balancedPref = taskNames.map(() => 1).join(',');
  // the curves' endpoint methods (both preferences and the balanced one), then the others at the balanced one
  const endpoints: Record<string, TrainedEndpoint[]> = {};
  const balanced: Record<string, TrainedEndpoint> = {};
  for (const m of ['ls', 'fairgrad']) {
    stage(`${m} at (${prefs.join('), (')}) and balanced`);
    const tr = await trainEndpoints({ ...common, method: m, prefs: [...prefs, balancedPref] });
    endpoints[m] = tr.endpoints.slice(0, 2);
    balanced[m] = tr.endpoints[2];
  }
  const others = o.methods.filter((m) => m !== 'ls' && m !== 'fairgrad');
  for (const m of others) {
    stage(`${m} at balanced`);
    balanced[m] = (await trainEndpoints({ ...common, method: m, prefs: [balancedPref] })).endpoints[0];
  }
  const baseline: BaselineNumbers = Object.fromEntries(taskNames.map((n, k) => [n, stl.endpoints[k].test[n]]));
  const curveRows: DenseSeedRow[] = [];
  for (const [m, name] of [['ls', 'EXTRA-L'], ['fairgrad', 'EXTRA-F']] as const) {
    const curve = `extra-${m}`;
    stage(`${name}: NURBS curve between the ${methodLabel(m)} endpoints`);
    await fitRunCurve({ run, kind: 'nurbs', controls: 4, degree: 3, alpha: 0.5, samples: 2, epochs: o.curveEpochs, batchSize: d.batchSize, lr: 1e-3, seed: o.seed, curve, endpoints: endpoints[m].map((e) => e.id), evalPoints: 0, backend: o.backend, resume: false, quiet: true });
    const prof = await evaluateRunCurve({ run, points: o.points, curve, backend: o.backend, quiet: true });
    let half = 0;
    prof.points.forEach((p, i) => {
      if (Math.abs(p.t - 0.5) < Math.abs(prof.points[half].t - 0.5)) half = i;
    });
    const ph = prof.points[half];
    curveRows.push({ name: `${name} (t=½)`, test: ph.test, deltaM: deltaMPercent(taskNames, ph.test, baseline), t: ph.t });
    const best = await query({ run, pref: 'best-dm', curve, backend: o.backend });
    const bt = metricsOf(taskNames, best.predicted);
    curveRows.push({ name: `${name} (best Δm)`, test: bt, deltaM: deltaMPercent(taskNames, bt, baseline), t: best.t });
  }
  const stlTest = taskNames.map((n, k) => stl.endpoints[k].test[n]);
  const rows: DenseSeedRow[] = [
    { name: 'Independent (single-task)', test: stlTest, deltaM: deltaMPercent(taskNames, stlTest, baseline) },
    ...o.methods.map((m) => {
      const test = metricsOf(taskNames, balanced[m].test);
      return { name: `${methodLabel(m)} (balanced)`, test, deltaM: deltaMPercent(taskNames, test, baseline) };
    }),
    ...curveRows,
  ];
  const ranks = meanRanks(taskNames, rows.map((r) => r.test));
  const ends = (['ls', 'fairgrad'] as const).flatMap((m) => endpoints[m].map((e, i) => ({ name: `${methodLabel(m)} (${prefs[i]})`, deltaM: deltaMPercent(taskNames, metricsOf(taskNames, e.test), baseline) })));
  stage('done');
  return { seed: o.seed, run, seconds: (performance.now() - t0) / 1000, taskNames, prefs, baseline, rows, ranks, endpoints: ends };
}

/** The whole benchmark: every seed, then the rows over the seeds. */
export async function measureDense(o: DenseBenchOptions, log: (line: string) => void, onSeed: (r: DenseSeedResult) => void = () => {}): Promise<DenseBenchResult> {
  const d = denseBenchDefaults;
  const { methods, dataset, builtIn } = await checkDenseOptions(o); // refused before any work
  const nSeeds = o.seeds ?? d.seeds;
  const cfg = { out: o.out, dataset, trainSize: o.trainSize ?? (builtIn ? d.trainSize : undefined), epochs: o.epochs ?? d.epochs, curveEpochs: o.curveEpochs ?? d.curveEpochs, points: o.points ?? d.points, methods, backend: o.backend };
  await prepareOut(o.out);
  const t0 = performance.now();
  const perSeed: DenseSeedResult[] = [];
  for (let s = 0; s < nSeeds; s++) {
    const r = await denseSeed({ ...cfg, seed: s }, log);
    perSeed.push(r);
    onSeed(r);
  }
  const taskNames = perSeed[0].taskNames;
  const rows: DenseRow[] = perSeed[0].rows.map((r0, i) => {
    const dms = perSeed.map((s) => s.rows[i].deltaM);
    const finite = dms.filter((v): v is number => v !== null);
    const { m, sd } = finite.length ? meanSd(finite) : { m: NaN, sd: NaN };
    const ranks = perSeed.map((s) => s.ranks[i]);
    return {
      name: r0.name,
      test: taskNames.map((_, k) => meanMetrics(perSeed.map((s) => s.rows[i].test[k]))),
      deltaM: { perSeed: dms, mean: m, sd, median: finite.length ? median(finite) : NaN },
      rank: { perSeed: ranks, mean: meanSd(ranks).m },
      t: perSeed.map((s) => s.rows[i].t).filter((t): t is number => t !== undefined),
    };
  });
  const baseline: BaselineNumbers = Object.fromEntries(
    taskNames.map((n) => {
      const keys = Object.keys(perSeed[0].baseline[n]) as (keyof BaselineNumbers[string])[];
      return [n, Object.fromEntries(keys.map((k) => [k, perSeed.reduce((a, s) => a + (s.baseline[n][k] ?? NaN), 0) / perSeed.length]))];
    }),
  );
  const result: DenseBenchResult = {
    taskNames,
    seeds: perSeed.map((s) => s.seed),
    recipe: { dataset, trainSize: cfg.trainSize ?? null, valSize: builtIn ? d.valSize : null, testSize: builtIn ? d.testSize : null, epochs: cfg.epochs, curveEpochs: cfg.curveEpochs, points: cfg.points, batchSize: d.batchSize, lr: d.lr, prefs: perSeed[0].prefs, methods },
    seconds: (performance.now() - t0) / 1000,
    baseline,
    rows,
    perSeed,
  };
  await fsp.writeFile(path.join(o.out, 'bench-dense.json'), JSON.stringify({ format: 'extra-bench-dense', ...result }) + '\n');
  return result;
}

/** The curves' endpoints' Δm% per seed: one line each. */
export function denseEndpointLines(perSeed: readonly DenseSeedResult[]): string[] {
  const f = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`);
  return perSeed[0].endpoints.map((e, i) => `endpoint ${e.name}: Δm% per seed ${perSeed.map((s) => f(s.endpoints[i].deltaM)).join(', ')}`);
}

/** Δm% over the seeds, one line per row: mean ± sd, median, the per-seed values, the mean rank and (curve rows) t. */
export function denseDeltaTable(rows: readonly DenseRow[]): string[] {
  const f = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`);
  return [
    '| row | Δm% mean ± sd | Δm% median | Δm% per seed | mean rank | t per seed |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${f(r.deltaM.mean)} ± ${Number.isFinite(r.deltaM.sd) ? r.deltaM.sd.toFixed(2) : '—'} | ${f(r.deltaM.median)} | ${r.deltaM.perSeed.map(f).join(', ')} | ${r.rank.mean.toFixed(2)} | ${r.t.length ? r.t.map((t) => t.toFixed(2)).join(', ') : ''} |`),
  ];
}
