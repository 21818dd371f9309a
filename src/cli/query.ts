import type * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { parseJsonWith } from '../io/json-file.js';
import { assertRealOutputPath } from '../util/fs.js';
import { profileFileSchema, preferenceToT, interpolateProfile, queryMethods, evaluateAt, curvePoint, identityObjectives, objectiveMetrics, interpolatedOptimum, criterionOnSweep, type QueryMethod } from '../curves/index.js';
import { parsePreference } from '../objectives/index.js';
import { type TaskMetrics, byTaskName } from '../train/index.js';
import { saveLayersModel, paramsToPytorchStateDict } from '../models/index.js';
import { writeSafetensors } from '../io/index.js';
import { optNumber, optString, parseFlags, reqString } from './args.js';
import { loadRunDataset, openRun, setupBackend, stdio, type Io, type OpenedRun } from './context.js';
import { openCurve, profilePath, type StoredProfile } from './curve.js';
import { querySurface } from './surface.js';

export async function readProfile(runDir: string, curve: string): Promise<StoredProfile> {
  const file = profilePath(runDir, curve);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    throw new ExtraInputError(`no profile at ${file}; run 'extra curve eval --run ${runDir}${curve === 'curve' ? '' : ` --curve ${curve}`}' first`);
  }
  return parseJsonWith(profileFileSchema, text, file, `; re-run 'extra curve eval --run ${runDir}'`) as StoredProfile;
}

function parseMethod(cmd: string, s: string | undefined): QueryMethod {
  const m = s ?? 'chebyshev';
  if (!(queryMethods as readonly string[]).includes(m)) throw new ExtraInputError(`${cmd}: --method must be one of ${queryMethods.join(', ')}, got '${m}'`);
  return m as QueryMethod;
}

export interface QueryResult {
  t: number;
  method: QueryMethod;
  preference: number[];
  predicted: Record<string, { loss: number; accuracy: number }>;
  validation: Record<string, { loss: number; accuracy: number }>;
  /** per-group numbers when the run uses task grouping */
  groups?: Record<string, { loss: number; accuracy: number }>;
  source: 'evaluated' | 'interpolated';
  gridIndex: number;
  refined: boolean;
}

/**
 * Preference → t on a run's curve. Refinement (default): the best grid point, then the optimum of the
 * criterion on parabolas through the neighbouring grid points, checked by one real evaluation (kept only
 * if its validation criterion beats the grid point's); `golden`: golden-section search on real
 * validation evaluations (~10 passes over the validation set, slower).
 */
export async function runQuery(
  a: { run: string; pref: string; method?: string; curve: string; refine: boolean; golden?: boolean; backend?: string; quiet: boolean },
): Promise<QueryResult> {
  const method = parseMethod('query', a.method);
  const run = await openRun(a.run, 'querying needs a fitted and evaluated curve');
  const profile = await readProfile(a.run, a.curve);
  const objectives = profile.objectives ?? identityObjectives(profile.taskNames);
  const objPoints = profile.objectivePoints ?? profile.points;
  const grouped = objectives.names.length !== profile.taskNames.length || objectives.members.some((m, k) => m.length !== 1 || m[0] !== k);
  const preference = parsePreference(a.pref, objectives.names.length);
  if (!a.refine) {
    const ans = await preferenceToT(objPoints, preference, method);
    const p = interpolateProfile(profile.points, ans.t);
    return {
      t: ans.t,
      method,
      preference,
      predicted: byTaskName(profile.taskNames, p.test),
      validation: byTaskName(profile.taskNames, p.val),
      ...(grouped ? { groups: byTaskName(objectives.names, objectiveMetrics(p.test, objectives)) } : {}),
      source: 'interpolated',
      gridIndex: ans.gridIndex,
      refined: false,
    };
  }
  const c = await openCurve(run, a.curve);
  await setupBackend(a.backend, true);
  const ds = await loadRunDataset(run.info, true);
  const evaluated = (t: number, val: TaskMetrics[], test: TaskMetrics[], gridIndex: number, refined: boolean): QueryResult => ({
    t,
    method,
    preference,
    predicted: byTaskName(profile.taskNames, test),
    validation: byTaskName(profile.taskNames, val),
    ...(grouped ? { groups: byTaskName(objectives.names, objectiveMetrics(test, objectives)) } : {}),
    source: 'evaluated',
    gridIndex,
    refined,
  });
  if (!a.golden) {
    const grid = await preferenceToT(objPoints, preference, method);
    const cand = interpolatedOptimum(objPoints, preference, method, grid.gridIndex);
    let t = grid.t;
    let refined = false;
    let val = profile.points[grid.gridIndex].val;
    let test = profile.points[grid.gridIndex].test;
    if (cand.t !== grid.t) {
      const [v, te] = evaluateAt(run.model, c.curve, c.trainable, cand.t, [ds.val, ds.test]);
      const valCrit = criterionOnSweep(objPoints, preference, method, objectiveMetrics(v, objectives).map((m) => m.loss));
      if (valCrit < grid.criterion) {
        t = cand.t;
        refined = true;
        val = v;
        test = te;
      }
    }
    c.trainable.forEach((x) => x.dispose());
    c.curve.ends.flat().forEach((x) => x.dispose());
    return evaluated(t, val, test, grid.gridIndex, refined);
  }
  const ans = await preferenceToT(objPoints, preference, method, (t) => {
    const [val] = evaluateAt(run.model, c.curve, c.trainable, t, [ds.val]);
    return objectiveMetrics(val, objectives).map((m) => m.loss);
  });
  const [val, test] = evaluateAt(run.model, c.curve, c.trainable, ans.t, [ds.val, ds.test]);
  c.trainable.forEach((t) => t.dispose());
  c.curve.ends.flat().forEach((t) => t.dispose());
  return evaluated(ans.t, val, test, ans.gridIndex, ans.refined);
}

export const queryHelp = `extra query --run DIR --pref 0.3,0.7 [--method chebyshev|ls|ray] [--no-refine | --golden] [--curve NAME] [--surface] [--json]

The point t of the curve whose trade-off matches the preference (one non-negative entry per task,
normalized to sum 1), chosen on validation losses; prints t and the per-task test loss and accuracy there.
  (default)    best grid point of the profile, refined on parabolas through its grid neighbours and
               checked by one real evaluation (kept only if its validation criterion is better)
  --golden     golden-section search on real validation evaluations (~10 passes, slower)
  --no-refine  the best grid point, numbers interpolated from the profile (no model evaluation)`;

export async function queryCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('query', argv, {
    run: { type: 'string' },
    pref: { type: 'string' },
    method: { type: 'string' },
    curve: { type: 'string' },
    'no-refine': { type: 'boolean' },
    golden: { type: 'boolean' },
    surface: { type: 'boolean' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  if (v.help) {
    io.out(queryHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`query: unexpected argument '${positionals[0]}'`);
  if (v.surface) {
    const s = await querySurface(reqString('query', v, 'run'), reqString('query', v, 'pref'), parseMethod('query', optString(v, 'method')));
    if (v.json) io.out(JSON.stringify(s));
    else {
      io.out(`preference ${s.preference.map((p) => p.toFixed(3)).join(',')} (${s.method}) → surface point (${s.bary.map((b) => b.toFixed(2)).join(', ')})`);
      for (const [k, m] of Object.entries(s.groups)) io.out(`  ${k}: test loss ${m.loss.toFixed(4)}, accuracy ${(100 * m.accuracy).toFixed(2)}%`);
    }
    return 0;
  }
  if (v.golden && v['no-refine']) throw new ExtraInputError('query: --golden and --no-refine exclude each other');
  const r = await runQuery({
    run: reqString('query', v, 'run'),
    pref: reqString('query', v, 'pref'),
    method: optString(v, 'method'),
    curve: optString(v, 'curve') ?? 'curve',
    refine: v['no-refine'] !== true,
    golden: v.golden === true,
    backend: optString(v, 'backend'),
    quiet: true,
  });
  if (v.json) io.out(JSON.stringify({ t: r.t, method: r.method, preference: r.preference, predicted: r.predicted, validation: r.validation, source: r.source, ...(r.groups ? { groups: r.groups } : {}) }));
  else {
    io.out(`preference ${r.preference.map((p) => p.toFixed(3)).join(',')} (${r.method}) → t = ${r.t.toFixed(4)}`);
    for (const [k, m] of Object.entries(r.predicted)) io.out(`  ${k}: test loss ${m.loss.toFixed(4)}, accuracy ${(100 * m.accuracy).toFixed(2)}%`);
  }
  return 0;
}

/** Write the model at t as tfjs layers format (model.json + weights.bin) or safetensors. */
export async function exportAt(run: OpenedRun, curveName: string, t: number, format: 'tfjs' | 'safetensors', out: string, meta: Record<string, unknown>): Promise<string[]> {
  const c = await openCurve(run, curveName);
  const params: tf.Tensor[] = curvePoint(c.curve, c.trainable, t);
  try {
    if (format === 'tfjs') {
      await saveLayersModel(out, run.info.model, params, { curvePoint: { t, ...meta } });
      return [path.join(out, 'model.json'), path.join(out, 'weights.bin')];
    }
    const names = run.model.params.map((p) => p.name);
    const file = path.join(out, 'model.safetensors');
    await writeSafetensors(file, paramsToPytorchStateDict(run.info.model, names, params), {
      format: 'pt',
      'extra.t': String(t),
      'extra.arch': run.info.model.arch,
      'extra.spec': JSON.stringify(run.info.model),
      'extra.layout': 'PyTorch: conv [out,in,kh,kw], linear [out,in], fc input in NCHW flatten order',
    });
    return [file];
  } finally {
    params.forEach((p) => p.dispose());
    c.trainable.forEach((x) => x.dispose());
    c.curve.ends.flat().forEach((x) => x.dispose());
  }
}

export const exportHelp = `extra export --run DIR (--t T | --pref a,b [--method chebyshev|ls|ray]) --format tfjs|safetensors --out DIR [--curve NAME]

Write the model at a point of the curve: tfjs layers format (loads with tf.loadLayersModel) or a
safetensors file with PyTorch state_dict names and layouts.`;

export async function exportCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('export', argv, {
    run: { type: 'string' },
    t: { type: 'string' },
    pref: { type: 'string' },
    method: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    curve: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (v.help) {
    io.out(exportHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`export: unexpected argument '${positionals[0]}'`);
  const runDir = reqString('export', v, 'run');
  const format = reqString('export', v, 'format');
  if (format !== 'tfjs' && format !== 'safetensors') throw new ExtraInputError(`export: --format must be tfjs or safetensors, got '${format}'`);
  const out = reqString('export', v, 'out');
  assertRealOutputPath(out, 'export: --out');
  const curveName = optString(v, 'curve') ?? 'curve';
  const hasT = optString(v, 't') !== undefined;
  const hasPref = optString(v, 'pref') !== undefined;
  if (hasT === hasPref) throw new ExtraInputError('export: give exactly one of --t T or --pref a,b');
  let t: number;
  let meta: Record<string, unknown> = {};
  if (hasT) {
    const tt = optNumber('export', v, 't');
    if (tt === undefined || tt < 0 || tt > 1) throw new ExtraInputError(`export: --t must be in [0, 1], got ${optString(v, 't')}`);
    t = tt;
  } else {
    const q = await runQuery({ run: runDir, pref: optString(v, 'pref')!, method: optString(v, 'method'), curve: curveName, refine: true, backend: optString(v, 'backend'), quiet: true });
    t = q.t;
    meta = { preference: q.preference, method: q.method, predicted: q.predicted };
  }
  const run = await openRun(runDir, 'exporting needs a fitted curve');
  await setupBackend(optString(v, 'backend'), true);
  const files = await exportAt(run, curveName, t, format, out, meta);
  if (v.json) io.out(JSON.stringify({ t, format, files }));
  else io.out(`model at t = ${t.toFixed(4)} written: ${files.join(', ')}`);
  return 0;
}
