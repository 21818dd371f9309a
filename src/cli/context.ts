import type * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { selectBackend } from '../backend/index.js';
import { loadDataset, type MultiTaskDataset } from '../data/index.js';
import { buildModel, loadLayersModelFromDir, type FunctionalModel } from '../models/index.js';
import { ExtraInputError } from '../errors.js';
import { listEndpoints, requireRun, type EndpointInfo, type RunInfo } from '../run/index.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const stdio: Io = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
};

/** Pick the compute backend (flag > EXTRA_BACKEND > best available) and return its name. */
export async function setupBackend(flag: string | undefined, quiet = false): Promise<string> {
  const r = await selectBackend({ prefer: flag ?? process.env.EXTRA_BACKEND ?? undefined, quiet });
  return r.name;
}

export async function loadRunDataset(info: RunInfo, quiet = false): Promise<MultiTaskDataset> {
  const d = info.dataset;
  const ds = await loadDataset(d.name, {
    seed: d.seed,
    trainSize: d.trainSize,
    valSize: d.valSize,
    testSize: d.testSize,
    dataDir: d.dataDir,
    quiet,
  });
  if (d.fingerprint && ds.fingerprint !== d.fingerprint) {
    throw new ExtraInputError(
      `the data set rebuilt for this run has fingerprint ${ds.fingerprint.slice(0, 12)}, but the run was trained on ${d.fingerprint.slice(0, 12)} (source files changed?)`,
    );
  }
  return ds;
}

export interface OpenedRun {
  dir: string;
  info: RunInfo;
  model: FunctionalModel;
}

export async function openRun(dir: string, what = ''): Promise<OpenedRun> {
  const info = await requireRun(dir, what);
  return { dir, info, model: buildModel(info.model) };
}

/** The two endpoints a curve joins: given ids, or the most extreme pair of the run's endpoints. */
export async function pickEndpoints(runDir: string, ids?: string[], sides?: [number[], number[]]): Promise<[EndpointInfo, EndpointInfo]> {
  const all = await listEndpoints(runDir);
  if (ids && ids.length) {
    if (ids.length !== 2) throw new ExtraInputError(`--endpoints takes two endpoint ids, got ${ids.length}`);
    if (ids[0] === ids[1]) throw new ExtraInputError(`--endpoints names '${ids[0]}' twice; a curve joins two different endpoints`);
    const found = ids.map((id) => all.find((e) => e.id === id));
    found.forEach((f, i) => {
      if (!f) throw new ExtraInputError(`no finished endpoint '${ids[i]}' in ${runDir} (have: ${all.map((e) => e.id).join(', ') || 'none'})`);
    });
    return [found[0]!, found[1]!];
  }
  if (all.length < 2) {
    throw new ExtraInputError(
      `${runDir} has ${all.length} finished endpoint(s); a curve needs 2 — run 'extra train --run ${runDir} --pref 0.8,0.2 --pref 0.2,0.8' first`,
    );
  }
  // endpoint A favours side 0 (task 0, or the first endpoint group) most, endpoint B side 1
  const [s0, s1] = sides ?? [[0], [1]];
  const weight = (e: EndpointInfo, s: number[]) => s.reduce((a, k) => a + (e.preference[k] ?? 0), 0);
  const score = (e: EndpointInfo) => weight(e, s0) - weight(e, s1);
  const sorted = [...all].sort((a, b) => score(b) - score(a));
  return [sorted[0], sorted[sorted.length - 1]];
}

export async function loadEndpointParams(e: EndpointInfo): Promise<tf.Tensor[]> {
  const { model, values } = await loadLayersModelFromDir(e.dir);
  model.dispose();
  return values;
}

export function curveDirOf(runDir: string, name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..') throw new ExtraInputError(`--curve name '${name}' must be a simple name`);
  return path.join(runDir, name);
}
