import { loadRunDataset, openRun, useBackend } from '../app/run.js';
import { trainAtPreference, tuneAt } from '../app/tune.js';

/**
 * What tuning a curve point buys (`extra query --tune`), at several preferences of one run: the
 * scalarization (Chebyshev: max_k p_k L_k of the test losses) at the curve's point, after STEPS more
 * steps at that preference from it, and after the same STEPS from the run's seeded start (an endpoint
 * trained from scratch with the same extra compute).
 */
export interface TuneRow {
  preference: number[];
  t: number;
  curve: number;
  tuned: number;
  scratch: number;
  tuneSeconds: number;
  scratchSeconds: number;
}

export async function measureTuning(o: { run: string; prefs: number[][]; steps: number; lr?: number; method?: 'chebyshev' | 'ls'; backend?: string }, log: (row: TuneRow) => void): Promise<TuneRow[]> {
  const rows: TuneRow[] = [];
  for (const p of o.prefs) {
    const t0 = performance.now();
    const tuned = await tuneAt({ run: o.run, pref: p, method: o.method, steps: o.steps, lr: o.lr, quiet: true, backend: o.backend });
    const tuneSeconds = (performance.now() - t0) / 1000;
    const run = await openRun(o.run);
    await useBackend(o.backend, true);
    const ds = await loadRunDataset(run.info, true);
    const t1 = performance.now();
    const scratch = await trainAtPreference({ run, ds, id: `scratch-${tuned.method}-${tuned.preference.map((v) => v.toFixed(3)).join('_')}-${o.steps}steps`, method: tuned.method, preference: tuned.preference, steps: o.steps, lr: o.lr, quiet: true });
    const row: TuneRow = { preference: tuned.preference, t: tuned.t, curve: tuned.before.testCriterion, tuned: tuned.after.testCriterion, scratch: scratch.criterion.test, tuneSeconds, scratchSeconds: (performance.now() - t1) / 1000 };
    rows.push(row);
    log(row);
  }
  return rows;
}

export function tuneTable(rows: readonly TuneRow[], steps: number, method: string): string {
  const f = (v: number) => v.toFixed(4);
  const lines = [
    `| preference | t* | ${method} at C(t*) | tuned ${steps} steps | from scratch ${steps} steps | tuned − curve | tuned − scratch |`,
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| (${r.preference.map((v) => v.toFixed(2)).join(', ')}) | ${r.t.toFixed(4)} | ${f(r.curve)} | ${f(r.tuned)} | ${f(r.scratch)} | ${(r.tuned - r.curve >= 0 ? '+' : '−') + Math.abs(r.tuned - r.curve).toFixed(4)} | ${(r.tuned - r.scratch >= 0 ? '+' : '−') + Math.abs(r.tuned - r.scratch).toFixed(4)} |`),
  ];
  return lines.join('\n');
}
