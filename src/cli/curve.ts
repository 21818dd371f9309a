import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { makeGeometry, fitCurve, profileCurveInWorkers, saveCurve, loadCurve, identityObjectives, objectiveMetrics, type CurveOrientation, type CurveProfile, type WeightCurve, type ObjectiveMap } from '../curves/index.js';
import { readGrouping } from '../grouping/index.js';
import { writeJsonAtomic } from '../util/fs.js';
import type { EndpointInfo } from '../run/index.js';
import { optNumber, optString, parseFlags, reqString, type OptionSpec } from './args.js';
import { defaultThreads } from '../parallel/pool.js';
import { withLock } from '../util/lock.js';
import { curveDirOf, loadEndpointParams, loadRunDataset, openRun, pickEndpoints, setupBackend, stdio, type Io, type OpenedRun } from './context.js';

export const curveFitOptions: OptionSpec = {
  run: { type: 'string' },
  kind: { type: 'string' },
  controls: { type: 'string' },
  degree: { type: 'string' },
  alpha: { type: 'string' },
  beta: { type: 'string' },
  samples: { type: 'string' },
  'split-batch': { type: 'boolean' },
  'shared-batch': { type: 'boolean' },
  l2: { type: 'string' },
  noise: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  endpoints: { type: 'string' },
  curve: { type: 'string' },
  'eval-points': { type: 'string' },
  threads: { type: 'string' },
  backend: { type: 'string' },
  resume: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
};

export const curveHelp = `extra curve fit  --run DIR [--kind nurbs|bezier|polychain|line] [--controls N] [--degree P] [--alpha A] [options]
extra curve eval --run DIR [--points 61] [--curve NAME]

fit: join two endpoints of the run by a curve in weight space and train its interior control points
(and NURBS weights) with the order-aware trade-off loss: mean task loss + alpha * R_order.
  --kind K            nurbs (default) | bezier | polychain | line
  --controls N        control points incl. the two endpoints (default 4)
  --degree P          NURBS degree (default 3; lowered to N-1 if N is too small)
  --alpha A           weight of the order term (default 0.5; 0 turns it off)
  --beta B            weight of R_align for the group aligned at t = 1/2 (grouped runs; default 0.5)
  --samples M         values of t per batch (default 2, stratified)
  --shared-batch      every value of t sees the whole batch (default): M passes per step, and the order
                      term compares the values of t on the same samples
  --split-batch       each value of t sees its own 1/M of the batch: a curve step costs one pass, like
                      an endpoint step (faster; on the demo run a slightly lower HV at equal compute)
  --l2 B              L2 penalty on C(t) (default 0)      --noise S   init noise (default 0)
  --epochs N          default 10     --batch-size N default 256    --lr X default 1e-3
  --endpoints A,B     endpoint ids (default: the two most extreme endpoints of the run)
  --curve NAME        sub-directory of the run for this curve (default 'curve')
  --eval-points N     t values checked on validation after each epoch (default 5)
  --threads N         threads splitting each batch (default: all cores; same seed + same threads
                      → bit-identical checkpoints)
  --resume            continue an interrupted fit from its last complete epoch
eval: sweep the curve on a t grid (validation and test) and write profile.json
  --points N          grid size, endpoints included (default 61)
  --threads N         worker threads evaluating points (default: all cores; the profile is identical)`;

function splitBatchFlag(split: boolean, shared: boolean): boolean {
  if (split && shared) throw new ExtraInputError('curve fit: --split-batch and --shared-batch exclude each other');
  return split;
}

/** Objective (task or group) best at t=0 (a) and at t=1 (b), from the endpoints' validation losses. */
export function orientationFrom(a: EndpointInfo, b: EndpointInfo, taskNames: string[], objectives: ObjectiveMap = identityObjectives(taskNames)): CurveOrientation {
  const metricsOf = (e: EndpointInfo) => objectiveMetrics(taskNames.map((n) => e.val?.[n] ?? { loss: NaN, accuracy: NaN }), objectives);
  const la = metricsOf(a).map((m) => m.loss);
  const lb = metricsOf(b).map((m) => m.loss);
  const diff = la.map((v, k) => lb[k] - v); // > 0: endpoint a is better on task k
  let taskA = 0;
  let taskB = 0;
  diff.forEach((d, k) => {
    if (d > diff[taskA]) taskA = k;
    if (d < diff[taskB]) taskB = k;
  });
  if (taskA === taskB || diff.some((d) => !Number.isFinite(d))) {
    // no clear difference in validation loss: fall back to the preferences
    const pa = objectives.members.map((m) => m.reduce((s, k) => s + (a.preference[k] ?? 0), 0));
    const pb = objectives.members.map((m) => m.reduce((s, k) => s + (b.preference[k] ?? 0), 0));
    const pd = pa.map((v, k) => v - pb[k]);
    taskA = pd.indexOf(Math.max(...pd));
    taskB = pd.indexOf(Math.min(...pd));
    if (taskA === taskB) taskB = (taskA + 1) % objectives.names.length;
  }
  return { taskA, taskB };
}

export interface CurveFitArgs {
  run: string;
  kind: string;
  controls: number;
  degree: number;
  alpha: number;
  beta?: number;
  samples: number;
  /** each value of t on its own part of the batch (default false: the whole batch for every t) */
  splitBatch?: boolean;
  l2: number;
  noise: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  endpoints?: string[];
  curve: string;
  evalPoints: number;
  /** data-parallel threads (default: all cores) */
  threads?: number;
  backend?: string;
  resume: boolean;
  quiet: boolean;
}

export function parseCurveFitArgs(argv: string[]): CurveFitArgs | 'help' {
  const { values: v, positionals } = parseFlags('curve fit', argv, curveFitOptions);
  if (v.help) return 'help';
  if (positionals.length) throw new ExtraInputError(`curve fit: unexpected argument '${positionals[0]}'`);
  const kind = optString(v, 'kind') ?? 'nurbs';
  const defaultControls = kind === 'line' ? 2 : kind === 'polychain' ? 3 : 4;
  return {
    run: reqString('curve fit', v, 'run'),
    kind,
    controls: optNumber('curve fit', v, 'controls', { integer: true, min: 2 }) ?? defaultControls,
    degree: optNumber('curve fit', v, 'degree', { integer: true, min: 1 }) ?? 3,
    alpha: optNumber('curve fit', v, 'alpha', { min: 0 }) ?? 0.5,
    beta: optNumber('curve fit', v, 'beta', { min: 0 }),
    samples: optNumber('curve fit', v, 'samples', { integer: true, min: 1 }) ?? 2,
    splitBatch: splitBatchFlag(v['split-batch'] === true, v['shared-batch'] === true),
    l2: optNumber('curve fit', v, 'l2', { min: 0 }) ?? 0,
    noise: optNumber('curve fit', v, 'noise', { min: 0 }) ?? 0,
    epochs: optNumber('curve fit', v, 'epochs', { integer: true, positive: true }) ?? 10,
    batchSize: optNumber('curve fit', v, 'batch-size', { integer: true, positive: true }) ?? 256,
    lr: optNumber('curve fit', v, 'lr', { positive: true }) ?? 1e-3,
    seed: optNumber('curve fit', v, 'seed', { integer: true, min: 0 }) ?? 0,
    endpoints: optString(v, 'endpoints')?.split(','),
    curve: optString(v, 'curve') ?? 'curve',
    evalPoints: optNumber('curve fit', v, 'eval-points', { integer: true, min: 0 }) ?? 5,
    threads: optNumber('curve fit', v, 'threads', { integer: true, positive: true, max: 64 }),
    backend: optString(v, 'backend'),
    resume: v.resume === true,
    quiet: v.quiet === true,
  };
}

export interface CurveFitOutcome {
  dir: string;
  endpoints: [string, string];
  orientation: CurveOrientation;
  epochs: number;
  seconds: number;
  secondsPerEpoch: number;
  lastEpoch: Record<string, unknown> | undefined;
}

export async function runCurveFit(a: CurveFitArgs, io: Io = stdio): Promise<CurveFitOutcome> {
  const geometry = makeGeometry(a.kind, a.controls, a.degree); // validates kind/controls/degree first
  const run = await openRun(a.run, 'a curve needs trained endpoints');
  const grouping = await readGrouping(a.run);
  const sides: [number[], number[]] | undefined = grouping ? [grouping.groups.members[grouping.roles.endpoints[0]], grouping.groups.members[grouping.roles.endpoints[1]]] : undefined;
  const [ea, eb] = await pickEndpoints(a.run, a.endpoints, sides);
  const backend = await setupBackend(a.backend, a.quiet);
  const ds = await loadRunDataset(run.info, a.quiet);
  const objectives = grouping?.groups ?? identityObjectives(ds.taskNames);
  const orientation: CurveOrientation = { ...orientationFrom(ea, eb, ds.taskNames, objectives), aligned: grouping?.roles.aligned ?? null };
  const beta = a.beta ?? (orientation.aligned !== null ? 0.5 : 0);
  const ends: [tf.Tensor[], tf.Tensor[]] = [await loadEndpointParams(ea), await loadEndpointParams(eb)];
  const curve: WeightCurve = { geometry, paramNames: run.model.params.map((p) => p.name), ends };
  const dir = curveDirOf(a.run, a.curve);
  // one writer per curve: a second fit (or eval) of the same curve is refused while this one runs
  return withLock(dir, `curve '${a.curve}' of ${a.run}`, async () => {
    await fsp.mkdir(dir, { recursive: true });
    if (!a.resume) await fsp.rm(path.join(dir, 'curve.json'), { force: true });
    const t0 = performance.now();
    const evalTs = a.evalPoints > 0 ? Array.from({ length: a.evalPoints }, (_, i) => (a.evalPoints === 1 ? 0.5 : i / (a.evalPoints - 1))) : [];
    const res = await fitCurve(
      run.model,
      curve,
      {
        dir,
        alpha: a.alpha,
        beta,
        objectives,
        samplesPerBatch: a.samples,
        splitBatch: a.splitBatch ?? false,
        l2: a.l2,
        noise: a.noise,
        orientation,
        evalTs,
        epochs: a.epochs,
        batchSize: a.batchSize,
        lr: a.lr,
        optimizer: { name: 'adam' },
        schedule: { name: 'constant' },
        seed: a.seed,
        resume: a.resume,
        progress: !a.quiet,
        threads: a.threads ?? defaultThreads(),
      },
      ds,
    );
    const seconds = (performance.now() - t0) / 1000;
    const trainSeconds = res.history.reduce((s, h) => s + h.seconds, 0);
    await saveCurve(dir, curve, res.trainable, {
      endpoints: [ea.id, eb.id],
      orientation,
      taskNames: ds.taskNames,
      fit: { alpha: a.alpha, beta, samplesPerBatch: a.samples, splitBatch: a.splitBatch ?? false, l2: a.l2, noise: a.noise, lr: a.lr, batchSize: a.batchSize, seed: a.seed, backend },
      epochs: a.epochs,
      seconds,
    });
    res.trainable.forEach((t) => t.dispose());
    ends.flat().forEach((t) => t.dispose());
    const last = res.history[res.history.length - 1] as Record<string, unknown> | undefined;
    io.err(`curve (${a.kind}) fitted between ${ea.id} (t=0) and ${eb.id} (t=1) in ${seconds.toFixed(1)} s → ${dir}`);
    return { dir, endpoints: [ea.id, eb.id], orientation, epochs: a.epochs, seconds, secondsPerEpoch: trainSeconds / Math.max(1, res.history.length), lastEpoch: last };
  });
}

export async function openCurve(run: OpenedRun, name: string) {
  const dir = curveDirOf(run.dir, name);
  const loaded = await loadCurve(
    dir,
    run.model.params.map((p) => p.name),
    run.model.params.map((p) => p.shape),
    run.dir,
  );
  return { dir, ...loaded };
}

export function profilePath(runDir: string, curveName: string): string {
  return curveName === 'curve' ? path.join(runDir, 'profile.json') : path.join(curveDirOf(runDir, curveName), 'profile.json');
}

export interface StoredProfile extends CurveProfile {
  format: 'extra-profile';
  curve: string;
  kind: string;
  endpoints: [string, string];
  orientation: CurveOrientation;
  seconds: number;
}

export async function runCurveEval(
  a: { run: string; points: number; curve: string; backend?: string; threads?: number; quiet: boolean },
  io: Io = stdio,
): Promise<StoredProfile> {
  const run = await openRun(a.run, 'evaluating a curve needs a fitted curve');
  const c = await openCurve(run, a.curve);
  await setupBackend(a.backend, a.quiet);
  const ds = await loadRunDataset(run.info, a.quiet);
  const t0 = performance.now();
  const grouping = await readGrouping(a.run);
  const prof = await profileCurveInWorkers(run.model, c.curve, c.trainable, ds, a.points, { progress: !a.quiet, objectives: grouping?.groups, threads: a.threads ?? defaultThreads() });
  const stored: StoredProfile = {
    format: 'extra-profile',
    curve: a.curve,
    kind: c.file.geometry.kind,
    endpoints: c.file.endpoints,
    orientation: c.file.orientation,
    seconds: (performance.now() - t0) / 1000,
    ...prof,
  };
  const file = profilePath(a.run, a.curve);
  await withLock(curveDirOf(a.run, a.curve), `curve '${a.curve}' of ${a.run}`, () => writeJsonAtomic(file, stored));
  c.trainable.forEach((t) => t.dispose());
  c.curve.ends.flat().forEach((t) => t.dispose());
  io.err(`profile of ${a.points} points written to ${file}`);
  return stored;
}

export async function curveCommand(argv: string[], io: Io = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'fit') {
    const a = parseCurveFitArgs(rest);
    if (a === 'help') {
      io.out(curveHelp);
      return 0;
    }
    const r = await runCurveFit(a, io);
    if (rest.includes('--json')) io.out(JSON.stringify(r));
    else io.out(`curve fitted: ${r.dir} (${r.epochs} epochs, ${r.secondsPerEpoch.toFixed(1)} s/epoch)`);
    return 0;
  }
  if (sub === 'eval') {
    const { values: v, positionals } = parseFlags('curve eval', rest, {
      run: { type: 'string' },
      points: { type: 'string' },
      curve: { type: 'string' },
      threads: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    });
    if (v.help) {
      io.out(curveHelp);
      return 0;
    }
    if (positionals.length) throw new ExtraInputError(`curve eval: unexpected argument '${positionals[0]}'`);
    const prof = await runCurveEval(
      {
        run: reqString('curve eval', v, 'run'),
        points: optNumber('curve eval', v, 'points', { integer: true, min: 2 }) ?? 61,
        curve: optString(v, 'curve') ?? 'curve',
        backend: optString(v, 'backend'),
        threads: optNumber('curve eval', v, 'threads', { integer: true, positive: true, max: 64 }),
        quiet: v.quiet === true,
      },
      io,
    );
    if (v.json) io.out(JSON.stringify({ hypervolume: prof.hypervolume, spearmanValLoss: prof.spearmanValLoss, points: prof.points.length }));
    else {
      io.out(
        `test-loss HV (ref ${prof.hypervolume.testLoss.ref.join(',')}): curve ${prof.hypervolume.testLoss.curve.toFixed(4)} vs endpoints ${prof.hypervolume.testLoss.endpoints.toFixed(4)}; ` +
          `test-error HV: curve ${prof.hypervolume.testError.curve.toFixed(4)} vs endpoints ${prof.hypervolume.testError.endpoints.toFixed(4)}; ` +
          `Spearman(val loss, t): ${Object.entries(prof.spearmanValLoss).map(([k, s]) => `${k} ${s.toFixed(3)}`).join(', ')}`,
      );
    }
    return 0;
  }
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(curveHelp);
    return 0;
  }
  throw new ExtraInputError(`curve: unknown sub-command '${sub}' (known: fit, eval)`);
}
