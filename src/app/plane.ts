import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { controlPoints, curveFingerprint, curvePoint, identityObjectives, objectiveMetrics, tGrid } from '../curves/index.js';
import { readGrouping } from '../grouping/index.js';
import { listEndpoints, planeFile } from '../run/index.js';
import { barrier, planeBasis, planeCoordinates, planeGrid, type PlaneBasis } from '../landscape/plane.js';
import { planeFileSchema, type PlaneFile } from '../landscape/store.js';
import { evaluateInWorkers } from '../parallel/eval-pool.js';
import { planeProgramSpec } from '../landscape/program.js';
import { curveProgramSpec } from '../curves/program-spec.js';
import { statisticsRows } from '../train/index.js';
import { defaultThreads } from '../parallel/pool.js';
import { makeProgress, taskError, type TaskMetrics } from '../train/index.js';
import { readJsonWith, taskMetricsSchema } from '../io/json-file.js';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import { closeCurve, openCurve, type OpenedCurve } from './curve.js';
import { curveDirOf, loadEndpointParams, loadRunDataset, openRun, useBackend, type OpenedRun } from './run.js';

export const planeDefaults = { grid: 21, margin: 0.2, split: 'test' as const, points: ['t:0', 't:1', 'cp:mid'], barrierPoints: 21 };

export interface PlaneRequest {
  run: string;
  curve?: string;
  /** grid nodes per axis (grid² evaluations) */
  grid?: number;
  /** extra room around the points and the curve, as a fraction of their extent */
  margin?: number;
  split?: 'train' | 'val' | 'test';
  /** three weight vectors: 't:T' (the curve at T), 'cp:I' or 'cp:mid' (a control point), or an endpoint id */
  points?: string[];
  threads?: number;
  resume?: boolean;
  backend?: string;
  quiet?: boolean;
}

/** Where a curve's plane lives: RUN/plane.json for the default curve, RUN/NAME/plane.json otherwise. */
export function planePath(runDir: string, curve: string): string {
  return planeFile(runDir, curve);
}

const values = (ts: readonly tf.Tensor[]): Float32Array[] => ts.map((t) => Float32Array.from(t.dataSync() as Float32Array));

async function pointWeights(spec: string, run: OpenedRun, c: OpenedCurve): Promise<{ label: string; w: Float32Array[] }> {
  const t = /^t:(.+)$/.exec(spec);
  if (t) {
    const v = Number(t[1]);
    if (!(v >= 0 && v <= 1)) throw new ExtraInputError(`plane point '${spec}': t must be in [0, 1]`);
    const p = curvePoint(c.curve, c.trainable, v);
    const w = values(p);
    tf.dispose(p);
    return { label: `C(${v})`, w };
  }
  const cp = /^cp:(mid|\d+)$/.exec(spec);
  if (cp) {
    const n = c.curve.geometry.nControls;
    const i = cp[1] === 'mid' ? Math.round((n - 1) / 2) : Number(cp[1]);
    if (i >= n) throw new ExtraInputError(`plane point '${spec}': the curve has control points 0..${n - 1}`);
    return { label: `P${i}`, w: values(controlPoints(c.curve, c.trainable)[i]) };
  }
  const e = (await listEndpoints(run.dir)).find((x) => x.id === spec);
  if (!e) throw new ExtraInputError(`plane point '${spec}' is not t:T, cp:I, cp:mid or an endpoint id of ${run.dir}`);
  const p = await loadEndpointParams(e);
  const w = values(p);
  tf.dispose(p);
  return { label: e.id, w };
}

const partialSchema = z.object({ key: z.string(), nodes: z.record(z.array(taskMetricsSchema)) });
type PlanePartial = { key: string; nodes: Record<string, TaskMetrics[]> };

/**
 * The loss landscape on the plane through three weight vectors (by default the curve's ends and its
 * middle control point): every grid node's per-task loss and error on one split, the curve projected
 * onto the plane with its distance from it, and the barrier of the straight line vs the curve per task on
 * train and test. grid² evaluations on worker threads; resumable (finished nodes are kept in
 * plane.partial.json). Writes plane.json.
 */
export async function computePlane(req: PlaneRequest): Promise<PlaneFile> {
  const d = planeDefaults;
  const curveName = req.curve ?? 'curve';
  const n = req.grid ?? d.grid;
  const margin = req.margin ?? d.margin;
  const split = req.split ?? d.split;
  const specs = req.points ?? d.points;
  if (specs.length !== 3) throw new ExtraInputError(`--points takes three points, got ${specs.length}`);
  const quiet = req.quiet ?? false;
  const threads = req.threads ?? defaultThreads();
  const run = await openRun(req.run, 'a plane needs a fitted curve');
  const c = await openCurve(run, curveName);
  const backend = await useBackend(req.backend, quiet);
  const t0 = performance.now();
  try {
    const ds = await loadRunDataset(run.info, quiet);
    const grouping = await readGrouping(req.run);
    const objectives = grouping?.groups ?? identityObjectives(ds.taskNames);
    const pts = await Promise.all(specs.map((s) => pointWeights(s, run, c)));
    const basis: PlaneBasis = planeBasis(pts[0].w, pts[1].w, pts[2].w);
    const points = pts.map((p, i) => ({ spec: specs[i], label: p.label, ...planeCoordinates(basis, p.w) }));
    const curvePath = tGrid(61).map((t) => {
      const p = curvePoint(c.curve, c.trainable, t);
      const w = values(p);
      tf.dispose(p);
      return { t, ...planeCoordinates(basis, w) };
    });
    const { as, bs } = planeGrid([...points, ...curvePath], n, margin);
    const nodes = bs.flatMap((b) => as.map((a) => [a, b]));
    const program = planeProgramSpec(run.info.model, basis.origin, basis.u, basis.v);
    const data = ds[split];
    // resume: nodes of an interrupted computation with the same plane are kept
    const file = planePath(req.run, curveName);
    const partialFile = file.replace(/\.json$/, '.partial.json');
    // a cache of another curve (re-fitted since) is not reused
    const key = JSON.stringify({ specs, n, margin, split, a: as, b: bs, curve: c.fingerprint });
    // the partial file is a cache: one that does not parse or has another shape is ignored (the nodes are recomputed)
    const prev = req.resume ? await fsp.readFile(partialFile, 'utf8').then((t) => partialSchema.safeParse(JSON.parse(t))).then((r) => (r.success ? r.data : null)).catch(() => null) : null;
    const done: Record<string, TaskMetrics[]> = prev && prev.key === key ? prev.nodes : {};
    const todo = nodes.map((_, i) => i).filter((i) => !done[i]);
    const progress = makeProgress('plane', !quiet);
    let lastSave = performance.now();
    const save = () => writeJsonAtomic(partialFile, { key, nodes: done } satisfies PlanePartial);
    const started = performance.now();
    let saving: Promise<void> = Promise.resolve();
    await evaluateInWorkers<TaskMetrics>(threads, backend, program, [], todo.map((i) => nodes[i]), { inputShape: run.model.spec.inputShape, splits: [data], statistics: statisticsRows(ds.train) }, (count, id, metrics) => {
      done[todo[id]] = metrics[0];
      const el = (performance.now() - started) / 1000;
      progress.update(`node ${nodes.length - todo.length + count}/${nodes.length} on ${threads} threads, ${el.toFixed(0)} s, eta ${((el / count) * (todo.length - count)).toFixed(0)} s`);
      if (performance.now() - lastSave > 5000) {
        lastSave = performance.now();
        saving = saving.then(save);
      }
    });
    await saving;
    await save();
    progress.done(`${nodes.length} nodes (${todo.length} evaluated now) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // barrier: the straight line and the curve on train and test, at the same t
    const ts = tGrid(d.barrierPoints);
    const splits = [ds.train, ds.test];
    const ends = [values(c.curve.ends[0]), values(c.curve.ends[1])];
    const lineProgram = planeProgramSpec(run.info.model, ends[0], ends[1].map((e1, i) => Float32Array.from(e1, (x, q) => x - ends[0][i][q])), ends[0].map((e) => new Float32Array(e.length)));
    const line = await evaluateInWorkers<TaskMetrics>(threads, backend, lineProgram, [], ts.map((t) => [t, 0]), { inputShape: run.model.spec.inputShape, splits, statistics: statisticsRows(ds.train) });
    const curveProgram = curveProgramSpec(run.info.model, c.curve);
    const along = await evaluateInWorkers<TaskMetrics>(threads, backend, curveProgram, values(c.trainable), ts, { inputShape: run.model.spec.inputShape, splits, statistics: statisticsRows(ds.train) });
    const byTask = Object.fromEntries(
      ds.taskNames.map((name, k) => {
        const bar = (m: TaskMetrics[][][], s: number) => barrier(ts, m.map((p) => p[s][k].loss));
        return [name, { line: { train: bar(line, 0), test: bar(line, 1) }, curve: { train: bar(along, 0), test: bar(along, 1) } }];
      }),
    );
    const grouped = objectives.names.length !== ds.taskNames.length || objectives.members.some((m, k) => m.length !== 1 || m[0] !== k);
    // error: the error rate of a classification task, the MAE of a regression (which has no error
    // rate), the loss of a group that mixes both (it has neither)
    const errorOf = (m: TaskMetrics) => taskError(m) ?? m.mae ?? m.loss;
    const surface = (get: (m: TaskMetrics[]) => TaskMetrics) => ({
      loss: bs.map((_, r) => as.map((_, q) => get(done[r * n + q]).loss)),
      error: bs.map((_, r) => as.map((_, q) => errorOf(get(done[r * n + q])))),
    });
    const surfaces: PlaneFile['surfaces'] = {};
    ds.taskNames.forEach((name, k) => (surfaces[name] = surface((m) => m[k])));
    if (grouped) objectives.names.forEach((name, g) => (surfaces[name] = surface((m) => objectiveMetrics(m, objectives)[g])));
    const plane: PlaneFile = {
      format: 'extra-plane',
      version: 1,
      curve: curveName,
      curveFingerprint: c.fingerprint,
      split,
      points,
      grid: { n, margin, as, bs },
      taskNames: ds.taskNames,
      objectives,
      surfaces,
      curvePath,
      barrier: { ts, line: { train: line.map((p) => p[0]), test: line.map((p) => p[1]) }, curve: { train: along.map((p) => p[0]), test: along.map((p) => p[1]) }, byTask },
      threads,
      seconds: (performance.now() - t0) / 1000,
    };
    await withLock(curveDirOf(req.run, curveName), `curve '${curveName}' of ${req.run}`, async () => {
      await writeJsonAtomic(file, plane);
      await fsp.rm(partialFile, { force: true });
    });
    return plane;
  } finally {
    closeCurve(c);
  }
}

/** A curve's stored plane, validated (null when `extra plane` has not run). */
export async function readPlane(runDir: string, curve = 'curve'): Promise<PlaneFile | null> {
  const file = planePath(runDir, curve);
  try {
    await fsp.access(file);
  } catch {
    return null;
  }
  const hint = `'extra plane --run ${runDir}${curve === 'curve' ? '' : ` --curve ${curve}`}'`;
  const plane = await readJsonWith(planeFileSchema, file, `; re-run ${hint}`);
  // like a profile, a plane describes one curve: once the curve is re-fitted it is refused
  const current = await curveFingerprint(curveDirOf(runDir, curve), runDir);
  if (plane.curveFingerprint !== current) {
    const why = plane.curveFingerprint === undefined ? 'does not say which curve it measured (written by an older extra)' : 'measured another curve (re-fitted since)';
    throw new ExtraInputError(`${file} ${why}; run ${hint} again`);
  }
  return plane;
}
