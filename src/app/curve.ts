import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { makeGeometry, fitCurve, curveFingerprint, profileCurveInWorkers, saveCurve, loadCurve, identityObjectives, objectiveMetrics, profileFileSchema, profileDeltaM, curveKindDefaults, type CurveOrientation, type StoredProfile, type WeightCurve, type ObjectiveMap } from '../curves/index.js';
import { readGrouping } from '../grouping/index.js';
import { parseJsonWith } from '../io/json-file.js';
import { exists, removeCreatedOnFailure, writeJsonAtomic } from '../util/fs.js';
import { checkpointFile, endpointDir, profileFile, readBaseline, readBaselineArgument, writeBaseline, type EndpointInfo } from '../run/index.js';
import { loadLayersModelFromDir } from '../models/index.js';
export type { StoredProfile } from '../curves/index.js';
import { defaultThreads } from '../parallel/pool.js';
import { withLock } from '../util/lock.js';
import { assertFootprintFits } from '../models/footprint.js';
import { describeStatistics } from '../train/index.js';
import { curveDirOf, withDefaults, loadEndpointParams, loadRunDataset, openRun, pickEndpoints, silent, useBackend, type Log, type OpenedRun } from './run.js';

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
  // with three or more objectives on different scales (a depth L1 beside a cross-entropy), the loss
  // differences say little: the objectives the preferences separate most come first
  const prefA = objectives.members.map((m) => m.reduce((s, k) => s + (a.preference[k] ?? 0), 0));
  const prefB = objectives.members.map((m) => m.reduce((s, k) => s + (b.preference[k] ?? 0), 0));
  const prefDiff = prefA.map((v, k) => v - prefB[k]);
  const byPref = [prefDiff.indexOf(Math.max(...prefDiff)), prefDiff.indexOf(Math.min(...prefDiff))];
  if (objectives.names.length >= 3 && byPref[0] !== byPref[1] && prefDiff.every(Number.isFinite)) return { taskA: byPref[0], taskB: byPref[1] };
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

/** Defaults of a curve fit (the CLI's too); the control-point count comes from the kind's table entry. */
export const curveFitDefaults = {
  kind: 'nurbs',
  degree: 3,
  alpha: 0.5,
  samples: 2,
  splitBatch: false,
  l2: 0,
  noise: 0,
  epochs: 10,
  batchSize: 256,
  lr: 1e-3,
  schedule: 'constant' as 'constant' | 'cosine',
  seed: 0,
  curve: 'curve',
  evalPoints: 5,
};

export interface CurveFitRequest {
  run: string;
  /** a curve kind of the table in src/curves/kinds (nurbs, bezier, polychain, line) */
  kind?: string;
  /** control points including the two endpoints (default: the kind's own) */
  controls?: number;
  degree?: number;
  /** weight of the order term R_order */
  alpha?: number;
  /** weight of R_align for the grouping's aligned group (default 0.5 with one, else 0) */
  beta?: number;
  /** values of t per batch */
  samples?: number;
  /** each value of t on its own part of the batch (default false: the whole batch for every t) */
  splitBatch?: boolean;
  l2?: number;
  noise?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** learning-rate schedule over the fit's epochs: constant (default) or cosine decay to 0 */
  schedule?: 'constant' | 'cosine';
  seed?: number;
  /** the two endpoint ids (default: the run's most extreme pair) */
  endpoints?: string[];
  /** the curve's sub-directory name in the run */
  curve?: string;
  /** t values checked on validation after each epoch */
  evalPoints?: number;
  /** data-parallel threads (default: all cores) */
  threads?: number;
  /** NURBS: learning-rate multiplier of the log-weights (default 1) */
  weightLr?: number;
  /** NURBS: initial weights, 1 (the line, default) or the EXTRA authors' U(0, 1) */
  weightInit?: 'ones' | 'random';
  /** a grouped run: the grouping's endpoints, but the tasks (not the groups) as the curve's objectives */
  ungrouped?: boolean;
  backend?: string;
  resume?: boolean;
  quiet?: boolean;
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

/** Join two endpoints of a run by a curve and train it with the order-aware loss; writes RUN/CURVE/. */
export async function fitRunCurve(req: CurveFitRequest, log: Log = silent): Promise<CurveFitOutcome> {
  const d = curveFitDefaults;
  const kind = req.kind ?? d.kind;
  const a = withDefaults(req, { ...d, resume: false, quiet: false });
  const geometry = makeGeometry(kind, req.controls ?? curveKindDefaults(kind).controls, req.degree ?? d.degree); // validates kind/controls/degree first
  if ((req.weightLr !== undefined || req.weightInit !== undefined) && !geometry.trainWeights) throw new ExtraInputError(`--weight-lr and --weight-init are for curves with trained weights (nurbs), not ${kind}`);
  if (a.schedule !== 'constant' && a.schedule !== 'cosine') throw new ExtraInputError(`curve fit: --schedule must be constant or cosine, got '${String(a.schedule)}'`);
  if (req.weightLr !== undefined && !(req.weightLr > 0 && Number.isFinite(req.weightLr))) throw new ExtraInputError(`--weight-lr must be a positive number, got ${req.weightLr}`);
  const run = await openRun(a.run, 'a curve needs trained endpoints');
  // every control point is a full parameter set; each sampled t runs the whole batch unless it is split
  if (run.model.footprint) assertFootprintFits(run.model.footprint, a.splitBatch ? a.batchSize : a.batchSize * a.samples, geometry.nControls);
  const groupFile = await readGrouping(a.run);
  if (req.ungrouped && !groupFile) throw new ExtraInputError(`--ungrouped is for a grouped run; ${a.run} has no grouping.json (its curves already train on the tasks)`);
  const sides: [number[], number[]] | undefined = groupFile ? [groupFile.groups.members[groupFile.roles.endpoints[0]], groupFile.groups.members[groupFile.roles.endpoints[1]]] : undefined;
  // the same endpoints either way; an ungrouped curve then trains on the tasks, not on the groups
  const [ea, eb] = await pickEndpoints(a.run, a.endpoints, sides);
  const grouping = req.ungrouped ? null : groupFile;
  const backend = await useBackend(a.backend, a.quiet);
  const ds = await loadRunDataset(run.info, a.quiet);
  const objectives = grouping?.groups ?? identityObjectives(ds.taskNames);
  const ends0 = orientationFrom(ea, eb, ds.taskNames, objectives);
  // three tasks and two endpoints (NYUv2's shape): the curve trades the two the endpoints separate, and the
  // third gets the alignment term that holds it best at the middle, as the grouped path's third group does
  const third = !grouping && objectives.names.length === 3 ? [0, 1, 2].find((k) => k !== ends0.taskA && k !== ends0.taskB) ?? null : null;
  const orientation: CurveOrientation = { ...ends0, aligned: grouping?.roles.aligned ?? third };
  const beta = a.beta ?? (orientation.aligned !== null ? 0.5 : 0);
  const ends: [tf.Tensor[], tf.Tensor[]] = [await loadEndpointParams(ea), await loadEndpointParams(eb)];
  const curve: WeightCurve = { geometry, paramNames: run.model.params.map((p) => p.name), ends };
  const dir = curveDirOf(a.run, a.curve);
  // one writer per curve: a second fit (or eval) of the same curve is refused while this one runs
  // a curve directory this fit creates goes again if it fails before its first checkpoint
  return removeCreatedOnFailure(dir, () => withLock(dir, `curve '${a.curve}' of ${a.run}`, async () => {
    // the current curve (if any) stays in place and valid until saveCurve swaps in the new one
    await fsp.mkdir(dir, { recursive: true });
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
        splitBatch: a.splitBatch,
        l2: a.l2,
        noise: a.noise,
        orientation,
        evalTs,
        epochs: a.epochs,
        batchSize: a.batchSize,
        lr: a.lr,
        optimizer: { name: 'adam' },
        schedule: { name: a.schedule },
        seed: a.seed,
        resume: a.resume,
        progress: !a.quiet,
        threads: a.threads ?? defaultThreads(),
        ...(req.weightLr !== undefined ? { weightLrScale: req.weightLr } : {}),
        ...(req.weightInit !== undefined ? { weightInit: req.weightInit } : {}),
      },
      ds,
    );
    const seconds = (performance.now() - t0) / 1000;
    const trainSeconds = res.history.reduce((s, h) => s + h.seconds, 0);
    await saveCurve(dir, curve, res.trainable, {
      endpoints: [ea.id, eb.id],
      orientation,
      taskNames: ds.taskNames,
      fit: { alpha: a.alpha, beta, ...(req.ungrouped && groupFile ? { ungrouped: true } : {}), samplesPerBatch: a.samples, splitBatch: a.splitBatch, l2: a.l2, noise: a.noise, lr: a.lr, ...(a.schedule !== 'constant' ? { schedule: a.schedule } : {}), batchSize: a.batchSize, seed: a.seed, backend, ...(req.weightLr !== undefined ? { weightLr: req.weightLr } : {}), ...(req.weightInit !== undefined ? { weightInit: req.weightInit } : {}) },
      epochs: a.epochs,
      seconds,
    });
    res.trainable.forEach((t) => t.dispose());
    ends.flat().forEach((t) => t.dispose());
    const last = res.history[res.history.length - 1] as Record<string, unknown> | undefined;
    // said once the fit is done: a refusal (bad endpoint files, divergence) stays the only line on stderr
    log(
      `the curve trades ${objectives.names[orientation.taskA]} (best at t = 0, ${ea.id}) against ${objectives.names[orientation.taskB]} (best at t = 1, ${eb.id})` +
        (orientation.aligned !== null && orientation.aligned !== undefined ? `; ${objectives.names[orientation.aligned]} is held best at t = ½ (alignment term, β = ${beta})` : ''),
    );
    log(`curve (${kind}) fitted between ${ea.id} (t=0) and ${eb.id} (t=1) in ${seconds.toFixed(1)} s → ${dir}`);
    return { dir, endpoints: [ea.id, eb.id], orientation, epochs: a.epochs, seconds, secondsPerEpoch: trainSeconds / Math.max(1, res.history.length), lastEpoch: last };
  }), () => exists(checkpointFile(dir)));
}

/** A fitted curve of a run, loaded: its geometry file, the curve and its trainable control points. */
export async function openCurve(run: OpenedRun, name: string) {
  const dir = curveDirOf(run.dir, name);
  const loaded = await loadCurve(
    dir,
    run.model.params.map((p) => p.name),
    run.model.params.map((p) => p.shape),
    run.dir,
  );
  // a BatchNormalization model: the endpoints' own statistics are exact at t = 0 and 1
  if (run.model.statistics.length) {
    const own = await Promise.all(loaded.file.endpoints.map((id) => loadLayersModelFromDir(endpointDir(run.dir, id)).then((m) => (m.model.dispose(), tf.dispose(m.values), m.statistics)).catch(() => null)));
    if (own[0] && own[1]) loaded.curve.endStatistics = [own[0], own[1]];
    else tf.dispose(own.filter((s): s is tf.Tensor[] => s !== null).flat());
  }
  return { dir, ...loaded };
}

export type OpenedCurve = Awaited<ReturnType<typeof openCurve>>;

/** Free a loaded curve's tensors. */
export function closeCurve(c: OpenedCurve): void {
  c.trainable.forEach((x) => x.dispose());
  c.curve.ends.flat().forEach((x) => x.dispose());
  c.curve.endStatistics?.flat().forEach((x) => x.dispose());
}

/** Where a curve's profile lives: RUN/profile.json for the default curve, RUN/NAME/profile.json otherwise. */
export const profilePath = (runDir: string, curveName: string): string => profileFile(runDir, curveName);

export interface CurveEvalRequest {
  run: string;
  /** grid size, endpoints included (default 61) */
  points?: number;
  curve?: string;
  backend?: string;
  /** worker threads evaluating points (default: all cores; the profile is identical) */
  threads?: number;
  /** a JSON file of single-task numbers for Δm% (kept as RUN/baseline.json); default: the run's own, if any */
  baseline?: string;
  quiet?: boolean;
}

const fmtDm = (v: number | null): string => (v === null ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(2)}%`);

/** Sweep a fitted curve on a t grid (validation and test) and write its profile.json. */
export async function evaluateRunCurve(req: CurveEvalRequest, log: Log = silent): Promise<StoredProfile> {
  const curveName = req.curve ?? 'curve';
  const points = req.points ?? 61;
  const quiet = req.quiet ?? false;
  const run = await openRun(req.run, 'evaluating a curve needs a fitted curve');
  // a baseline file is checked before any work, and kept only once the profile is written
  const given = req.baseline !== undefined ? await readBaselineArgument(req.baseline, run.info.dataset.taskNames) : null;
  const baseline = given ?? (await readBaseline(req.run));
  const c = await openCurve(run, curveName);
  await useBackend(req.backend, quiet);
  const ds = await loadRunDataset(run.info, quiet);
  const t0 = performance.now();
  // a curve fitted --ungrouped in a grouped run is profiled on its own objectives, the tasks
  const grouping = c.file.fit.ungrouped === true ? null : await readGrouping(req.run);
  const prof = await profileCurveInWorkers(run.model, c.curve, c.trainable, ds, points, { progress: !quiet, objectives: grouping?.groups, threads: req.threads ?? defaultThreads() });
  const stored: StoredProfile = {
    format: 'extra-profile',
    curve: curveName,
    kind: c.file.geometry.kind,
    endpoints: c.file.endpoints,
    orientation: c.file.orientation,
    curveFingerprint: c.fingerprint,
    seconds: (performance.now() - t0) / 1000,
    ...prof,
    ...(baseline ? { deltaM: profileDeltaM(prof.taskNames, prof.points, baseline) } : {}),
    ...(run.model.statistics.length ? { batchNorm: c.curve.endStatistics ? `${(describeStatistics(run.model, ds.train) ?? '').replace('at every point', 'at every point between the endpoints')}; at t = 0 and t = 1 the endpoints' own statistics` : (describeStatistics(run.model, ds.train) ?? '') } : {}),
  };
  const file = profilePath(req.run, curveName);
  await withLock(curveDirOf(req.run, curveName), `curve '${curveName}' of ${req.run}`, () => writeJsonAtomic(file, stored));
  if (given) await writeBaseline(req.run, given);
  closeCurve(c);
  log(`profile of ${points} points written to ${file}`);
  if (stored.deltaM) {
    const dm = stored.deltaM.test;
    const best = dm.reduce<number>((b, v, i) => (v !== null && (dm[b] === null || v < dm[b]!) ? i : b), 0);
    log(`Δm% against ${stored.deltaM.source} (test): t = 0 ${fmtDm(dm[0])}, t = 1 ${fmtDm(dm[dm.length - 1])}, best ${fmtDm(dm[best])} at t = ${prof.points[best].t.toFixed(3)}`);
  }
  return stored;
}

/**
 * A curve's stored profile, validated, and refused when it measured another curve than the one now
 * fitted (a re-fit since its `curve eval`): answers from it would describe a model nobody can export.
 */
export async function readProfile(runDir: string, curve = 'curve'): Promise<StoredProfile> {
  const file = profilePath(runDir, curve);
  const evalHint = `'extra curve eval --run ${runDir}${curve === 'curve' ? '' : ` --curve ${curve}`}'`;
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    throw new ExtraInputError(`no profile at ${file}; run ${evalHint} first`);
  }
  const profile = parseJsonWith(profileFileSchema, text, file, `; re-run ${evalHint}`) as StoredProfile;
  const current = await curveFingerprint(curveDirOf(runDir, curve), runDir);
  if (profile.curveFingerprint !== current) {
    const why = profile.curveFingerprint === undefined ? 'does not say which curve it measured (written by an older extra)' : `measured another curve than the one in ${curveDirOf(runDir, curve)} (re-fitted since)`;
    throw new ExtraInputError(`${file} ${why}; run ${evalHint} to profile the current curve`);
  }
  return profile;
}
