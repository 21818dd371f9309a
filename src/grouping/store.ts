import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { FileFormatError } from '../errors.js';
import { writeJsonAtomic } from '../util/fs.js';
import type { ObjectiveMap } from '../curves/index.js';

/** grouping.json: the affinity, the groups found, and their roles on the curve. */
export interface GroupingFile {
  format: 'extra-grouping';
  version: 1;
  tasks: string[];
  /** averaged cosine similarity of the tasks' trunk gradients */
  cosine: number[][];
  affinityRule: string;
  k: number;
  eigenvalues: number[];
  degenerate: boolean;
  groups: ObjectiveMap;
  /** the two most conflicting groups (curve endpoints) and the group aligned at t = ½ */
  roles: { endpoints: [number, number]; aligned: number | null };
  warmup: { epochs: number; batches: number; seed: number };
}

export const groupingFile = (runDir: string): string => path.join(runDir, 'grouping.json');

export async function readGrouping(runDir: string): Promise<GroupingFile | null> {
  let text: string;
  try {
    text = await fsp.readFile(groupingFile(runDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const g = JSON.parse(text) as GroupingFile;
    if (g.format !== 'extra-grouping') throw new Error('format');
    return g;
  } catch {
    throw new FileFormatError(`${groupingFile(runDir)} is not a valid grouping file (truncated?); re-run 'extra group --run ${runDir}'`);
  }
}

export async function writeGrouping(runDir: string, g: GroupingFile): Promise<void> {
  await writeJsonAtomic(groupingFile(runDir), g);
}

/** Expand a preference over groups to task weights: each task of group g gets r_g / |g|. */
export function groupPreferenceToTasks(groupPref: number[], groups: ObjectiveMap, nTasks: number): number[] {
  const w = new Array<number>(nTasks).fill(0);
  groups.members.forEach((m, g) => m.forEach((k) => (w[k] += groupPref[g] / m.length)));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}
