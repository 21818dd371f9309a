import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../io/index.js';
import { identityObjectives, queryCriterion, lossScale, queryMethods, type ObjectiveMap, type QueryMethod } from '../curves/index.js';
import { readGrouping } from '../grouping/index.js';
import { parsePreference } from '../objectives/index.js';
import { listEndpoints, type EndpointInfo } from '../run/index.js';
import { fitSurface, profileSurface, surfaceControlPoints, triangleIndices, surfaceProfileSchema, type SurfaceProfile, type WeightSurface, type Bary } from '../surfaces/index.js';
import { byTaskName } from '../train/index.js';
import { writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import { optNumber, optString, parseFlags, reqString } from './args.js';
import { loadEndpointParams, loadRunDataset, openRun, setupBackend, stdio, type Io } from './context.js';
import { z } from 'zod';
import { parseJsonWith } from '../io/json-file.js';

export const surfaceHelp = `extra surface fit  --run DIR [--degree 2] [--alpha 0.5] [--samples 3] [--epochs N]
extra surface eval --run DIR [--resolution 10]

Beyond the paper: preferences over three groups (or three tasks). A triangular Bézier patch in weight
space has three endpoint models at its corners (one favouring each objective; train them first, e.g.
--pref 0.8,0.1,0.1 --pref 0.1,0.8,0.1 --pref 0.1,0.1,0.8); its other control points are trained with the
order-aware term generalised to the simplex. 'eval' sweeps a simplex grid and writes
DIR/surface/profile.json (3-D hypervolume); 'extra query --surface --pref a,b,c' answers from it.`;

const surfaceDir = (run: string) => path.join(run, 'surface');

async function objectivesOf(run: string, taskNames: string[]): Promise<ObjectiveMap> {
  const g = await readGrouping(run);
  const map = g?.groups ?? identityObjectives(taskNames);
  if (map.names.length !== 3) throw new ExtraInputError(`a surface needs exactly 3 objectives (groups or tasks); this run has ${map.names.length}${g ? '' : " — group the tasks first with 'extra group --run " + run + " --k 3'"}`);
  return map;
}

/** For each objective, the endpoint that puts the largest share of its preference on it. */
function pickCorners(endpoints: EndpointInfo[], map: ObjectiveMap, run: string): [EndpointInfo, EndpointInfo, EndpointInfo] {
  const used = new Set<string>();
  const picks = map.members.map((m) => {
    let best: EndpointInfo | null = null;
    let bestShare = -1;
    for (const e of endpoints) {
      if (used.has(e.id)) continue;
      const share = m.reduce((s, k) => s + (e.preference[k] ?? 0), 0);
      if (share > bestShare) {
        bestShare = share;
        best = e;
      }
    }
    if (!best) throw new ExtraInputError(`${run} has ${endpoints.length} finished endpoints; a surface needs 3 (one favouring each objective) — train them with 'extra train --run ${run} --pref 0.8,0.1,0.1 --pref 0.1,0.8,0.1 --pref 0.1,0.1,0.8'`);
    used.add(best.id);
    return best;
  });
  return picks as [EndpointInfo, EndpointInfo, EndpointInfo];
}

/** surface.json (written by surface fit): what loading the patch needs. */
const surfaceMetaSchema = z.object({ format: z.string(), degree: z.number().int().min(1).max(8), corners: z.array(z.string()).length(3) }).passthrough();


async function loadSurface(run: string, paramNames: string[], shapes: number[][]): Promise<{ surface: WeightSurface; trainable: tf.Tensor[]; meta: { degree: number; corners: string[] } }> {
  const dir = surfaceDir(run);
  const metaFile = path.join(dir, 'surface.json');
  let metaText: string;
  try {
    metaText = await fsp.readFile(metaFile, 'utf8');
  } catch {
    throw new ExtraInputError(`no fitted surface in ${dir}; run 'extra surface fit --run ${run}' first`);
  }
  const meta = parseJsonWith(surfaceMetaSchema, metaText, metaFile);
  const dec = await readSafetensors(path.join(dir, 'controls.safetensors'));
  const byName = new Map(dec.tensors.map((t) => [t.name, t]));
  const idx = triangleIndices(meta.degree);
  const pts = idx.map((_, q) =>
    paramNames.map((n, j) => {
      const t = byName.get(`sp${q}/${n}`);
      if (!t || t.shape.join(',') !== shapes[j].join(',')) throw new FileFormatError(`${dir}/controls.safetensors lacks a valid sp${q}/${n}`);
      return tf.tensor(t.data, t.shape);
    }),
  );
  const n = meta.degree;
  const cornerQ = [idx.findIndex((x) => x[0] === n), idx.findIndex((x) => x[1] === n), idx.findIndex((x) => x[2] === n)];
  const surface: WeightSurface = { degree: n, paramNames, corners: [pts[cornerQ[0]], pts[cornerQ[1]], pts[cornerQ[2]]] };
  const trainable = pts.filter((_, q) => !cornerQ.includes(q)).flat();
  return { surface, trainable, meta };
}

export async function surfaceCommand(argv: string[], io: Io = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'fit' && sub !== 'eval') {
    if (sub === undefined || sub === '--help' || sub === '-h') {
      io.out(surfaceHelp);
      return 0;
    }
    throw new ExtraInputError(`surface: unknown sub-command '${sub}' (known: fit, eval)`);
  }
  const { values: v, positionals } = parseFlags(`surface ${sub}`, rest, {
    run: { type: 'string' },
    degree: { type: 'string' },
    alpha: { type: 'string' },
    samples: { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    resolution: { type: 'string' },
    backend: { type: 'string' },
    resume: { type: 'boolean' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  if (v.help) {
    io.out(surfaceHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`surface: unexpected argument '${positionals[0]}'`);
  const runDir = reqString(`surface ${sub}`, v, 'run');
  const run = await openRun(runDir, 'a surface needs trained endpoints');
  const names = run.model.params.map((p) => p.name);
  const shapes = run.model.params.map((p) => p.shape);
  const map = await objectivesOf(runDir, run.info.dataset.taskNames);
  const quiet = v.quiet === true;
  if (sub === 'fit') {
    const degree = optNumber('surface fit', v, 'degree', { integer: true, min: 1, max: 6 }) ?? 2;
    const corners = pickCorners(await listEndpoints(runDir), map, runDir);
    await setupBackend(optString(v, 'backend'), quiet);
    const ds = await loadRunDataset(run.info, quiet);
    const surface: WeightSurface = { degree, paramNames: names, corners: [await loadEndpointParams(corners[0]), await loadEndpointParams(corners[1]), await loadEndpointParams(corners[2])] };
    const dir = surfaceDir(runDir);
    // one writer per surface: a second fit (or eval) of this run's surface is refused meanwhile
    await withLock(dir, `the surface of ${runDir}`, async () => {
      await fsp.mkdir(dir, { recursive: true });
      const t0 = performance.now();
      const r = await fitSurface(
        run.model,
        surface,
        {
          dir,
          alpha: optNumber('surface fit', v, 'alpha', { min: 0 }) ?? 0.5,
          samplesPerBatch: optNumber('surface fit', v, 'samples', { integer: true, min: 1 }) ?? 3,
          objectives: map,
          corners: [0, 1, 2],
          epochs: optNumber('surface fit', v, 'epochs', { integer: true, positive: true }) ?? 5,
          batchSize: optNumber('surface fit', v, 'batch-size', { integer: true, positive: true }) ?? 256,
          lr: optNumber('surface fit', v, 'lr', { positive: true }) ?? 1e-3,
          optimizer: { name: 'adam' },
          schedule: { name: 'constant' },
          seed: optNumber('surface fit', v, 'seed', { integer: true, min: 0 }) ?? 0,
          resume: v.resume === true,
          progress: !quiet,
        },
        ds,
      );
      const pts = surfaceControlPoints(surface, r.trainable);
      await writeSafetensors(
        path.join(dir, 'controls.safetensors'),
        pts.flatMap((p, q) => p.map((t, j) => ({ name: `sp${q}/${names[j]}`, shape: t.shape, data: t.dataSync() as Float32Array }))),
        { format: 'extra-surface-controls' },
      );
      await writeJsonAtomic(path.join(dir, 'surface.json'), { format: 'extra-surface', degree, corners: corners.map((c) => c.id), objectives: map.names, seconds: (performance.now() - t0) / 1000 });
      io.out(`surface (degree ${degree}) fitted with corners ${corners.map((c) => c.id).join(', ')} → ${dir}`);
    });
    return 0;
  }
  const resolution = optNumber('surface eval', v, 'resolution', { integer: true, min: 1, max: 40 }) ?? 10;
  const { surface, trainable } = await loadSurface(runDir, names, shapes);
  await setupBackend(optString(v, 'backend'), quiet);
  const ds = await loadRunDataset(run.info, quiet);
  const prof = profileSurface(run.model, surface, trainable, ds, map, [0, 1, 2], resolution, !quiet);
  await withLock(surfaceDir(runDir), `the surface of ${runDir}`, () => writeJsonAtomic(path.join(surfaceDir(runDir), 'profile.json'), prof));
  const h = prof.hypervolume;
  if (v.json) io.out(JSON.stringify({ hypervolume: h, spearmanValLoss: prof.spearmanValLoss, points: prof.points.length }));
  else io.out(`3-D test-loss HV (ref 2,2,2): surface ${h.testLoss.surface.toFixed(4)} vs corners ${h.testLoss.corners.toFixed(4)}; test-error HV (ref 1,1,1): surface ${h.testError.surface.toFixed(4)} vs corners ${h.testError.corners.toFixed(4)}`);
  return 0;
}

/** Preference over the three objectives → the best sampled surface point (validation losses). */
export async function querySurface(runDir: string, prefText: string, method: QueryMethod = 'chebyshev') {
  if (!queryMethods.includes(method)) throw new ExtraInputError(`unknown query method '${method}'`);
  const profFile = path.join(surfaceDir(runDir), 'profile.json');
  let profText: string;
  try {
    profText = await fsp.readFile(profFile, 'utf8');
  } catch {
    throw new ExtraInputError(`no surface profile in ${surfaceDir(runDir)}; run 'extra surface fit --run ${runDir}' and 'extra surface eval --run ${runDir}' first`);
  }
  const prof = parseJsonWith(surfaceProfileSchema, profText, profFile) as unknown as SurfaceProfile;
  const pref = parsePreference(prefText, 3, 'preference over 3 groups');
  const rows = prof.points.map((p) => p.valObjectives.map((m) => m.loss));
  const scale = lossScale(rows);
  let best = 0;
  let bestV = Infinity;
  rows.forEach((r, i) => {
    const c = queryCriterion(method, pref, r, scale);
    if (c < bestV) {
      bestV = c;
      best = i;
    }
  });
  const p = prof.points[best];
  return { bary: p.bary as Bary, method, preference: pref, predicted: byTaskName(prof.taskNames, p.test), groups: byTaskName(prof.objectiveNames, p.testObjectives), source: 'surface-grid' };
}
