import { rmSync } from 'node:fs';
import path from 'node:path';
import { groupTasks } from '../app/index.js';
import { adjustedRandIndex } from '../grouping/index.js';

/**
 * Task grouping, checked (`extra bench grouping`, issue #21 §4): are the groups `extra group` finds on
 * multi-mnist-attributes stable across seeds and warm-up lengths? Each grouping, the adjusted Rand index
 * of every pair, and the ground truth it should find (the two digit positions share nothing; the
 * attributes of one position share the digit's features).
 */
export interface GroupingRun {
  seed: number;
  warmupEpochs: number;
  /** each task's group index */
  labels: number[];
  groups: string[][];
  seconds: number;
}

/** `extra group` (k = 3) into OUT/wW-sS, made afresh. */
export async function groupingRun(o: { out: string; seed: number; warmupEpochs: number; trainSize: number }): Promise<GroupingRun> {
  const run = path.join(o.out, `w${o.warmupEpochs}-s${o.seed}`);
  rmSync(run, { recursive: true, force: true });
  const t0 = performance.now();
  const g = await groupTasks({ run, dataset: 'multi-mnist-attributes', k: 3, seed: o.seed, warmupEpochs: o.warmupEpochs, trainSize: o.trainSize, valSize: 2000, testSize: 2000, quiet: true });
  const labels = g.tasks.map((_, i) => g.groups.members.findIndex((m) => m.includes(i)));
  return { seed: o.seed, warmupEpochs: o.warmupEpochs, labels, groups: g.groups.members.map((m) => m.map((i) => g.tasks[i])), seconds: (performance.now() - t0) / 1000 };
}

/** The groups in braces: `{a b} {c}`. */
export function groupsText(groups: readonly string[][]): string {
  return groups.map((m) => `{${m.join(' ')}}`).join(' ');
}

export function groupingLine(r: GroupingRun): string {
  return `warm-up ${r.warmupEpochs} epoch(s), seed ${r.seed} (${r.seconds.toFixed(0)} s): ${groupsText(r.groups)}`;
}

/** The adjusted Rand index of every pair of groupings, and of each against the two digit positions. */
export function groupingTable(runs: readonly GroupingRun[]): string {
  const tasks = 12;
  const truth = Array.from({ length: tasks }, (_, i) => (i < 6 ? 0 : 1));
  return [
    '\n| grouping | ' + runs.map((r) => `w${r.warmupEpochs} s${r.seed}`).join(' | ') + ' | ARI vs positions (2 groups) |',
    '|---|' + runs.map(() => '---').join('|') + '|---|',
    ...runs.map((a) => `| w${a.warmupEpochs} s${a.seed} | ${runs.map((b) => adjustedRandIndex(a.labels, b.labels).toFixed(3)).join(' | ')} | ${adjustedRandIndex(a.labels, truth).toFixed(3)} |`),
  ].join('\n');
}
