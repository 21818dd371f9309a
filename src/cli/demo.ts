import { promises as fsp } from 'node:fs';
import { ExtraInputError } from '../errors.js';
import { kernelEngine } from '../backend/index.js';
import { readRun } from '../run/index.js';
import { flagTable, optNumber, optString, parseFlags } from './args.js';
import { stdio, type Io } from './context.js';
import { trainEndpoints, fitRunCurve, evaluateRunCurve, query, runLayout } from '../app/index.js';
import { fitText, type TaskMetrics } from '../train/index.js';
import { writeReport } from '../report/index.js';
import { denseDemo, denseDemoDefaults } from './demo-dense.js';

/**
 * Demo budget, chosen so the whole pipeline finishes in about five minutes on a 2-core machine with
 * the wasm backend (see README for measured times).
 */
export const demoDefaults = {
  trainSize: 10000,
  valSize: 2000,
  testSize: 2000,
  // 40 passes: 14 epochs of one shared training at (0.5, 0.5), 7 per endpoint, 6 curve epochs (two values
  // of t per batch: 12 passes). The recipe study's 20-pass split (16 / 4 / 8 here) was tried and left the
  // two endpoints 0.3 points apart, with no front to pick from (reports/BENCHMARKS.md, "Recipe study")
  warmStart: 14,
  endpointEpochs: 7,
  endpointLr: 3e-3,
  curveEpochs: 6,
  curveLr: 1e-3,
  points: 31,
};

export const demoHelp = `extra demo [--dense] [--out DIR] [--backend B] [--warm-start N] [--endpoint-epochs N] [--curve-epochs N] [--points N] [--json]

The whole pipeline on the embedded Multi-MNIST: two ls endpoints ((0.8,0.2) and (0.2,0.8)) branched from a
shared warm start (default 14 epochs at (0.5,0.5), then 7 each, in parallel), a NURBS curve fitted with the
order-aware loss, its profile, a query at (0.5,0.5), and a summary. Output goes to DIR (default runs/demo).

--dense: the same on the built-in per-pixel set (dense-digits: segmentation, depth, normals) with segnet-mtl:
two ls endpoints (${denseDemoDefaults.prefs.join(') and (')}), three single-task models, the curve (seg against depth,
normals held best at t = ½), its profile with Δm% along t, queries at (⅓,⅓,⅓) and at the best Δm%, and the paper's
table (nine metrics, Δm%, mean rank). Output goes to DIR (default runs/demo-dense).`;

/** A hypervolume's reference as a reader wants it: its values, and where it came from when not the fixed one. */
const refText = (hv: { ref: number[]; refFrom?: 'run' }): string => `${hv.ref.map((r) => +r.toFixed(3)).join(',')}${hv.refFrom === 'run' ? ", the sweep's worst × 1.1: no point beat the fixed one" : ''}`;

export async function demoCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('demo', argv, flagTable({ values: ['out', 'backend', 'warm-start', 'endpoint-epochs', 'curve-epochs', 'points', 'train-size'], switches: ['json', 'quiet', 'dense'] }));
  if (v.help) {
    io.out(demoHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`demo: unexpected argument '${positionals[0]}'`);
  const out = optString(v, 'out') ?? 'runs/demo';
  const W = optNumber('demo', v, 'warm-start', { integer: true, min: 0 }) ?? demoDefaults.warmStart;
  const E = optNumber('demo', v, 'endpoint-epochs', { integer: true, positive: true }) ?? demoDefaults.endpointEpochs;
  const C = optNumber('demo', v, 'curve-epochs', { integer: true, positive: true }) ?? demoDefaults.curveEpochs;
  const points = optNumber('demo', v, 'points', { integer: true, min: 2 }) ?? demoDefaults.points;
  const trainSize = optNumber('demo', v, 'train-size', { integer: true, positive: true }) ?? demoDefaults.trainSize;
  const backend = optString(v, 'backend');
  const quiet = v.quiet === true;
  if (v.dense === true) {
    if (optString(v, 'warm-start') !== undefined) throw new ExtraInputError('demo --dense: --warm-start is for the Multi-MNIST demo');
    return denseDemo(
      {
        out: optString(v, 'out') ?? 'runs/demo-dense',
        backend,
        endpointEpochs: optNumber('demo', v, 'endpoint-epochs', { integer: true, positive: true, max: 1000 }),
        curveEpochs: optNumber('demo', v, 'curve-epochs', { integer: true, positive: true, max: 1000 }),
        points: optNumber('demo', v, 'points', { integer: true, min: 2, max: 1001 }),
        trainSize: optNumber('demo', v, 'train-size', { integer: true, positive: true }),
        quiet,
        json: v.json === true,
      },
      io,
    );
  }
  const t0 = performance.now();
  // start from a clean run directory, but only ever delete one that extra itself made
  const prev = await readRun(out).catch(() => null);
  if (prev) {
    for (const sub of [runLayout.endpointsDir(out), runLayout.warmStartDir(out), runLayout.curveDir(out), runLayout.profileFile(out), runLayout.runFile(out)]) await fsp.rm(sub, { recursive: true, force: true });
  } else {
    const entries = await fsp.readdir(out).catch(() => [] as string[]);
    if (entries.length) throw new ExtraInputError(`demo: ${out} exists and is not an extra run; choose another --out`);
  }
  const stage = (s: string) => io.err(`\n== ${s} (${((performance.now() - t0) / 1000).toFixed(0)} s) ==`);
  stage(`1/5 endpoints: ls (0.8,0.2) and (0.2,0.8) on multi-mnist${W ? `, from ${W} shared epochs at (0.5,0.5)` : ''}`);
  const tr = await trainEndpoints(
    {
      run: out,
      dataset: { name: 'multi-mnist', seed: 0, trainSize, valSize: demoDefaults.valSize, testSize: demoDefaults.testSize },
      arch: 'lenet-mtl',
      prefs: ['0.8,0.2', '0.2,0.8'],
      method: 'ls',
      epochs: E,
      warmStart: W,
      batchSize: 256,
      lr: demoDefaults.endpointLr,
      optimizer: 'adam',
      schedule: 'constant',
      seed: 0,
      backend,
      workers: 2,
      resume: false,
      quiet,
    },
    io.err,
  );
  const tEnd = performance.now();
  stage('2/5 NURBS curve with the order-aware loss');
  const fit = await fitRunCurve(
    { run: out, kind: 'nurbs', controls: 4, degree: 3, alpha: 0.5, samples: 2, l2: 0, noise: 0, epochs: C, batchSize: 256, lr: demoDefaults.curveLr, seed: 0, curve: 'curve', evalPoints: 0, backend, resume: false, quiet },
    io.err,
  );
  stage(`3/5 profile on ${points} points`);
  const prof = await evaluateRunCurve({ run: out, points, curve: 'curve', backend, quiet }, io.err);
  stage('4/5 query at preference (0.5,0.5)');
  const q = await query({ run: out, pref: '0.5,0.5', method: 'chebyshev', curve: 'curve', refine: 'parabola', backend });
  stage('5/5 report');
  const rep = await writeReport(out, `${out}/report`);
  const seconds = (performance.now() - t0) / 1000;
  const names = prof.taskNames;
  const endpointEpochSeconds = tr.endpoints.reduce((s, e) => s + e.seconds, 0) / tr.endpoints.length / E;
  const summary = {
    run: out,
    backend: tr.backend,
    seconds,
    endpoints: tr.endpoints.map((e) => ({ id: e.id, test: e.test })),
    recipe: { warmStart: W, endpointEpochs: E, curveEpochs: C, passes: W + 2 * E + 2 * C },
    curve: { kind: 'nurbs', epochs: C, secondsPerEpoch: fit.secondsPerEpoch, endpointSecondsPerEpoch: endpointEpochSeconds },
    query: { preference: q.preference, t: q.t, test: q.predicted },
    hypervolume: prof.hypervolume,
    spearmanValLoss: prof.spearmanValLoss,
    endpointsWallSeconds: (tEnd - t0) / 1000,
    report: { html: rep.html, pngs: rep.pngs },
  };
  if (v.json) {
    io.out(JSON.stringify(summary));
    return 0;
  }
  const acc = (m: Record<string, TaskMetrics>) => names.map((n) => `${n} ${fitText(m[n])}`).join(', ');
  io.out('');
  const kernels = kernelEngine();
  io.out(`extra demo — embedded Multi-MNIST, backend ${tr.backend}${tr.backend === 'wasm' ? `, kernels ${kernels.engine} (${kernels.detail})` : ''}, ${seconds.toFixed(0)} s in all`);
  io.out(`  recipe: ${W ? `${W} shared epochs at (0.5,0.5), then ` : ''}${E} epochs per endpoint, ${C} NURBS curve epochs (${W + 2 * E + 2 * C} passes over the data)`);
  for (const e of tr.endpoints) io.out(`  endpoint ${e.id.padEnd(14)} test accuracy: ${acc(e.test)}`);
  io.out(`  query (0.5,0.5) → t = ${q.t.toFixed(3)}    test accuracy: ${acc(q.predicted)}`);
  io.out(
    `  test-loss HV (ref ${refText(prof.hypervolume.testLoss)}): curve ${prof.hypervolume.testLoss.curve.toFixed(4)} vs endpoints only ${prof.hypervolume.testLoss.endpoints.toFixed(4)}`,
  );
  const errorHv = prof.hypervolume.testError;
  if (errorHv) io.out(`  test-error HV (ref ${refText(errorHv)}): curve ${errorHv.curve.toFixed(4)} vs endpoints only ${errorHv.endpoints.toFixed(4)}`);
  io.out(`  Spearman(val loss, t): ${names.map((n) => `${n} ${prof.spearmanValLoss[n].toFixed(3)}`).join(', ')}`);
  io.out(`  curve epoch ${fit.secondsPerEpoch.toFixed(1)} s vs endpoint epoch ${endpointEpochSeconds.toFixed(1)} s`);
  io.out(`  report: ${rep.html}${rep.pngs.length ? ` (+ ${rep.pngs.length} PNG figures)` : ''}   explorer: extra serve --run ${out}`);
  io.out(`  next: extra query --run ${out} --pref 0.3,0.7   |   extra export --run ${out} --pref 0.3,0.7 --format tfjs --out model/`);
  return 0;
}
