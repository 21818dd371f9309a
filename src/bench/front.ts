import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { trainEndpoints, fitRunCurve, evaluateRunCurve, openRun, loadRunDataset, useBackend, openCurve, closeCurve, type Log } from '../app/index.js';
import { errorRates, fitText, type TaskMetrics } from '../train/index.js';
import { curveWeights as curveWeightsOf } from '../curves/curve.js';
import { fitHyperNet, evaluateHyperNetAt, evaluationRays } from '../hypernet/index.js';
import { listEndpoints } from '../run/index.js';
import { hypervolume, nonDominated, preferenceAlignmentAngle, spearman } from '../pareto/index.js';
import { lossScale, queryCriterion } from '../curves/index.js';
import { defaultThreads } from '../parallel/pool.js';
import { ExtraInputError } from '../errors.js';

/** Test error rates of a point (NaN for a regression task: its error HV is undefined). */
const testErrors = (ms: TaskMetrics[]): number[] => errorRates(ms) ?? ms.map(() => NaN);
import { writeFileAtomic } from '../util/fs.js';

/**
 * Equal-budget comparison of ways to get a Pareto front (issue #8). Budget unit: one endpoint epoch
 * (one forward/backward pass over the training set). An LS sweep of k models for E epochs costs k·E;
 * a curve method costs 2·E for its endpoints plus 2 units per curve epoch (two values of t per batch),
 * so curves get C = (k·E − 2·E)/2 epochs.
 */
export interface FrontOptions {
  dataset: string;
  out: string;
  seed: number;
  sizes?: { trainSize?: number; valSize?: number; testSize?: number };
  epochs: number;
  sweep: number;
  points: number;
  lr: number;
  methods: string[];
  backend?: string;
  /** parallel endpoint trainings of the sweep (default 2) */
  workers?: number;
  /** objective of the sweep's models and so of the curves' endpoints: ls (default), fairgrad (EXTRA-F), cagrad (EXTRA-C) */
  endpointMethod?: string;
  /** data-parallel threads of each sweep training (default: cores ÷ concurrent trainings) */
  sweepThreads?: number;
  /** data-parallel threads of the curve fits and evaluations (default: all cores) */
  curveThreads?: number;
  quiet: boolean;
}

export interface FrontRow {
  method: string;
  testLossHV: number;
  testErrorHV: number;
  chebyshev05: number;
  alignmentDeg: number;
  spearmanA: number;
  spearmanB: number;
  seconds: number;
  budget: number;
  /** peak resident memory of the process (worker threads included) while this method ran, MiB */
  peakRssMiB: number;
  /** test losses of the method's points (for the Pareto plot) */
  testLosses: number[][];
  /** a NURBS curve's learned weights ω after the fit */
  curveWeights?: number[];
}

interface Pt {
  order: number;
  val: number[];
  test: number[];
  testErr: number[];
}

/** The metrics of one method's set of points (curve sweep or LS models), all on test data except the choice. */
export function frontMetrics(points: Pt[]): Omit<FrontRow, 'method' | 'seconds' | 'budget' | 'peakRssMiB' | 'testLosses'> {
  const test = points.map((p) => p.test);
  const errs = points.map((p) => p.testErr);
  const cheb = Math.min(...test.map((l) => Math.max(0.5 * l[0], 0.5 * l[1])));
  // 11 preferences: choose by Chebyshev on validation, measure the angle of the chosen test losses
  const scale = lossScale(points.map((p) => p.val));
  const testScale = lossScale(test);
  const angles: number[] = [];
  for (let i = 0; i <= 10; i++) {
    const r = [Math.max(i / 10, 1e-6), Math.max(1 - i / 10, 1e-6)];
    let best = 0;
    points.forEach((p, q) => {
      if (queryCriterion('chebyshev', r, p.val, scale) < queryCriterion('chebyshev', r, points[best].val, scale)) best = q;
    });
    // the angle is measured on test losses normalized by the test sweep's own ideal point and spread
    const l = points[best].test.map((v, k) => (v - testScale.z[k]) / testScale.s[k] + 1e-6);
    angles.push((preferenceAlignmentAngle(l, r) * 180) / Math.PI);
  }
  const order = points.map((p) => p.order);
  return {
    testLossHV: hypervolume(test, [2, 2]),
    testErrorHV: hypervolume(errs, [1, 1]),
    chebyshev05: cheb,
    alignmentDeg: angles.reduce((a, b) => a + b, 0) / angles.length,
    spearmanA: spearman(order, points.map((p) => p.val[0])),
    spearmanB: spearman(order, points.map((p) => p.val[1])),
  };
}

/** The curve methods; the nurbs-* variants are the NURBS-vs-Bézier study (issue #21): log-weight learning
 * rate ×10 / ×100, the EXTRA authors' random initial weights, and 6 control points (with bezier6 to pair). */
const curveMethods: Record<string, { kind: string; alpha: number; controls: number; weightLr?: number; weightInit?: 'random' }> = {
  line: { kind: 'line', alpha: 0, controls: 2 },
  bezier: { kind: 'bezier', alpha: 0.5, controls: 4 },
  'bezier-a0': { kind: 'bezier', alpha: 0, controls: 4 },
  polychain: { kind: 'polychain', alpha: 0.5, controls: 3 },
  'polychain-a0': { kind: 'polychain', alpha: 0, controls: 3 },
  nurbs: { kind: 'nurbs', alpha: 0.5, controls: 4 },
  'nurbs-a0': { kind: 'nurbs', alpha: 0, controls: 4 },
  'nurbs-wlr10': { kind: 'nurbs', alpha: 0.5, controls: 4, weightLr: 10 },
  'nurbs-wlr100': { kind: 'nurbs', alpha: 0.5, controls: 4, weightLr: 100 },
  'nurbs-rand': { kind: 'nurbs', alpha: 0.5, controls: 4, weightInit: 'random' },
  nurbs6: { kind: 'nurbs', alpha: 0.5, controls: 6 },
  bezier6: { kind: 'bezier', alpha: 0.5, controls: 6 },
};

/**
 * Pareto HyperNetworks (PHN-LS) at the same budget: one ray per batch, so E_sweep·k epochs; `lr` 1e-4 is
 * the authors' setting for Multi-MNIST (they train 150 epochs), 1e-3 the curves' own.
 */
const phnMethods: Record<string, { lr: number }> = {
  phn: { lr: 1e-4 },
  'phn-lr1e-3': { lr: 1e-3 },
};

export const frontMethods = ['ls-sweep', ...Object.keys(curveMethods), ...Object.keys(phnMethods)];
/** What runs without --methods: the sweep and the curves of the main table (PHN and the NURBS study by name). */
export const defaultFrontMethods = ['ls-sweep', 'line', 'bezier', 'bezier-a0', 'polychain', 'polychain-a0', 'nurbs', 'nurbs-a0'];

/** A PHN-LS hypernetwork on the cell's data, profiled at `points` evenly spread rays; its row. */
export async function frontPhn(o: FrontOptions, method: string, log: Log, fresh = true): Promise<FrontRow> {
  const p = phnMethods[method];
  const r = resolveFrontOptions(o);
  const run = await openRun(frontRunDir(o));
  await useBackend(o.backend, true);
  const ds = await loadRunDataset(run.info, true);
  const dir = path.join(frontRunDir(o), method);
  if (fresh) await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const stopRss = rssMonitor();
  const epochs = o.sweep * o.epochs;
  const fit = await fitHyperNet(run.model, { dir, epochs, batchSize: 256, lr: p.lr, optimizer: { name: 'adam' }, schedule: { name: 'constant' }, seed: o.seed, resume: !fresh, progress: !o.quiet, evalRays: [], threads: r.curveThreads }, ds);
  const rays = evaluationRays(o.points);
  const pts = rays.map((ray, i) => {
    const [val, test] = evaluateHyperNetAt(run.model, fit.hyper, ray, [ds.val, ds.test], ds.train);
    return { order: i, val: val.map((m) => m.loss), test: test.map((m) => m.loss), testErr: testErrors(test) };
  });
  fit.hyper.forEach((t) => t.dispose());
  const seconds = (performance.now() - t0) / 1000;
  log(`[bench front] ${o.dataset} seed ${o.seed}: ${method} done (${seconds.toFixed(0)} s)`);
  return { method, ...frontMetrics(pts), seconds, budget: epochs, peakRssMiB: stopRss(), testLosses: pts.map((q) => q.test) };
}

/** Samples process RSS every 100 ms until stopped; returns the peak in MiB. */
function rssMonitor(): () => number {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage().rss) / 2 ** 20;
  };
}

/** Threads of the sweep's trainings and of the curve fits: resolved once, so a queued grid equals a local one. */
export function resolveFrontOptions(o: FrontOptions): FrontOptions & { sweepThreads: number; curveThreads: number } {
  const workers = o.workers ?? 2;
  return { ...o, workers, sweepThreads: o.sweepThreads ?? defaultThreads(Math.min(workers, o.sweep)), curveThreads: o.curveThreads ?? defaultThreads() };
}

export const frontRunDir = (o: Pick<FrontOptions, 'out' | 'dataset' | 'seed'>): string => path.join(o.out, `${o.dataset}-seed${o.seed}`);

/** What the sweep of one data set × seed leaves for the curve methods. */
export interface FrontSweep {
  /** the sweep's own row (when asked for) */
  row: FrontRow | null;
  /** the curves' endpoints: the sweep's two extreme models */
  ends: [string, string];
  /** the share of the sweep's wall time that the two endpoints cost */
  endpointSeconds: number;
  sweepRss: number;
}

/**
 * The LS (or --endpoint-method) sweep of one data set × seed. `fresh`: start from an empty run directory
 * (a local benchmark); otherwise resume what a killed attempt left (a queued job handed to another worker).
 */
export async function frontSweep(o: FrontOptions, log: Log, fresh = true): Promise<FrontSweep> {
  const r = resolveFrontOptions(o);
  const inner: Log = o.quiet ? () => {} : log;
  const run = frontRunDir(o);
  // a queued attempt resumes only what an earlier attempt of the same grid cell left; anything else is cleared
  const marker = path.join(run, 'bench-cell.json');
  const key = JSON.stringify({ ...r, methods: undefined, quiet: undefined });
  const same = !fresh && (await fsp.readFile(marker, 'utf8').catch(() => '')) === key;
  if (!same) {
    await fsp.rm(run, { recursive: true, force: true });
    await fsp.mkdir(run, { recursive: true });
    await writeFileAtomic(marker, key);
  }
  const base = { run, dataset: { name: o.dataset, seed: o.seed, ...o.sizes }, arch: 'lenet-mtl', method: o.endpointMethod ?? 'ls', batchSize: 256, lr: o.lr, optimizer: 'adam' as const, schedule: 'constant' as const, seed: o.seed, backend: o.backend, workers: r.workers, threads: r.sweepThreads, resume: same, quiet: true };
  const prefs = Array.from({ length: o.sweep }, (_, i) => {
    const a = 0.1 + (0.8 * i) / (o.sweep - 1);
    return `${+a.toFixed(4)},${+(1 - a).toFixed(4)}`;
  });
  // LS sweep (its two extreme models double as the curves' endpoints: (0.9,0.1) and (0.1,0.9))
  const t0 = performance.now();
  const stopRss = rssMonitor();
  await trainEndpoints({ ...base, prefs, epochs: o.epochs }, inner);
  const sweepSeconds = (performance.now() - t0) / 1000;
  const sweepRss = stopRss();
  log(`[bench front] ${o.dataset} seed ${o.seed}: sweep of ${o.sweep} models done (${sweepSeconds.toFixed(0)} s)`);
  const eps = (await listEndpoints(run)).sort((a, b) => b.preference[0] - a.preference[0]);
  const names = Object.keys(eps[0].test ?? {});
  const sweepName = `${o.endpointMethod ?? 'ls'}-sweep`;
  let row: FrontRow | null = null;
  if (o.methods.includes('ls-sweep') || o.methods.includes(sweepName)) {
    const pts = eps.map((e, i) => ({
      order: i,
      val: names.map((n) => e.val![n].loss),
      test: names.map((n) => e.test![n].loss),
      testErr: testErrors(names.map((n) => e.test![n])),
    }));
    row = { method: sweepName, ...frontMetrics(pts), seconds: sweepSeconds, budget: o.sweep * o.epochs, peakRssMiB: sweepRss, testLosses: pts.map((p) => p.test) };
  }
  return { row, ends: [eps[0].id, eps[eps.length - 1].id], endpointSeconds: (2 / o.sweep) * sweepSeconds, sweepRss };
}

/** One curve method between the sweep's extreme endpoints, at the equal budget; its row. */
export async function frontCurve(o: FrontOptions, method: string, sweep: Pick<FrontSweep, 'ends' | 'endpointSeconds' | 'sweepRss'>, log: Log, fresh = true): Promise<FrontRow> {
  if (method in phnMethods) return frontPhn(o, method, log, fresh);
  const c = curveMethods[method];
  if (!c) throw new ExtraInputError(`unknown front method '${method}' (known: ${frontMethods.join(', ')})`);
  const r = resolveFrontOptions(o);
  const inner: Log = o.quiet ? () => {} : log;
  const run = frontRunDir(o);
  const curveEpochs = Math.max(1, Math.round(((o.sweep - 2) * o.epochs) / 2));
  const t0 = performance.now();
  const stopRss = rssMonitor();
  await fitRunCurve({ run, kind: c.kind, controls: c.controls, degree: 3, alpha: c.alpha, ...(c.weightLr ? { weightLr: c.weightLr } : {}), ...(c.weightInit ? { weightInit: c.weightInit } : {}), samples: 2, l2: 0, noise: 0, epochs: curveEpochs, batchSize: 256, lr: 1e-3, seed: o.seed, endpoints: [...sweep.ends], curve: `curve-${method}`, evalPoints: 0, backend: o.backend, threads: r.curveThreads, resume: !fresh, quiet: true }, inner);
  const fitSeconds = (performance.now() - t0) / 1000;
  let curveWeights: number[] | undefined;
  if (c.kind === 'nurbs') {
    const opened = await openCurve(await openRun(run), `curve-${method}`);
    curveWeights = Array.from(curveWeightsOf(opened.curve, opened.trainable).dataSync());
    closeCurve(opened);
  }
  const prof = await evaluateRunCurve({ run, points: o.points, curve: `curve-${method}`, backend: o.backend, threads: r.curveThreads, quiet: true }, inner);
  const pts = prof.points.map((p, i) => ({ order: i, val: p.val.map((x) => x.loss), test: p.test.map((x) => x.loss), testErr: testErrors(p.test) }));
  const rss = stopRss();
  log(`[bench front] ${o.dataset} seed ${o.seed}: ${method} done`);
  return { method, ...frontMetrics(pts), seconds: sweep.endpointSeconds + fitSeconds, budget: 2 * o.epochs + (c.kind === 'line' ? 0 : 2 * curveEpochs), peakRssMiB: Math.max(rss, sweep.sweepRss), testLosses: pts.map((p) => p.test), ...(curveWeights ? { curveWeights } : {}) };
}

/** One data set × seed, locally: the sweep, then every curve method; rows in method order. */
export function runFrontBenchmark(o: FrontOptions, log: Log): Promise<FrontRow[]> {
  return frontCell(o, localFrontRunner(log));
}

export function summarizeRows(all: FrontRow[][]): string {
  const methods = all[0].map((r) => r.method);
  const stat = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
    return { m, sd };
  };
  const f = (xs: number[], d = 4) => {
    const { m, sd } = stat(xs);
    return all.length > 1 ? `${m.toFixed(d)} ± ${sd.toFixed(d)}` : m.toFixed(d);
  };
  const lines = [
    '| method | budget (endpoint epochs) | test-loss HV ↑ (ref 2,2) | test-error HV ↑ (ref 1,1) | best Chebyshev at (0.5,0.5) ↓ | preference alignment (°) ↓ | Spearman val loss a / b | wall time (s) | peak RSS (MiB) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const m of methods) {
    const rs = all.map((rows) => rows.find((r) => r.method === m)!);
    lines.push(
      `| ${m} | ${rs[0].budget} | ${f(rs.map((r) => r.testLossHV))} | ${f(rs.map((r) => r.testErrorHV))} | ${f(rs.map((r) => r.chebyshev05))} | ${f(rs.map((r) => r.alignmentDeg), 1)} | ${f(rs.map((r) => r.spearmanA), 2)} / ${f(rs.map((r) => r.spearmanB), 2)} | ${f(rs.map((r) => r.seconds), 0)} | ${f(rs.map((r) => r.peakRssMiB), 0)} |`,
    );
  }
  return lines.join('\n');
}

/** Each NURBS method's learned weights ω (mean ± std over seeds, per control point). */
export function curveWeightTable(all: FrontRow[][]): string {
  const methods = all[0].filter((r) => r.curveWeights).map((r) => r.method);
  if (!methods.length) return '';
  const lines = ['| method | learned weights ω (control points 0 … n, mean ± std over seeds) |', '|---|---|'];
  for (const m of methods) {
    const ws = all.map((rows) => rows.find((r) => r.method === m)?.curveWeights ?? []);
    const cells = ws[0].map((_, i) => {
      const xs = ws.map((w) => w[i]);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
      return `${mean.toFixed(3)} ± ${sd.toFixed(3)}`;
    });
    lines.push(`| ${m} | ${cells.join(', ')} |`);
  }
  return lines.join('\n');
}

/**
 * Paired comparison of one method against every other, seed by seed (the seeds share data and endpoints,
 * so differences are paired): mean ± std of the difference, and how many seeds the method is better in.
 * Verdict: "wins"/"loses" only when every seed agrees, "ties" otherwise — with 3 seeds a sign test is all
 * the evidence there is, and it is stated as such.
 */
export function pairedComparison(all: FrontRow[][], against: string): string {
  const metrics: { label: string; get: (r: FrontRow) => number; higherIsBetter: boolean; d: number }[] = [
    { label: 'test-loss HV', get: (r) => r.testLossHV, higherIsBetter: true, d: 4 },
    { label: 'test-error HV', get: (r) => r.testErrorHV, higherIsBetter: true, d: 4 },
    { label: 'Chebyshev (0.5,0.5)', get: (r) => r.chebyshev05, higherIsBetter: false, d: 4 },
    { label: 'alignment (°)', get: (r) => r.alignmentDeg, higherIsBetter: false, d: 1 },
  ];
  const lines = [
    `| ${against} vs | ${metrics.map((m) => `Δ ${m.label} (seeds better)`).join(' | ')} |`,
    `|---|${metrics.map(() => '---').join('|')}|`,
  ];
  const n = all.length;
  for (const other of all[0].map((r) => r.method).filter((m) => m !== against)) {
    const cells = metrics.map((m) => {
      const diffs = all.map((rows) => m.get(rows.find((r) => r.method === against)!) - m.get(rows.find((r) => r.method === other)!));
      const mean = diffs.reduce((a, b) => a + b, 0) / n;
      const sd = n > 1 ? Math.sqrt(diffs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
      const better = diffs.filter((x) => (m.higherIsBetter ? x > 0 : x < 0)).length;
      const verdict = better === n ? 'wins' : better === 0 ? 'loses' : 'ties';
      const sign = mean >= 0 ? '+' : '−';
      return `${sign}${Math.abs(mean).toFixed(m.d)} ± ${sd.toFixed(m.d)} (${better}/${n}, ${verdict})`;
    });
    lines.push(`| ${other} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Plotly figure of every method's test-loss points for one seed (LS sweep as markers, curves as lines). */
export function frontPlotFigure(rows: FrontRow[], dataset: string): { id: string; title: string; data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  return {
    id: `front-${dataset}`,
    title: dataset,
    data: rows.map((r) => ({
      type: 'scatter',
      mode: r.method.endsWith('-sweep') ? 'markers' : 'lines',
      name: `${r.method} (HV ${r.testLossHV.toFixed(3)})`,
      x: r.testLosses.map((l) => l[0]),
      y: r.testLosses.map((l) => l[1]),
      marker: { size: 10 },
    })),
    layout: { title: { text: `${dataset}: test-loss fronts at equal budget (seed 0)` }, xaxis: { title: { text: 'task a test loss' } }, yaxis: { title: { text: 'task b test loss' } }, width: 900, height: 600 },
  };
}

/** How a grid cell's steps run: here (runFrontBenchmark's code) or as queued jobs on workers. */
export interface FrontRunner {
  sweep(o: FrontOptions): Promise<FrontSweep>;
  curve(o: FrontOptions, method: string, sweep: FrontSweep): Promise<FrontRow>;
  /** whether cells and curve methods may run at the same time (on several workers) */
  parallel: boolean;
}

export const localFrontRunner = (log: Log): FrontRunner => ({
  sweep: (o) => frontSweep(o, log),
  curve: (o, m, s) => frontCurve(o, m, s, log),
  parallel: false,
});

/** The rows of one data set × seed through a runner, in method order. */
export async function frontCell(o: FrontOptions, runner: FrontRunner): Promise<FrontRow[]> {
  const sweep = await runner.sweep(o);
  const methods = o.methods.filter((x) => x in curveMethods || x in phnMethods);
  const curves = runner.parallel ? await Promise.all(methods.map((m) => runner.curve(o, m, sweep))) : await methods.reduce<Promise<FrontRow[]>>(async (acc, m) => [...(await acc), await runner.curve(o, m, sweep)], Promise.resolve([]));
  return [...(sweep.row ? [sweep.row] : []), ...curves];
}
