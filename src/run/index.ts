import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { describeSystemError } from '../util/system-errors.js';
import { writeJsonAtomic, exists, removeStaleTemps, assertRealOutputPath } from '../util/fs.js';
import type { ModelSpec, TaskLoss } from '../models/index.js';
import { readJsonWith } from '../io/json-file.js';
import type { TaskMetrics } from '../train/metrics.js';
import { runInfoSchema, metricsSchema } from './schema.js';
import type { DatasetRecipe } from '../data/types.js';
import { runFile, endpointsDir, metricsFile } from './layout.js';

export type { DatasetRecipe } from '../data/types.js';

export interface RunInfo {
  format: 'extra-run';
  version: 1;
  created: string;
  dataset: DatasetRecipe & { fingerprint: string; taskNames: string[]; numClasses: number[]; inputShape: number[]; taskKinds?: TaskLoss[] };
  model: ModelSpec;
  seed: number;
  backend: string;
  packages: Record<string, string>;
}

export function packageVersion(): string {
  try {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const pkg = JSON.parse(readFileSync(path.join(here, '..', '..', 'package.json'), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export function packageVersions(): Record<string, string> {
  return { extra: packageVersion(), '@tensorflow/tfjs': tf.version.tfjs, node: process.version };
}

export * from './layout.js';

export async function readRun(dir: string): Promise<RunInfo | null> {
  const f = runFile(dir);
  if (!(await exists(f))) return null;
  const info = (await readJsonWith(runInfoSchema, f)) as RunInfo;
  // an atomic write killed midway leaves a temporary file: clear those of dead writers when the run opens
  await removeStaleTemps(dir);
  return info;
}

export async function requireRun(dir: string, what: string): Promise<RunInfo> {
  const info = await readRun(dir);
  if (!info) throw new ExtraInputError(`${dir} is not an extra run (no run.json); run 'extra train --run ${dir} ...' first${what ? ` (${what})` : ''}`);
  return info;
}

/**
 * Write run.json, checked first against the very schema readRun applies: a run the tool writes is
 * one its own commands can reopen (a mismatch is a bug of ours, caught here before anything is kept).
 */
export async function writeRun(dir: string, info: RunInfo): Promise<void> {
  const checked = runInfoSchema.safeParse(JSON.parse(JSON.stringify(info)));
  if (!checked.success) {
    const i = checked.error.issues[0];
    throw new Error(`run.json about to be written would not reopen: ${i.path.join('.')}: ${i.message}`);
  }
  await writeJsonAtomic(runFile(dir), info);
}

export interface EndpointInfo {
  id: string;
  dir: string;
  method: string;
  preference: number[];
  test?: Record<string, TaskMetrics>;
  val?: Record<string, TaskMetrics>;
}

/** Completed endpoints of a run (those with metrics.json and model.json). */
export async function listEndpoints(dir: string): Promise<EndpointInfo[]> {
  const root = endpointsDir(dir);
  let names: string[];
  try {
    names = (await fsp.readdir(root)).sort();
  } catch {
    return [];
  }
  const out: EndpointInfo[] = [];
  for (const id of names) {
    const d = path.join(root, id);
    if (!(await exists(metricsFile(d))) || !(await exists(path.join(d, 'model.json')))) continue;
    const m = await readJsonWith(metricsSchema, metricsFile(d));
    out.push({ id, dir: d, method: m.method, preference: m.preference, test: m.test, val: m.val });
  }
  return out;
}

export function endpointId(method: string, preference: number[]): string {
  return `${method}-${preference.map((p) => +p.toFixed(4)).join('_')}`;
}

/** A run that exists must be writable (not read-only, not on a full disk) before a command that writes into it starts any work. */
export async function assertRunWritable(dir: string): Promise<void> {
  if (await exists(runFile(dir))) await assertWritableDir(dir);
}

export async function assertWritableDir(dir: string): Promise<void> {
  assertRealOutputPath(dir, 'run directory');
  try {
    await fsp.mkdir(dir, { recursive: true });
    // a few bytes, not an empty file: a disk with no space left refuses them
    const probe = path.join(dir, `.write-test-${process.pid}`);
    try {
      await fsp.writeFile(probe, 'extra write test\n');
    } finally {
      await fsp.rm(probe, { force: true }).catch(() => undefined);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.path?.includes('.write-test-')) err.path = dir;
    const said = describeSystemError(e, dir);
    throw new ExtraInputError(said?.startsWith('the disk is full') ? said : `run directory ${dir} is not writable${said ? `: ${said}` : ` (${err.code ?? 'error'})`}`);
  }
}
export { readBaseline, readBaselineArgument, writeBaseline, type StoredBaseline } from './baseline.js';
