import { ExtraInputError } from '../errors.js';
import { curveKinds } from '../curves/index.js';
import { compareCurveStatistics, evaluateRunCurve, fitRunCurve, statisticsComparisonDefaults, type CurveFitRequest, type StatisticsComparison } from '../app/index.js';
import { fitText } from '../train/index.js';
import { flagTable, optNumber, optString, parseFlags, reqString, type OptionSpec } from './args.js';
import { assertRunWritable } from '../run/index.js';
import { stdio, type Io } from './context.js';

export const curveFitOptions: OptionSpec = flagTable({ values: ['run', 'kind', 'controls', 'degree', 'alpha', 'beta', 'samples', 'l2', 'noise', 'weight-lr', 'weight-init', 'epochs', 'batch-size', 'lr', 'schedule', 'seed', 'endpoints', 'curve', 'eval-points', 'threads', 'backend'], switches: ['split-batch', 'shared-batch', 'ungrouped', 'resume', 'json', 'quiet'] });

export const curveHelp = `extra curve fit  --run DIR [--kind ${curveKinds.join('|')}] [--controls N] [--degree P] [--alpha A] [options]
extra curve eval --run DIR [--points 61] [--curve NAME]
extra curve bn   --run DIR [--t ${statisticsComparisonDefaults.ts.join(',')}] [--curve NAME] [--json]

fit: join two endpoints of the run by a curve in weight space and train its interior control points
(and NURBS weights) with the order-aware trade-off loss: mean task loss + alpha * R_order.
  --kind K            ${curveKinds.join(' | ')} (default nurbs; each kind has its own default --controls)
  --controls N        control points incl. the two endpoints (default 4)
  --degree P          NURBS degree (default 3; lowered to N-1 if N is too small)
  --alpha A           weight of the order term (default 0.5; 0 turns it off)
  --beta B            weight of R_align for the group aligned at t = 1/2 (grouped runs; default 0.5)
  --ungrouped         in a grouped run: the same endpoints, but train (and profile) on the tasks, not
                      the groups — the baseline the grouped curve is compared with
  --samples M         values of t per batch (default 2, stratified)
  --shared-batch      every value of t sees the whole batch (default): M passes per step, and the order
                      term compares the values of t on the same samples
  --split-batch       each value of t sees its own 1/M of the batch: a curve step costs one pass, like
                      an endpoint step (faster; on the demo run a slightly lower HV at equal compute)
  --l2 B              L2 penalty on C(t) (default 0)      --noise S   init noise (default 0)
  --weight-lr X       NURBS: learning-rate multiplier of the log-weights (default 1)
  --weight-init W     NURBS: ones (the straight line, default) | random (the EXTRA authors' ω ~ U(0,1))
  --epochs N          default 10     --batch-size N default 256    --lr X default 1e-3
  --schedule S        constant (default) | cosine (the learning rate decays to 0 over the epochs)
  --endpoints A,B     endpoint ids (default: the two most extreme endpoints of the run)
  --curve NAME        sub-directory of the run for this curve (default 'curve')
  --eval-points N     t values checked on validation after each epoch (default 5)
  --threads N         threads splitting each batch (default: all cores; same seed + same threads
                      → bit-identical checkpoints)
  --resume            continue an interrupted fit from its last complete epoch
eval: sweep the curve on a t grid (validation and test) and write profile.json
  --points N          grid size, endpoints included (default 61)
  --baseline FILE     single-task numbers for Δm% ({"task": {"miou": 0.38, ...}}, metric names as in profile.json),
                      kept as RUN/baseline.json (default: the run's own, from 'train --single-task')
  --threads N         worker threads evaluating points (default: all cores; the profile is identical)
bn: a model with BatchNormalization: the test metrics at C(t) with the statistics recomputed at C(t) (what
extra does), with the two endpoints' stored statistics interpolated, and with endpoint A's alone
  --t T1,T2,...       points of the curve, each in [0, 1] (default ${statisticsComparisonDefaults.ts.join(',')})`;

function weightInitFlag(w: string | undefined): 'ones' | 'random' | undefined {
  if (w !== undefined && w !== 'ones' && w !== 'random') throw new ExtraInputError(`curve fit: --weight-init must be ones or random, got '${w}'`);
  return w;
}

function scheduleFlag(s: string | undefined): 'constant' | 'cosine' | undefined {
  if (s !== undefined && s !== 'constant' && s !== 'cosine') throw new ExtraInputError(`curve fit: --schedule must be constant or cosine, got '${s}'`);
  return s;
}

function splitBatchFlag(split: boolean, shared: boolean): boolean {
  if (split && shared) throw new ExtraInputError('curve fit: --split-batch and --shared-batch exclude each other');
  return split;
}

export function parseCurveFitArgs(argv: string[]): CurveFitRequest | 'help' {
  const { values: v, positionals } = parseFlags('curve fit', argv, curveFitOptions);
  if (v.help) return 'help';
  if (positionals.length) throw new ExtraInputError(`curve fit: unexpected argument '${positionals[0]}'`);
  return {
    run: reqString('curve fit', v, 'run'),
    kind: optString(v, 'kind'),
    controls: optNumber('curve fit', v, 'controls', { integer: true, min: 2 }),
    degree: optNumber('curve fit', v, 'degree', { integer: true, min: 1 }),
    alpha: optNumber('curve fit', v, 'alpha', { min: 0 }),
    beta: optNumber('curve fit', v, 'beta', { min: 0 }),
    samples: optNumber('curve fit', v, 'samples', { integer: true, min: 1 }),
    splitBatch: splitBatchFlag(v['split-batch'] === true, v['shared-batch'] === true),
    l2: optNumber('curve fit', v, 'l2', { min: 0 }),
    noise: optNumber('curve fit', v, 'noise', { min: 0 }),
    weightLr: optNumber('curve fit', v, 'weight-lr', { positive: true }),
    weightInit: weightInitFlag(optString(v, 'weight-init')),
    ...(v.ungrouped === true ? { ungrouped: true } : {}),
    epochs: optNumber('curve fit', v, 'epochs', { integer: true, positive: true }),
    batchSize: optNumber('curve fit', v, 'batch-size', { integer: true, positive: true }),
    lr: optNumber('curve fit', v, 'lr', { positive: true }),
    schedule: scheduleFlag(optString(v, 'schedule')),
    seed: optNumber('curve fit', v, 'seed', { integer: true, min: 0 }),
    endpoints: optString(v, 'endpoints')?.split(','),
    curve: optString(v, 'curve'),
    evalPoints: optNumber('curve fit', v, 'eval-points', { integer: true, min: 0 }),
    threads: optNumber('curve fit', v, 'threads', { integer: true, positive: true, max: 64 }),
    backend: optString(v, 'backend'),
    resume: v.resume === true,
    quiet: v.quiet === true,
  };
}

export async function curveCommand(argv: string[], io: Io = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'fit') {
    const a = parseCurveFitArgs(rest);
    if (a === 'help') {
      io.out(curveHelp);
      return 0;
    }
    await assertRunWritable(a.run);
    // --quiet: no status lines either (a refusal is then the only line on stderr)
    const r = await fitRunCurve(a, a.quiet ? () => undefined : io.err);
    if (rest.includes('--json')) io.out(JSON.stringify(r));
    else io.out(`curve fitted: ${r.dir} (${r.epochs} epochs, ${r.secondsPerEpoch.toFixed(1)} s/epoch)`);
    return 0;
  }
  if (sub === 'eval') {
    const { values: v, positionals } = parseFlags('curve eval', rest, flagTable({ values: ['run', 'points', 'curve', 'threads', 'backend', 'baseline'], switches: ['json', 'quiet'] }));
    if (v.help) {
      io.out(curveHelp);
      return 0;
    }
    if (positionals.length) throw new ExtraInputError(`curve eval: unexpected argument '${positionals[0]}'`);
    await assertRunWritable(reqString('curve eval', v, 'run'));
    const prof = await evaluateRunCurve(
      {
        run: reqString('curve eval', v, 'run'),
        points: optNumber('curve eval', v, 'points', { integer: true, min: 2 }),
        curve: optString(v, 'curve'),
        backend: optString(v, 'backend'),
        threads: optNumber('curve eval', v, 'threads', { integer: true, positive: true, max: 64 }),
        ...(optString(v, 'baseline') !== undefined ? { baseline: optString(v, 'baseline') } : {}),
        quiet: v.quiet === true,
      },
      v.quiet === true ? () => undefined : io.err,
    );
    if (v.json) io.out(JSON.stringify({ hypervolume: prof.hypervolume, spearmanValLoss: prof.spearmanValLoss, points: prof.points.length, ...(prof.deltaM ? { deltaM: prof.deltaM } : {}) }));
    else {
      io.out(
        `test-loss HV (ref ${prof.hypervolume.testLoss.ref.map((r) => +r.toFixed(4)).join(',')}${prof.hypervolume.testLoss.refFrom === 'run' ? ", the sweep's worst × 1.1: no point beat the fixed one" : ''}): curve ${prof.hypervolume.testLoss.curve.toFixed(4)} vs endpoints ${prof.hypervolume.testLoss.endpoints.toFixed(4)}; ` +
          (prof.hypervolume.testError ? `test-error HV: curve ${prof.hypervolume.testError.curve.toFixed(4)} vs endpoints ${prof.hypervolume.testError.endpoints.toFixed(4)}; ` : '') +
          `Spearman(val loss, t): ${Object.entries(prof.spearmanValLoss).map(([k, s]) => `${k} ${s.toFixed(3)}`).join(', ')}`,
      );
    }
    return 0;
  }
  if (sub === 'bn') {
    const { values: v, positionals } = parseFlags('curve bn', rest, flagTable({ values: ['run', 't', 'curve', 'backend'], switches: ['json'] }));
    if (v.help) {
      io.out(curveHelp);
      return 0;
    }
    if (positionals.length) throw new ExtraInputError(`curve bn: unexpected argument '${positionals[0]}'`);
    const r = await compareCurveStatistics({ run: reqString('curve bn', v, 'run'), curve: optString(v, 'curve'), ts: tList(optString(v, 't')), backend: optString(v, 'backend') });
    if (v.json) io.out(JSON.stringify(r));
    else for (const line of statisticsTable(r)) io.out(line);
    return 0;
  }
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(curveHelp);
    return 0;
  }
  throw new ExtraInputError(`curve: unknown sub-command '${sub}' (known: fit, eval, bn)`);
}

/** `--t 0.25,0.5`: points of the curve, each a decimal number in [0, 1]. */
function tList(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  return text.split(',').map((x) => {
    const t = optNumber('curve bn', { t: x }, 't');
    if (t === undefined || t < 0 || t > 1) throw new ExtraInputError(`curve bn: --t must be in [0, 1], got ${x === '' ? 'an empty entry' : x}`);
    return t;
  });
}

/** The comparison as a markdown table (reports/own-model.md): one row per t, the tasks' test fits in each cell. */
function statisticsTable(r: StatisticsComparison): string[] {
  const cell = (m: StatisticsComparison['rows'][number]['recomputed']) => m.map((x) => `${fitText(x)} (loss ${x.loss.toFixed(4)})`).join(' / ');
  return [
    `test ${r.taskNames.join(' / ')} at C(t), endpoints ${r.endpoints[0]} (t = 0) and ${r.endpoints[1]} (t = 1); ${r.recomputedOn}`,
    "| t | recomputed at C(t) (extra) | endpoints' stored statistics, interpolated | endpoint A's statistics |",
    '|---|---|---|---|',
    ...r.rows.map((row) => `| ${row.t} | ${cell(row.recomputed)} | ${cell(row.interpolated)} | ${cell(row.endpointA)} |`),
  ];
}
