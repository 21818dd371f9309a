import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseJsonWith, finite, count } from '../io/json-file.js';
import { writeJsonAtomic } from '../util/fs.js';
import { groupingFile } from '../run/layout.js';
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

export { groupingFile } from '../run/layout.js';

export async function readGrouping(runDir: string): Promise<GroupingFile | null> {
  let text: string;
  try {
    text = await fsp.readFile(groupingFile(runDir), 'utf8');
  } catch {
    return null;
  }
  return parseJsonWith(groupingSchema, text, groupingFile(runDir), `; re-run 'extra group --run ${runDir}'`) as GroupingFile;
}

/** grouping.json as writeGrouping writes it (the fields read back). */
const groupingSchema = z
  .object({
    format: z.literal('extra-grouping'),
    version: z.literal(1),
    tasks: z.array(z.string()).min(1),
    cosine: z.array(z.array(finite)),
    affinityRule: z.string(),
    k: z.number().int().min(1),
    eigenvalues: z.array(finite),
    degenerate: z.boolean(),
    groups: z.object({ names: z.array(z.string()).min(1), members: z.array(z.array(count).min(1)).min(1) }),
    roles: z.object({ endpoints: z.tuple([count, count]), aligned: count.nullable() }),
    warmup: z.object({ epochs: count, batches: count, seed: count }),
  })
  .passthrough()
  .refine((g) => g.groups.members.flat().every((k) => k < g.tasks.length), { message: 'a group names a task that does not exist', path: ['groups', 'members'] })
  .refine((g) => [...g.roles.endpoints, g.roles.aligned ?? 0].every((r) => r < g.groups.names.length), { message: 'a role names a group that does not exist', path: ['roles'] });

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
