import { ExtraInputError } from '../errors.js';
import { assertRealOutputPath } from '../util/fs.js';
import { query, querySurface, exportModel, type ExportRequest } from '../app/index.js';
import { checkExportTarget } from '../app/query.js';
import { assertRunWritable } from '../run/index.js';
import { exportTuned, tuneAt, tuneDefaults } from '../app/tune.js';
import { flagTable, optNumber, optString, parseFlags, reqString } from './args.js';
import { fitPhrase } from '../train/index.js';
import { stdio, type Io } from './context.js';

export const queryHelp = `extra query --run DIR (--pref 0.3,0.7 | --best-dm) [--method chebyshev|ls|ray] [--no-refine | --golden] [--curve NAME] [--surface] [--json]

The point t of the curve whose trade-off matches the preference (one non-negative entry per task,
normalized to sum 1), chosen on validation losses; prints t and the per-task test loss and accuracy there.
  (default)    best grid point of the profile, refined on parabolas through its grid neighbours and
               checked by one real evaluation (kept only if its validation criterion is better)
  --golden     golden-section search on real validation evaluations (~10 passes, slower)
  --no-refine  the best grid point, numbers interpolated from the profile (no model evaluation)
  --best-dm    instead of a preference: the profile point of least Δm% against the run's single-task numbers
               ('train --single-task' or 'curve eval --baseline FILE'), chosen on validation where they exist
  --tune STEPS then train the model at t a few steps more at the preference's own scalarization (Chebyshev for
               chebyshev and ray, LS for ls) from C(t) itself, and print its numbers before and after; the tuned
               model is kept in DIR/tuned/ID ('extra export --pref P --tune STEPS' hands it out)
               [--tune-lr X, default ${tuneDefaults.lr}] [--batch-size N, default ${tuneDefaults.batchSize}]`;

export async function queryCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('query', argv, flagTable({ values: ['run', 'pref', 'method', 'curve', 'backend', 'tune', 'tune-lr', 'batch-size'], switches: ['no-refine', 'golden', 'surface', 'json', 'quiet', 'best-dm'] }));
  if (v.help) {
    io.out(queryHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`query: unexpected argument '${positionals[0]}'`);
  if (v.surface && optString(v, 'tune') !== undefined) throw new ExtraInputError('query: --tune tunes a point of the curve, not of a surface');
  if (v.surface) {
    const s = await querySurface(reqString('query', v, 'run'), reqString('query', v, 'pref'), optString(v, 'method'));
    if (v.json) io.out(JSON.stringify(s));
    else {
      io.out(`preference ${s.preference.map((p) => p.toFixed(3)).join(',')} (${s.method}) → surface point (${s.bary.map((b) => b.toFixed(2)).join(', ')})`);
      for (const [k, m] of Object.entries(s.groups)) io.out(`  ${k}: test loss ${m.loss.toFixed(4)}, ${fitPhrase(m)}`);
    }
    return 0;
  }
  if (v.golden && v['no-refine']) throw new ExtraInputError('query: --golden and --no-refine exclude each other');
  const tune = optNumber('query', v, 'tune', { integer: true, positive: true, max: 1_000_000 });
  if (tune === undefined && (optString(v, 'tune-lr') !== undefined || optString(v, 'batch-size') !== undefined)) throw new ExtraInputError('query: --tune-lr and --batch-size are for --tune STEPS');
  if (tune !== undefined) {
    if (v.surface || v['no-refine'] || v.golden) throw new ExtraInputError('query: --tune starts from the curve\'s evaluated point (no --surface, --no-refine or --golden)');
    await assertRunWritable(reqString('query', v, 'run'));
    const r = await tuneAt({ run: reqString('query', v, 'run'), pref: reqString('query', v, 'pref'), method: optString(v, 'method'), curve: optString(v, 'curve'), backend: optString(v, 'backend'), steps: tune, lr: optNumber('query', v, 'tune-lr', { positive: true, max: 10 }), batchSize: optNumber('query', v, 'batch-size', { integer: true, positive: true }), quiet: v.quiet === true || v.json === true });
    if (v.json) io.out(JSON.stringify(r));
    else {
      io.out(`preference ${r.preference.map((p) => p.toFixed(3)).join(',')} → t = ${r.t.toFixed(4)}, tuned ${r.steps} steps at its ${r.method} scalarization in ${r.seconds.toFixed(1)} s → ${r.dir}`);
      io.out(`  ${r.method} value of the test losses: ${r.before.testCriterion.toFixed(4)} on the curve → ${r.after.testCriterion.toFixed(4)} tuned (validation ${r.before.valCriterion.toFixed(4)} → ${r.after.valCriterion.toFixed(4)})`);
      for (const k of Object.keys(r.after.test)) io.out(`  ${k}: test loss ${r.before.test[k].loss.toFixed(4)} → ${r.after.test[k].loss.toFixed(4)}, ${fitPhrase(r.after.test[k])}`);
    }
    return 0;
  }
  const bestDm = v['best-dm'] === true;
  if (bestDm && optString(v, 'pref') !== undefined) throw new ExtraInputError('query: give --pref or --best-dm, not both');
  const r = await query({
    run: reqString('query', v, 'run'),
    pref: bestDm ? 'best-dm' : reqString('query', v, 'pref'),
    method: optString(v, 'method'),
    curve: optString(v, 'curve'),
    refine: v['no-refine'] === true ? 'interpolate' : v.golden === true ? 'golden' : 'parabola',
    backend: optString(v, 'backend'),
  });
  if (v.json) io.out(JSON.stringify({ t: r.t, method: bestDm ? 'best-dm' : r.method, preference: r.preference, predicted: r.predicted, validation: r.validation, source: r.source, ...(r.groups ? { groups: r.groups } : {}), ...(r.deltaM ? { deltaM: r.deltaM } : {}) }));
  else {
    const dm = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`);
    if (bestDm) io.out(`best Δm% on ${r.deltaM?.chosenOn} against ${r.deltaM?.source} → t = ${r.t.toFixed(4)} (test Δm ${dm(r.deltaM?.test)})`);
    else io.out(`preference ${r.preference.map((p) => p.toFixed(3)).join(',')} (${r.method}) → t = ${r.t.toFixed(4)}${r.deltaM ? ` (test Δm ${dm(r.deltaM.test)} against ${r.deltaM.source})` : ''}`);
    for (const [k, m] of Object.entries(r.predicted)) io.out(`  ${k}: test loss ${m.loss.toFixed(4)}, ${fitPhrase(m)}`);
  }
  return 0;
}

export const exportHelp = `extra export --run DIR (--t T | --pref a,b [--method chebyshev|ls|ray] | --best-dm) --format tfjs|safetensors|onnx --out DIR [--curve NAME]
              [--tune STEPS [--tune-lr X]]   (with --pref: the point tuned as 'extra query --tune' does)

Write the model at a point of the curve:
  tfjs         model.json + weights.bin (loads with tf.loadLayersModel)
  safetensors  model.safetensors with PyTorch state_dict names and layouts (your own names when the run was
               imported with --name-map or from ONNX; num_batches_tracked included): load_state_dict(strict=True)
  onnx         model.onnx for onnxruntime: a run made from ONNX gets its own graph with the point's weights,
               any other run its layer graph written as ONNX (opset 17, NCHW input)
BatchNorm statistics: the endpoint's own at t = 0 and 1, recomputed on training rows in between.`;

export async function exportCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('export', argv, flagTable({ values: ['run', 't', 'pref', 'method', 'format', 'out', 'curve', 'backend', 'tune', 'tune-lr', 'batch-size'], switches: ['json', 'best-dm'] }));
  if (v.help) {
    io.out(exportHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`export: unexpected argument '${positionals[0]}'`);
  const runDir = reqString('export', v, 'run');
  const format = reqString('export', v, 'format');
  if (format !== 'tfjs' && format !== 'safetensors' && format !== 'onnx') throw new ExtraInputError(`export: --format must be tfjs, safetensors or onnx, got '${format}'`);
  const out = reqString('export', v, 'out');
  assertRealOutputPath(out, 'export: --out');
  const hasT = optString(v, 't') !== undefined;
  const hasPref = optString(v, 'pref') !== undefined;
  const bestDm = v['best-dm'] === true;
  if (Number(hasT) + Number(hasPref) + Number(bestDm) !== 1) throw new ExtraInputError('export: give exactly one of --t T, --pref a,b or --best-dm');
  let at: ExportRequest['at'];
  if (hasT) {
    const tt = optNumber('export', v, 't');
    if (tt === undefined || tt < 0 || tt > 1) throw new ExtraInputError(`export: --t must be in [0, 1], got ${optString(v, 't')}`);
    at = { t: tt };
  } else at = { pref: bestDm ? 'best-dm' : reqString('export', v, 'pref'), method: optString(v, 'method') };
  const tune = optNumber('export', v, 'tune', { integer: true, positive: true, max: 1_000_000 });
  if (tune !== undefined) {
    if (!('pref' in at) || bestDm) throw new ExtraInputError('export: --tune needs --pref (it tunes the point at that preference)');
    await checkExportTarget(runDir, format, out);
    await assertRunWritable(runDir);
    const tuned = await tuneAt({ run: runDir, pref: at.pref, method: at.method, curve: optString(v, 'curve'), backend: optString(v, 'backend'), steps: tune, lr: optNumber('export', v, 'tune-lr', { positive: true, max: 10 }), batchSize: optNumber('export', v, 'batch-size', { integer: true, positive: true }), quiet: v.json === true });
    const files = await exportTuned(runDir, tuned, format, out);
    if (v.json) io.out(JSON.stringify({ t: tuned.t, format, files, tuned }));
    else io.out(`model at t = ${tuned.t.toFixed(4)}, tuned ${tuned.steps} steps (${tuned.method} value of the test losses ${tuned.before.testCriterion.toFixed(4)} → ${tuned.after.testCriterion.toFixed(4)}), written: ${files.join(', ')}`);
    return 0;
  }
  if (optString(v, 'tune-lr') !== undefined || optString(v, 'batch-size') !== undefined) throw new ExtraInputError('export: --tune-lr and --batch-size are for --tune STEPS');
  const r = await exportModel({ run: runDir, at, format, out, curve: optString(v, 'curve'), backend: optString(v, 'backend') });
  if (v.json) io.out(JSON.stringify({ t: r.t, format: r.format, files: r.files, ...(r.query ? { query: r.query } : {}) }));
  else io.out(`model at t = ${r.t.toFixed(4)} written: ${r.files.join(', ')}`);
  return 0;
}
