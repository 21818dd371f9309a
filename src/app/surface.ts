import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors } from '../io/index.js';
import { readFilePair, writeFilePair, type FilePair } from '../io/file-pair.js';
import { parseJsonWith } from '../io/json-file.js';
import { identityObjectives, queryCriterion, lossScale, type ObjectiveMap } from '../curves/index.js';
import { readGrouping } from '../grouping/index.js';
import { listEndpoints, surfaceDir, surfacePairFiles, surfaceProfileFile, type EndpointInfo } from '../run/index.js';
import { fitSurface, profileSurface, surfaceControlPoints, triangleIndices, surfaceProfileSchema, type SurfaceProfile, type WeightSurface, type Bary } from '../surfaces/index.js';
import { byTaskName } from '../train/index.js';
import { writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import { loadEndpointParams, loadRunDataset, openRun, silent, useBackend, type Log } from './run.js';
import { preferenceOf, queryMethodOf } from './query.js';

/** A run's surface lives in RUN/surface/: surface.json, controls.safetensors, profile.json. */
export { surfaceDir } from '../run/index.js';

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
  return [picks[0], picks[1], picks[2]];
}

/** surface.json (written by surface fit): what loading the patch needs. */
const surfaceMetaSchema = z.object({ format: z.string(), degree: z.number().int().min(1).max(8), corners: z.array(z.string()).length(3), controlsSha256: z.string().optional() }).passthrough();

/** surface.json + controls.safetensors, saved and read as one pair (src/io/file-pair.ts). */
const surfacePair = (run: string): FilePair => ({ dir: surfaceDir(run), ...surfacePairFiles });
const readSurfaceFiles = (run: string) =>
  readFilePair(surfacePair(run), surfaceMetaSchema, `no fitted surface in ${surfaceDir(run)}; run 'extra surface fit --run ${run}' first`, `run 'extra surface fit --run ${run}' again`);

async function loadSurface(run: string, paramNames: string[], shapes: number[][]): Promise<{ surface: WeightSurface; trainable: tf.Tensor[]; meta: { degree: number; corners: string[] }; fingerprint: string }> {
  const dir = surfaceDir(run);
  const { value: meta, data, fingerprint } = await readSurfaceFiles(run);
  const dec = decodeSafetensors(data, path.join(dir, surfacePairFiles.data));
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
  return { surface, trainable, meta, fingerprint };
}

export const surfaceFitDefaults = { degree: 2, alpha: 0.5, samples: 3, epochs: 5, batchSize: 256, lr: 1e-3, seed: 0 };

export interface SurfaceFitRequest {
  run: string;
  degree?: number;
  alpha?: number;
  samples?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  backend?: string;
  resume?: boolean;
  quiet?: boolean;
}

/** Fit a triangular Bézier patch between the run's three corner endpoints; writes RUN/surface/. */
export async function fitRunSurface(req: SurfaceFitRequest, log: Log = silent): Promise<{ dir: string; degree: number; corners: string[]; seconds: number }> {
  const d = surfaceFitDefaults;
  const quiet = req.quiet ?? false;
  const degree = req.degree ?? d.degree;
  const run = await openRun(req.run, 'a surface needs trained endpoints');
  const names = run.model.params.map((p) => p.name);
  const map = await objectivesOf(req.run, run.info.dataset.taskNames);
  const corners = pickCorners(await listEndpoints(req.run), map, req.run);
  await useBackend(req.backend, quiet);
  const ds = await loadRunDataset(run.info, quiet);
  const surface: WeightSurface = { degree, paramNames: names, corners: [await loadEndpointParams(corners[0]), await loadEndpointParams(corners[1]), await loadEndpointParams(corners[2])] };
  const dir = surfaceDir(req.run);
  // one writer per surface: a second fit (or eval) of this run's surface is refused meanwhile
  return withLock(dir, `the surface of ${req.run}`, async () => {
    await fsp.mkdir(dir, { recursive: true });
    const t0 = performance.now();
    const r = await fitSurface(
      run.model,
      surface,
      {
        dir,
        alpha: req.alpha ?? d.alpha,
        samplesPerBatch: req.samples ?? d.samples,
        objectives: map,
        corners: [0, 1, 2],
        epochs: req.epochs ?? d.epochs,
        batchSize: req.batchSize ?? d.batchSize,
        lr: req.lr ?? d.lr,
        optimizer: { name: 'adam' },
        schedule: { name: 'constant' },
        seed: req.seed ?? d.seed,
        resume: req.resume ?? false,
        progress: !quiet,
      },
      ds,
    );
    const pts = surfaceControlPoints(surface, r.trainable);
    const controls = encodeSafetensors(
      pts.flatMap((p, q) => p.map((t, j) => ({ name: `sp${q}/${names[j]}`, shape: t.shape, data: t.dataSync() as Float32Array }))),
      { format: 'extra-surface-controls' },
    );
    const seconds = (performance.now() - t0) / 1000;
    // the old surface stays complete until the new pair replaces it
    await writeFilePair(surfacePair(req.run), { format: 'extra-surface', degree, corners: corners.map((c) => c.id), objectives: map.names, seconds }, controls);
    log(`surface (degree ${degree}) fitted with corners ${corners.map((c) => c.id).join(', ')} → ${dir}`);
    return { dir, degree, corners: corners.map((c) => c.id), seconds };
  });
}

/** Sweep the run's surface on a simplex grid and write RUN/surface/profile.json (3-D hypervolume). */
export async function evaluateRunSurface(req: { run: string; resolution?: number; backend?: string; quiet?: boolean }): Promise<SurfaceProfile> {
  const quiet = req.quiet ?? false;
  const run = await openRun(req.run, 'a surface needs trained endpoints');
  const map = await objectivesOf(req.run, run.info.dataset.taskNames);
  const { surface, trainable, fingerprint } = await loadSurface(req.run, run.model.params.map((p) => p.name), run.model.params.map((p) => p.shape));
  await useBackend(req.backend, quiet);
  const ds = await loadRunDataset(run.info, quiet);
  const prof: SurfaceProfile = { ...profileSurface(run.model, surface, trainable, ds, map, [0, 1, 2], req.resolution ?? 10, !quiet), surfaceFingerprint: fingerprint };
  await withLock(surfaceDir(req.run), `the surface of ${req.run}`, () => writeJsonAtomic(surfaceProfileFile(req.run), prof));
  tf.dispose([...trainable, ...surface.corners.flat()]);
  return prof;
}

/** A surface profile's text, validated, and refused when it measured another surface than the one now fitted. */
export async function checkedSurfaceProfile(runDir: string, text: string, file: string): Promise<SurfaceProfile> {
  const prof = parseJsonWith(surfaceProfileSchema, text, file) as unknown as SurfaceProfile;
  const current = (await readSurfaceFiles(runDir)).fingerprint;
  if (prof.surfaceFingerprint !== current) {
    const why = prof.surfaceFingerprint === undefined ? 'does not say which surface it measured (written by an older extra)' : `measured another surface than the one in ${surfaceDir(runDir)} (re-fitted since)`;
    throw new ExtraInputError(`${file} ${why}; run 'extra surface eval --run ${runDir}' to profile the current surface`);
  }
  return prof;
}

/** Preference over the three objectives → the best sampled surface point (validation losses). */
export async function querySurface(runDir: string, pref: string | readonly number[], method?: string) {
  const m = queryMethodOf(method);
  const profFile = surfaceProfileFile(runDir);
  let profText: string;
  try {
    profText = await fsp.readFile(profFile, 'utf8');
  } catch {
    throw new ExtraInputError(`no surface profile in ${surfaceDir(runDir)}; run 'extra surface fit --run ${runDir}' and 'extra surface eval --run ${runDir}' first`);
  }
  const prof = await checkedSurfaceProfile(runDir, profText, profFile);
  const preference = preferenceOf(pref, 3, 'preference over 3 groups');
  const rows = prof.points.map((p) => p.valObjectives.map((x) => x.loss));
  const scale = lossScale(rows);
  let best = 0;
  let bestV = Infinity;
  rows.forEach((r, i) => {
    const c = queryCriterion(m, preference, r, scale);
    if (c < bestV) {
      bestV = c;
      best = i;
    }
  });
  const p = prof.points[best];
  return { bary: p.bary as Bary, method: m, preference, predicted: byTaskName(prof.taskNames, p.test), groups: byTaskName(prof.objectiveNames, p.testObjectives), source: 'surface-grid' as const };
}
