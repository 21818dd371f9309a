import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { DEFAULT_CURVE, curveDir, isListedCurve, listEndpoints, profileFile, readBaseline, requireRun, surfaceProfileFile, trainLogFile, type EndpointInfo, type RunInfo, type StoredBaseline } from '../run/index.js';
import type { StoredProfile } from '../curves/index.js';
import type { SurfaceProfile } from '../surfaces/index.js';
import { readProfile } from '../app/curve.js';
import { readPlane } from '../app/plane.js';
import { checkedSurfaceProfile } from '../app/surface.js';
import { exists } from '../util/fs.js';
import { z } from 'zod';
import type { PlaneFile } from '../landscape/store.js';

/** Everything a report or the explorer page shows, gathered from a run directory. */
export interface ReportData {
  run: string;
  info: RunInfo;
  taskNames: string[];
  endpoints: (EndpointInfo & { log: Record<string, unknown>[] })[];
  /** the default curve's profile first, then any other curves (curve-*) of the run */
  curves: { name: string; profile: StoredProfile; log: Record<string, unknown>[] }[];
  /** the three-group surface's profile, when `extra surface eval` has run */
  surface?: SurfaceProfile;
  /** the default curve's loss landscape plane, when `extra plane` has run */
  plane?: PlaneFile;
  /** the single-task numbers Δm% compares against (RUN/baseline.json), when the run has them */
  baseline?: StoredBaseline;
}

/** What the figures read of a train.jsonl line. */
const logLineSchema = z.object({ epoch: z.number().int().positive(), trainLoss: z.array(z.number()) }).passthrough();

async function readJsonl(file: string): Promise<Record<string, unknown>[]> {
  try {
    const text = await fsp.readFile(file, 'utf8');
    return text
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((l) => {
        // a torn last line (a kill mid-append) or a foreign line is left out of the plots
        try {
          const r = logLineSchema.safeParse(JSON.parse(l));
          return r.success ? [r.data as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });
  } catch {
    return [];
  }
}

export async function gatherReportData(runDir: string): Promise<ReportData> {
  const info = await requireRun(runDir, 'a report needs a run');
  const endpoints = await Promise.all((await listEndpoints(runDir)).map(async (e) => ({ ...e, log: await readJsonl(trainLogFile(e.dir)) })));
  const curves: ReportData['curves'] = [];
  const names = [DEFAULT_CURVE, ...(await fsp.readdir(runDir).catch(() => [] as string[])).filter((d) => d !== DEFAULT_CURVE && isListedCurve(d)).sort()];
  for (const name of names) {
    const dir = curveDir(runDir, name);
    if (!(await exists(profileFile(runDir, name)))) continue; // no profile for this curve
    // a profile that is there but malformed, or that measured another curve, is an error, not a curve to leave out silently
    const profile = await readProfile(runDir, name);
    curves.push({ name, profile, log: await readJsonl(trainLogFile(dir)) });
  }
  if (curves.length === 0) {
    throw new ExtraInputError(`${runDir} has no curve profile; run 'extra curve fit --run ${runDir}' and 'extra curve eval --run ${runDir}' first`);
  }
  let surface: SurfaceProfile | undefined;
  const surfaceFile = surfaceProfileFile(runDir);
  const surfaceText = await fsp.readFile(surfaceFile, 'utf8').catch(() => null);
  // no surface is fine; a malformed one is an error like any other run file
  if (surfaceText !== null) surface = await checkedSurfaceProfile(runDir, surfaceText, surfaceFile);
  const plane = (await readPlane(runDir)) ?? undefined;
  const baseline = (await readBaseline(runDir)) ?? undefined;
  return { run: runDir, info, taskNames: info.dataset.taskNames, endpoints, curves, surface, ...(plane ? { plane } : {}), ...(baseline ? { baseline } : {}) };
}
