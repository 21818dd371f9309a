import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { trainEndpoints, fitRunCurve, evaluateRunCurve, readProfile, query, runLayout, type Log } from '../app/index.js';
import { readJsonWith, taskMetricsSchema } from '../io/json-file.js';
import { runInfoSchema, metricsSchema } from '../run/schema.js';
import { curveFileSchema } from '../curves/store.js';
import type { TaskMetrics } from '../train/index.js';
import { signedMeanPm } from './stats.js';

/**
 * The published size (`extra bench published`, issue #21 §1): per data set and seed, two LS endpoints
 * (0.9,0.1) and (0.1,0.9) at the data set's default size, Adam 1e-3, batch 256, the COSMOS MultiStepLR
 * milestones; a NURBS curve (and its Bézier twin between the same endpoints) with as many epochs; a
 * profile and the (0.5,0.5) query. One row per seed and curve, curve minus endpoints, NURBS minus Bézier.
 * Run directories are OUT/DATASET-sSEED.
 */
export interface PublishedRunOptions {
  out: string;
  dataset: string;
  seed: number;
  /** keep every finished step (endpoints, curve, profile) of the run directory */
  reuse: boolean;
  epochs: number;
  milestones: number[];
  curves: readonly string[];
  points: number;
  /** smaller data than the data set's default (a smoke test) */
  sizes: { trainSize?: number; valSize?: number; testSize?: number };
}

/** A curve kind's directory in the run: the default curve for NURBS, the kind's name otherwise. */
export const curveDirName = (kind: string): string => (kind === 'nurbs' ? 'curve' : kind);

/** Train and fit what a run directory does not hold yet (all of it without `reuse`); progress on `log`. */
export async function makePublishedRun(o: PublishedRunOptions, log: Log): Promise<string> {
  const say = (s: string) => log(`[bench published] ${s}`);
  const run = path.join(o.out, `${o.dataset}-s${o.seed}`);
  if (!o.reuse) rmSync(run, { recursive: true, force: true });
  const prefs = ['0.9,0.1', '0.1,0.9'];
  const trained = ['ls-0.9_0.1', 'ls-0.1_0.9'].every((id) => existsSync(runLayout.metricsFile(runLayout.endpointDir(run, id))));
  if (!trained) {
    say(`${run}: endpoints`);
    await trainEndpoints({ run, prefs, dataset: { name: o.dataset, seed: o.seed, ...o.sizes }, epochs: o.epochs, batchSize: 256, lr: 1e-3, schedule: 'step', milestones: o.milestones, seed: o.seed, resume: true });
  }
  for (const kind of o.curves) {
    const curve = curveDirName(kind);
    if (!existsSync(path.join(runLayout.curveDir(run, curve), 'curve.json'))) {
      say(`${run}: ${kind} curve`);
      await fitRunCurve({ run, kind, curve, epochs: o.epochs, resume: true });
    }
    if (!existsSync(runLayout.profileFile(run, curve))) await evaluateRunCurve({ run, curve, points: o.points });
  }
  return run;
}

/** Whether a run holds the profile of a curve kind (what `summarizePublished` reads). */
export function hasPublishedProfile(run: string, kind: string): boolean {
  return existsSync(runLayout.profileFile(run, curveDirName(kind)));
}

export interface PublishedRow {
  dataset: string;
  seed: number;
  kind: string;
  /** test accuracies of the two endpoints, 'a / b' */
  endpoints: string[];
  mid: string;
  query: string;
  hv: number;
  hvEnds: number;
  /** null when an objective is a regression (no error rate) */
  ehv: number | null;
  ehvEnds: number | null;
  cheb: number;
  nd: string;
  best: string;
  weights: string;
  /** test losses along the curve and at the endpoints (the figure) */
  losses: number[][];
  endpointLosses: number[][];
  taskNames: string[];
  trainS: number;
  fitS: number;
  evalS: number;
}

/** What summarizePublished reads of an endpoint's metrics.json. */
const endpointMetricsSchema = metricsSchema.extend({ test: z.record(taskMetricsSchema), seconds: z.number() });

const pct = (x: number | undefined) => `${(100 * (x ?? NaN)).toFixed(2)} %`;

/** One run's numbers for one curve: endpoints, profile, query, learned weights, wall times. */
export async function summarizePublished(run: string, kind: string): Promise<PublishedRow> {
  const curve = curveDirName(kind);
  const info = await readJsonWith(runInfoSchema, runLayout.runFile(run));
  const p = await readProfile(run, curve);
  const c = await readJsonWith(curveFileSchema, path.join(runLayout.curveDir(run, curve), 'curve.json'));
  const ends = await Promise.all(p.endpoints.map((id) => readJsonWith(endpointMetricsSchema, runLayout.metricsFile(runLayout.endpointDir(run, id)))));
  const q = await query({ run, pref: '0.5,0.5', curve });
  const accs = (m: Record<string, TaskMetrics>) => p.taskNames.map((n) => pct(m[n].accuracy)).join(' / ');
  const at = (t: number) => p.points.reduce((b, x) => (Math.abs(x.t - t) < Math.abs(b.t - t) ? x : b));
  return {
    dataset: info.dataset.name,
    seed: info.seed,
    kind,
    endpoints: ends.map((e) => accs(e.test)),
    mid: at(0.5).test.map((m) => pct(m.accuracy)).join(' / '),
    query: `t = ${q.t.toFixed(4)}: ${accs(q.predicted)}`,
    hv: p.hypervolume.testLoss.curve,
    hvEnds: p.hypervolume.testLoss.endpoints,
    ehv: p.hypervolume.testError?.curve ?? null,
    ehvEnds: p.hypervolume.testError?.endpoints ?? null,
    cheb: Math.min(...p.points.map((x) => Math.max(...x.test.map((m) => 0.5 * m.loss)))),
    nd: `${p.nonDominatedTestLoss.length}/${p.points.length}`,
    best: p.taskNames.map((_, k) => pct(Math.max(...p.points.map((x) => x.test[k].accuracy ?? NaN)))).join(' / '),
    weights: c.geometry.kind === 'nurbs' ? c.geometry.weights.map((w) => w.toFixed(2)).join(', ') : '—',
    losses: p.points.map((x) => x.test.map((m) => m.loss)),
    endpointLosses: ends.map((e) => p.taskNames.map((n) => e.test[n].loss)),
    taskNames: p.taskNames,
    trainS: Math.max(...ends.map((e) => e.seconds)),
    fitS: c.seconds,
    evalS: p.seconds,
  };
}

/** The data sets of the rows, in order of appearance. */
export const publishedDatasets = (rows: readonly PublishedRow[]): string[] => [...new Set(rows.map((r) => r.dataset))];

const fixed = (x: number | null, d: number) => (x == null ? 'n/a' : x.toFixed(d));
const pm = signedMeanPm;

/** Per data set: the rows, each curve minus its endpoints, and NURBS minus Bézier paired per seed. */
export function publishedTables(rows: readonly PublishedRow[], curves: readonly string[]): string {
  const lines: string[] = [];
  for (const dataset of publishedDatasets(rows)) {
    const here = rows.filter((r) => r.dataset === dataset);
    lines.push(`\n### ${dataset}\n`);
    lines.push('| seed | curve | endpoint (0.9,0.1) test acc | endpoint (0.1,0.9) test acc | t = 0.5 | query (0.5,0.5) | test-loss HV curve / endpoints (ref 2,2) | test-error HV curve / endpoints | best Chebyshev (0.5,0.5) | non-dominated | best acc along the curve | learned ω | train / fit / eval (s) |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of here) {
      lines.push(`| ${r.seed} | ${r.kind} | ${r.endpoints[0]} | ${r.endpoints[1]} | ${r.mid} | ${r.query} | ${r.hv.toFixed(4)} / ${r.hvEnds.toFixed(4)} | ${fixed(r.ehv, 4)} / ${fixed(r.ehvEnds, 4)} | ${r.cheb.toFixed(4)} | ${r.nd} | ${r.best} | ${r.weights} | ${r.trainS.toFixed(0)} / ${r.fitS.toFixed(0)} / ${r.evalS.toFixed(0)} |`);
    }
    for (const kind of curves) {
      const k = here.filter((r) => r.kind === kind);
      if (k.length === 0) continue;
      const d = k.map((r) => r.hv - r.hvEnds);
      const de = k.map((r) => (r.ehv ?? NaN) - (r.ehvEnds ?? NaN));
      lines.push(`\n${kind} − its endpoints over ${k.length} seed(s): test-loss HV ${pm(d)} (${d.filter((x) => x > 0).length}/${k.length} better), test-error HV ${pm(de)} (${de.filter((x) => x > 0).length}/${k.length})`);
    }
    if (curves.includes('nurbs') && curves.includes('bezier')) {
      const pairs = here.flatMap((n) => {
        const b = n.kind === 'nurbs' ? here.find((x) => x.kind === 'bezier' && x.seed === n.seed) : undefined;
        return b ? [[n, b] as const] : [];
      });
      if (pairs.length > 0) {
        const dh = pairs.map(([n, b]) => n.hv - b.hv);
        const dc = pairs.map(([n, b]) => n.cheb - b.cheb);
        lines.push(`nurbs − bezier, paired over ${pairs.length} seed(s): test-loss HV ${pm(dh)} (${dh.filter((x) => x > 0).length}/${pairs.length} NURBS better), Chebyshev ${pm(dc)} (${dc.filter((x) => x < 0).length}/${pairs.length} NURBS better)`);
      }
    }
  }
  return lines.join('\n');
}

/** A test-loss front figure of one data set: every seed, NURBS solid, other kinds dashed, the first kind's endpoints as squares. */
export function publishedFigure(rows: readonly PublishedRow[], dataset: string, epochs: number, curves: readonly string[]): { id: string; data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  const here = rows.filter((r) => r.dataset === dataset);
  const colour = (seed: number) => ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'][seed % 5];
  const data = here.flatMap((r) => [
    { type: 'scatter', mode: 'lines', name: `seed ${r.seed} ${r.kind} (HV ${r.hv.toFixed(3)})`, x: r.losses.map((l) => l[0]), y: r.losses.map((l) => l[1]), line: { color: colour(r.seed), dash: r.kind === 'nurbs' ? 'solid' : 'dash' } },
    ...(r.kind === curves[0] ? [{ type: 'scatter', mode: 'markers', name: `seed ${r.seed} endpoints (HV ${r.hvEnds.toFixed(3)})`, x: r.endpointLosses.map((l) => l[0]), y: r.endpointLosses.map((l) => l[1]), marker: { size: 11, symbol: 'square', color: colour(r.seed) } }] : []),
  ]);
  const layout = { title: { text: `${dataset} at its published size: test-loss fronts (${epochs}-epoch endpoints and curves)` }, xaxis: { title: { text: `${here[0].taskNames[0]} test loss` } }, yaxis: { title: { text: `${here[0].taskNames[1]} test loss` } }, width: 900, height: 600 };
  return { id: `published-${dataset}`, data, layout };
}
