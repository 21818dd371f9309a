import { rmSync } from 'node:fs';
import path from 'node:path';
import { groupTasks, trainEndpoints, fitRunCurve, evaluateRunCurve, fitRunSurface, evaluateRunSurface, type Log } from '../app/index.js';
import { objectiveMetrics } from '../curves/index.js';
import { hypervolume } from '../pareto/index.js';
import type { TaskMetrics } from '../train/index.js';
import { groupsText } from './grouping.js';
import { meanPm } from './stats.js';

/**
 * Grouped curve vs ungrouped curve vs surface (`extra bench groups-front`, issue #21 §4), on
 * multi-mnist-attributes: per seed, `extra group` (k = 3) → three endpoints, one favouring each group →
 * (a) the grouped curve (order term on the two conflicting groups, R_align on the third), (b) an ungrouped
 * curve between the same two endpoints (order term on tasks), (c) the triangular surface over the three
 * endpoints. Each is scored on the 3-D hypervolume of the three group test losses (ref 2,2,2) and the best
 * worst-group test loss (Chebyshev at equal weights), paired per seed.
 */
export interface GroupsFrontOptions {
  out: string;
  seed: number;
  epochs: number;
  curveEpochs: number;
  surfaceEpochs: number;
  points: number;
  resolution: number;
  trainSize: number;
}

export const groupsFronts = ['endpoints', 'ungrouped', 'grouped', 'surface'] as const;
export type GroupsFrontName = (typeof groupsFronts)[number];

export interface FrontScore {
  hv: number;
  chebyshev: number;
  points: number;
}

export interface GroupsFrontRow {
  seed: number;
  endpointSeconds: number;
  seconds: Record<Exclude<GroupsFrontName, 'endpoints'>, number>;
  groups: string[][];
  fronts: Record<GroupsFrontName, FrontScore>;
}

const REF = [2, 2, 2];
const worst = (rows: readonly number[][]) => Math.min(...rows.map((r) => Math.max(...r)));

async function time<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, (performance.now() - t0) / 1000];
}

/** One seed in OUT/seedS (made afresh); progress on `log`. */
export async function groupsFrontSeed(o: GroupsFrontOptions, log: Log): Promise<GroupsFrontRow> {
  const say = (s: string) => log(`[bench groups-front] ${s}`);
  const { seed } = o;
  const run = path.join(o.out, `seed${seed}`);
  rmSync(run, { recursive: true, force: true });
  const [g] = await time(() => groupTasks({ run, dataset: 'multi-mnist-attributes', k: 3, seed, warmupEpochs: 1, trainSize: o.trainSize, valSize: 2000, testSize: 2000, quiet: true }));
  const groups = g.groups;
  const named = groups.members.map((m) => m.map((i) => g.tasks[i]));
  say(`seed ${seed}: groups ${groupsText(named)}, endpoints ${g.roles.endpoints.join(',')}, aligned ${g.roles.aligned}`);
  // one endpoint favouring each group
  const prefs = [0, 1, 2].map((c) => [0, 1, 2].map((q) => (q === c ? 0.8 : 0.1)).join(','));
  const [, endpointSeconds] = await time(() => trainEndpoints({ run, prefs, epochs: o.epochs, seed, quiet: true }));
  say(`seed ${seed}: 3 endpoints in ${endpointSeconds.toFixed(0)} s`);
  const common = { run, epochs: o.curveEpochs, seed, quiet: true };
  const [, groupedSeconds] = await time(() => fitRunCurve({ ...common, curve: 'curve' }));
  const [, flatSeconds] = await time(() => fitRunCurve({ ...common, curve: 'ungrouped', ungrouped: true }));
  const [, surfaceSeconds] = await time(() => fitRunSurface({ run, epochs: o.surfaceEpochs, seed, quiet: true }));
  say(`seed ${seed}: grouped curve ${groupedSeconds.toFixed(0)} s, ungrouped ${flatSeconds.toFixed(0)} s, surface ${surfaceSeconds.toFixed(0)} s`);
  const grouped = await evaluateRunCurve({ run, curve: 'curve', points: o.points, quiet: true });
  const flat = await evaluateRunCurve({ run, curve: 'ungrouped', points: o.points, quiet: true });
  const surface = await evaluateRunSurface({ run, resolution: o.resolution, quiet: true });
  // every front in the same space: the three group test losses
  const groupLosses = (points: readonly { test: TaskMetrics[] }[]) => points.map((p) => objectiveMetrics(p.test, groups).map((m) => m.loss));
  const surfaceLosses = surface.points.map((p) => p.testObjectives.map((m) => m.loss));
  const fronts: Record<GroupsFrontName, number[][]> = {
    grouped: groupLosses(grouped.points),
    ungrouped: groupLosses(flat.points),
    surface: surfaceLosses,
    // the three endpoints themselves: the surface's corners
    endpoints: [0, 1, 2].map((c) => surfaceLosses[surface.points.findIndex((p) => p.bary[c] === 1)]),
  };
  const score = (f: number[][]): FrontScore => ({ hv: hypervolume(f, REF), chebyshev: worst(f), points: f.length });
  const row: GroupsFrontRow = {
    seed,
    endpointSeconds,
    seconds: { grouped: groupedSeconds, ungrouped: flatSeconds, surface: surfaceSeconds },
    groups: named,
    fronts: { endpoints: score(fronts.endpoints), ungrouped: score(fronts.ungrouped), grouped: score(fronts.grouped), surface: score(fronts.surface) },
  };
  // the grouped profile's own 3-D HV is computed the same way: a check that the spaces agree
  if (Math.abs(grouped.hypervolume.testLoss.curve - row.fronts.grouped.hv) > 1e-9) throw new Error('grouped HV mismatch');
  const hv = row.fronts;
  say(`seed ${seed}: HV grouped ${hv.grouped.hv.toFixed(4)}, ungrouped ${hv.ungrouped.hv.toFixed(4)}, surface ${hv.surface.hv.toFixed(4)}, endpoints ${hv.endpoints.hv.toFixed(4)}`);
  return row;
}

export function groupsFrontTables(rows: readonly GroupsFrontRow[]): string {
  const lines = ['\n| front | points | 3-D test-loss HV ↑ (ref 2,2,2) | best worst-group test loss ↓ | fit wall time (s) |', '|---|---|---|---|---|'];
  for (const name of groupsFronts) {
    const t = rows.map((r) => (name === 'endpoints' ? r.endpointSeconds : r.seconds[name]));
    lines.push(`| ${name} | ${rows[0].fronts[name].points} | ${meanPm(rows.map((r) => r.fronts[name].hv))} | ${meanPm(rows.map((r) => r.fronts[name].chebyshev))} | ${meanPm(t, 0)} |`);
  }
  lines.push('\nPaired per seed (grouped minus the other; better = higher HV, lower worst-group loss):', '| grouped vs | Δ HV (seeds better) | Δ worst-group loss (seeds better) |', '|---|---|---|');
  for (const other of ['endpoints', 'ungrouped', 'surface'] as const) {
    const dh = rows.map((r) => r.fronts.grouped.hv - r.fronts[other].hv);
    const dc = rows.map((r) => r.fronts.grouped.chebyshev - r.fronts[other].chebyshev);
    lines.push(`| ${other} | ${meanPm(dh)} (${dh.filter((x) => x > 0).length}/${rows.length}) | ${meanPm(dc)} (${dc.filter((x) => x < 0).length}/${rows.length}) |`);
  }
  lines.push('\nPer seed:');
  const f = (r: GroupsFrontRow) => r.fronts;
  for (const r of rows) lines.push(`- seed ${r.seed}: groups ${groupsText(r.groups)}; HV endpoints ${f(r).endpoints.hv.toFixed(4)}, ungrouped ${f(r).ungrouped.hv.toFixed(4)}, grouped ${f(r).grouped.hv.toFixed(4)}, surface ${f(r).surface.hv.toFixed(4)}`);
  return lines.join('\n');
}
