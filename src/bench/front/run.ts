import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { trainEndpoints, fitRunCurve, evaluateRunCurve, openRun, loadRunDataset, useBackend, openCurve, closeCurve, type Log } from '../../app/index.js';
import { fitText } from '../../train/index.js';
import { curveWeights as curveWeightsOf } from '../../curves/curve.js';
import { fitHyperNet, evaluateHyperNetAt, evaluationRays } from '../../hypernet/index.js';
import { listEndpoints } from '../../run/index.js';
import { defaultThreads } from '../../parallel/pool.js';
import { ExtraInputError } from '../../errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { frontMetrics, testErrors, type FrontRow } from './metrics.js';
import { curveMethods, frontMethods, phnMethods, pamalMethods } from './methods.js';
import { fitPamal, evaluatePamalAt } from '../../pamal/index.js';
import { rssMonitor } from './rss.js';
import { benchCellFile } from '../../run/layout.js';

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
  /**
   * the reference method of the `@time` rows (default: the first curve method in `methods`): a PHN or
   * PaMaL row `X@time` stops once it has trained as many seconds as the reference took in the same cell
   * (and at its equal-passes budget if that comes first)
   */
  timeOf?: string;
  /** set by frontCell for an `@time` row: the reference's wall time in this cell */
  maxSeconds?: number;
  quiet: boolean;
}

/** An equal-wall-time row's suffix: `phn-lr1e-3@time` is phn-lr1e-3 given the reference method's seconds. */
export const TIME_SUFFIX = '@time';
const baseMethod = (m: string): string => (m.endsWith(TIME_SUFFIX) ? m.slice(0, -TIME_SUFFIX.length) : m);
const methodDir = (m: string): string => m.replace(TIME_SUFFIX, '-time');

/** Passes over the training data a PHN / PaMaL fit made (its last epoch may be partial under a time limit). */
const passesOf = (history: readonly { samplesPerSecond: number; seconds: number }[], n: number, perSample: number): number =>
  Math.round((10 * perSample * history.reduce((s, h) => s + h.samplesPerSecond * h.seconds, 0)) / n) / 10;

/** A PHN-LS hypernetwork on the cell's data, profiled at `points` evenly spread rays; its row. */
export async function frontPhn(o: FrontOptions, method: string, log: Log, fresh = true): Promise<FrontRow> {
  const p = phnMethods[baseMethod(method)];
  const r = resolveFrontOptions(o);
  const run = await openRun(frontRunDir(o));
  await useBackend(o.backend, true);
  const ds = await loadRunDataset(run.info, true);
  const dir = path.join(frontRunDir(o), methodDir(method));
  if (fresh) await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const stopRss = rssMonitor();
  const epochs = o.sweep * o.epochs;
  const fit = await fitHyperNet(run.model, { dir, epochs, batchSize: 256, lr: p.lr, optimizer: { name: 'adam' }, schedule: { name: 'constant' }, seed: o.seed, resume: !fresh, progress: !o.quiet, evalRays: [], threads: r.curveThreads, ...timeLimit(o, method) }, ds);
  const rays = evaluationRays(o.points);
  const pts = rays.map((ray, i) => {
    const [val, test] = evaluateHyperNetAt(run.model, fit.hyper, ray, [ds.val, ds.test], ds.train);
    return { order: i, val: val.map((m) => m.loss), test: test.map((m) => m.loss), testErr: testErrors(test) };
  });
  fit.hyper.forEach((t) => t.dispose());
  const seconds = (performance.now() - t0) / 1000;
  log(`[bench front] ${o.dataset} seed ${o.seed}: ${method} done (${seconds.toFixed(0)} s)`);
  return { method, ...frontMetrics(pts), seconds, budget: method.endsWith(TIME_SUFFIX) ? passesOf(fit.history, ds.train.n, 1) : epochs, peakRssMiB: stopRss(), testLosses: pts.map((q) => q.test) };
}

/**
 * PaMaL on the cell's data: two members trained jointly for (sweep · epochs) / window epochs (the same
 * passes over the data as the sweep), profiled at α = (1 − t, t) on the curves' grid of t; its row.
 */
export async function frontPamal(o: FrontOptions, method: string, log: Log, fresh = true): Promise<FrontRow> {
  const p = pamalMethods[baseMethod(method)];
  const r = resolveFrontOptions(o);
  const run = await openRun(frontRunDir(o));
  await useBackend(o.backend, true);
  const ds = await loadRunDataset(run.info, true);
  if (ds.taskNames.length !== 2) throw new ExtraInputError(`bench front: ${method} runs on two tasks here (${o.dataset} has ${ds.taskNames.length})`);
  const dir = path.join(frontRunDir(o), methodDir(method));
  if (fresh) await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const stopRss = rssMonitor();
  const epochs = Math.max(1, Math.round((o.sweep * o.epochs) / p.window));
  const fit = await fitPamal(run.model, { dir, epochs, batchSize: 256, lr: p.lr, optimizer: { name: 'adam' }, schedule: { name: 'constant' }, seed: o.seed, resume: !fresh, progress: !o.quiet, window: p.window, threads: r.curveThreads, ...timeLimit(o, method) }, ds);
  const pts = Array.from({ length: o.points }, (_, i) => {
    const t = o.points === 1 ? 0.5 : i / (o.points - 1);
    const [val, test] = evaluatePamalAt(run.model, fit.tensors, [1 - t, t], [ds.val, ds.test]);
    return { order: i, val: val.map((m) => m.loss), test: test.map((m) => m.loss), testErr: testErrors(test) };
  });
  fit.tensors.forEach((t) => t.dispose());
  const seconds = (performance.now() - t0) / 1000;
  log(`[bench front] ${o.dataset} seed ${o.seed}: ${method} done (${seconds.toFixed(0)} s)`);
  return { method, ...frontMetrics(pts), seconds, budget: method.endsWith(TIME_SUFFIX) ? passesOf(fit.history, ds.train.n, p.window) : epochs * p.window, peakRssMiB: stopRss(), testLosses: pts.map((q) => q.test) };
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
  const marker = benchCellFile(run);
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
  if (baseMethod(method) in phnMethods) return frontPhn(o, method, log, fresh);
  if (baseMethod(method) in pamalMethods) return frontPamal(o, method, log, fresh);
  const c = curveMethods[method];
  if (!c) throw new ExtraInputError(`unknown front method '${method}' (known: ${frontMethods.join(', ')})`);
  const r = resolveFrontOptions(o);
  const inner: Log = o.quiet ? () => {} : log;
  const curveEpochs = c.curveEpochs ?? Math.max(1, Math.round(((o.sweep - 2) * o.epochs) / 2));
  const stopRss = rssMonitor();
  // the sweep's extreme models, or (warm start) two endpoints of the same passes branched from a shared start
  let run = frontRunDir(o);
  let ends: string[] = [...sweep.ends];
  let endpointSeconds = sweep.endpointSeconds;
  let endpointBudget = 2 * o.epochs;
  if (c.warmStart) {
    const own = c.own ?? o.epochs - c.warmStart / 2;
    if (!(own >= 1 && Number.isInteger(own))) throw new ExtraInputError(`bench front: ${method} needs --epochs ≥ ${c.warmStart / 2 + 1} (its endpoints train ${o.epochs} − ${c.warmStart / 2} epochs after the warm start)`);
    endpointBudget = c.warmStart + 2 * own;
    run = `${frontRunDir(o)}-${method}`;
    if (fresh) await fsp.rm(run, { recursive: true, force: true });
    const w0 = performance.now();
    const trained = await trainEndpoints({ run, dataset: { name: o.dataset, seed: o.seed, ...o.sizes }, arch: 'lenet-mtl', method: o.endpointMethod ?? 'ls', prefs: ['0.9,0.1', '0.1,0.9'], epochs: own, warmStart: c.warmStart, batchSize: 256, lr: o.lr, optimizer: 'adam', schedule: c.endpointSchedule ?? 'constant', seed: o.seed, backend: o.backend, workers: r.workers, threads: r.sweepThreads, resume: !fresh, quiet: true }, inner);
    ends = trained.endpoints.map((e) => e.id);
    endpointSeconds = (performance.now() - w0) / 1000;
  }
  const f0 = performance.now();
  await fitRunCurve({ run, kind: c.kind, controls: c.controls, degree: 3, alpha: c.alpha, ...(c.weightLr ? { weightLr: c.weightLr } : {}), ...(c.weightInit ? { weightInit: c.weightInit } : {}), samples: 2, l2: 0, noise: 0, epochs: curveEpochs, batchSize: 256, lr: c.curveLr ?? 1e-3, ...(c.curveSchedule ? { schedule: c.curveSchedule } : {}), seed: o.seed, endpoints: ends, curve: `curve-${method}`, evalPoints: 0, backend: o.backend, threads: r.curveThreads, resume: !fresh, quiet: true }, inner);
  const fitSeconds = (performance.now() - f0) / 1000;
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
  return { method, ...frontMetrics(pts), seconds: endpointSeconds + fitSeconds, budget: endpointBudget + (c.kind === 'line' ? 0 : 2 * curveEpochs), peakRssMiB: Math.max(rss, sweep.sweepRss), testLosses: pts.map((p) => p.test), ...(curveWeights ? { curveWeights } : {}) };
}

/** One data set × seed, locally: the sweep, then every curve method; rows in method order. */
export function runFrontBenchmark(o: FrontOptions, log: Log): Promise<FrontRow[]> {
  return frontCell(o, localFrontRunner(log));
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

/** The rows of one data set × seed through a runner, in method order; the `@time` rows after their reference. */
export async function frontCell(o: FrontOptions, runner: FrontRunner): Promise<FrontRow[]> {
  const sweep = await runner.sweep(o);
  const known = (x: string) => x in curveMethods || baseMethod(x) in phnMethods || baseMethod(x) in pamalMethods;
  const methods = o.methods.filter(known);
  const timed = methods.filter((m) => m.endsWith(TIME_SUFFIX));
  const each = (ms: string[], opts: FrontOptions): Promise<FrontRow[]> =>
    runner.parallel ? Promise.all(ms.map((m) => runner.curve(opts, m, sweep))) : ms.reduce<Promise<FrontRow[]>>(async (acc, m) => [...(await acc), await runner.curve(opts, m, sweep)], Promise.resolve([]));
  const rows = await each(methods.filter((m) => !timed.includes(m)), o);
  if (timed.length) {
    const ref = timeReference(o);
    const refRow = rows.find((r) => r.method === ref);
    if (!refRow) throw new ExtraInputError(`bench front: the ${TIME_SUFFIX} rows need their reference method ${ref} in --methods`);
    rows.push(...(await each(timed, { ...o, maxSeconds: refRow.seconds })));
  }
  const byName = new Map(rows.map((r) => [r.method, r]));
  return [...(sweep.row ? [sweep.row] : []), ...methods.map((m) => byName.get(m)!)];
}

/** The method whose wall time the `@time` rows get: --time-of, else the first curve method asked for. */
export function timeReference(o: Pick<FrontOptions, 'methods' | 'timeOf'>): string {
  const ref = o.timeOf ?? o.methods.find((m) => m in curveMethods);
  if (!ref || !(ref in curveMethods)) throw new ExtraInputError(`bench front: the ${TIME_SUFFIX} rows need a curve method as their reference (--time-of, or one in --methods)`);
  return ref;
}

/** A time-limited row's loop limit (its reference's seconds), or nothing. */
function timeLimit(o: FrontOptions, method: string): { maxSeconds?: number } {
  if (!method.endsWith(TIME_SUFFIX)) return {};
  if (o.maxSeconds === undefined) throw new ExtraInputError(`bench front: ${method} runs after its reference method, which sets its time`);
  return { maxSeconds: o.maxSeconds };
}
