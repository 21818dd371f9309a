import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, truncateSync, statSync, mkdirSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadLayersModelFromDir, buildModel } from '../../src/models/index.js';
import { loadCurve, curvePoint } from '../../src/curves/index.js';
import { decodeSafetensors } from '../../src/io/index.js';
import { loadDataset } from '../../src/data/index.js';

import { extra, cacheDir as cache, tinyData as tiny } from '../fixtures.js';

describe('bad input: exit 2 and one line naming the problem', () => {
  const run = mkdtempSync(path.join(tmpdir(), 'extra-bad-'));
  const notADir = path.join(run, 'a-file');
  writeFileSync(notADir, '');
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['unknown flag', ['train', '--run', run, '--pref', '1,1', '--colour', 'red'], /Unknown option '--colour'/],
    ['preference of the wrong length', ['train', '--run', run, '--pref', '0.2,0.3,0.5', ...tiny], /3 entries but there are 2 tasks/],
    ['negative preference', ['train', '--run', run, '--pref=-1,2', ...tiny], /negative/],
    ['negative preference after a space', ['train', '--run', run, '--pref', '-1,2', ...tiny], /preference entry 1 is negative \(-1\)/],
    ['negative learning rate after a space', ['train', '--run', run, '--pref', '1,1', '--lr', '-1'], /--lr must be positive, got -1/],
    ['huge preference', ['train', '--run', run, '--pref', '1e300,1', ...tiny], /preference entry 1 is too large/],
    ['NaN preference', ['train', '--run', run, '--pref', 'NaN,1', ...tiny], /NaN/],
    ['all-zero preference', ['train', '--run', run, '--pref', '0,0', ...tiny], /all zero/],
    ['non-positive epochs', ['train', '--run', run, '--pref', '1,1', '--epochs', '0'], /--epochs must be positive/],
    ['non-integer batch size', ['train', '--run', run, '--pref', '1,1', '--batch-size', '1.5'], /--batch-size must be an integer/],
    ['unknown data set', ['train', '--run', run, '--pref', '1,1', '--dataset', 'imagenet'], /unknown data set 'imagenet'/],
    ['unknown method', ['train', '--run', run, '--pref', '1,1', '--method', 'magic'], /unknown method 'magic'/],
    ['unwritable run directory', ['train', '--run', path.join(notADir, 'run'), '--pref', '1,1', ...tiny], /not writable/],
    ['missing Fashion-MNIST', ['train', '--run', run, '--pref', '1,1', '--dataset', 'multi-fashion', '--data-dir', '/nonexistent'], /dataset-fashion-mnist/],
    ['curve without a run', ['curve', 'fit', '--run', path.join(run, 'nothing')], /no run.json.*extra train/],
    ['query without a profile', ['query', '--run', path.join(run, 'nothing'), '--pref', '1,1'], /extra train|no run.json/],
    ['export t outside [0,1]', ['export', '--run', run, '--t', '1.5', '--format', 'tfjs', '--out', run], /--t must be in \[0, 1\]/],
    ['export unknown format', ['export', '--run', run, '--t', '0.5', '--format', 'pt', '--out', run], /--format must be tfjs, safetensors or onnx/],
    ['unknown curve kind', ['curve', 'fit', '--run', run, '--kind', 'spline'], /unknown curve kind 'spline'/],
    ['preference with an empty entry', ['train', '--run', run, '--pref', '0.3,,0.7', ...tiny], /entry 2 is empty/],
    ['preference in hex', ['train', '--run', run, '--pref', '0x1,0x2', ...tiny], /'0x1' is not a decimal number/],
    ['infinite preference', ['train', '--run', run, '--pref', 'Infinity,1', ...tiny], /not finite/],
    ['number in hex', ['train', '--run', run, '--pref', '1,1', '--lr', '0x10'], /--lr must be a number, got '0x10'/],
    ['huge train size', ['train', '--run', run, '--pref', '1,1', '--train-size', '1e12'], /--train-size must be at most/],
    ['huge profile', ['curve', 'eval', '--run', run, '--points', '1e9'], /--points must be at most 10001/],
    ['huge control count', ['curve', 'fit', '--run', run, '--controls', '1000000'], /--controls must be at most 64/],
    ['zero threads', ['train', '--run', run, '--pref', '1,1', '--threads', '0'], /--threads must be positive/],
    ['decreasing milestones', ['train', '--run', run, '--pref', '1,1', '--milestones', '20,10', ...tiny], /--milestones must be increasing positive epochs, got 20,10/],
    ['milestones with another schedule', ['train', '--run', run, '--pref', '1,1', '--milestones', '5', '--schedule', 'cosine', ...tiny], /--milestones and --gamma are for --schedule step/],
    ['mse loss on a built-in model', ['train', '--run', run, '--pref', '1,1', '--losses', 'mse,mse', ...tiny], /--losses is for your own model/],
    ['ungrouped curve flag takes no value', ['curve', 'fit', '--run', run, '--ungrouped=yes'], /--ungrouped/],
    ['the same preference twice', ['train', '--run', run, '--pref', '0.8,0.2', '--pref', '8,2', ...tiny], /--pref 2 is the same preference as --pref 1/],
  ];
  for (const [name, args, re] of cases) {
    it(name, () => {
      const r = extra(args);
      expect(r.code, r.err).toBe(2);
      const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('['));
      expect(lines.length, r.err).toBe(1);
      expect(lines[0]).toMatch(re);
    });
  }
});

describe('the pipeline from the command line (tiny sizes)', () => {
  const run = mkdtempSync(path.join(tmpdir(), 'extra-run-'));
  let ds: Awaited<ReturnType<typeof loadDataset>>;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const r = extra(['train', '--run', run, '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '1', '--batch-size', '64', ...tiny, '--json']);
    expect(r.code, r.err).toBe(0);
    ds = await loadDataset('multi-mnist', { trainSize: 512, valSize: 128, testSize: 128, cacheDir: cache, quiet: true });
  }, 300_000);

  it('trains two endpoints (in worker threads) with tfjs layers checkpoints', async () => {
    for (const id of ['ls-0.8_0.2', 'ls-0.2_0.8']) {
      const dir = path.join(run, 'endpoints', id);
      const metrics = JSON.parse(readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
      expect(metrics.backend).toBe('wasm');
      const { model } = await loadLayersModelFromDir(dir);
      expect(model.outputs.length).toBe(2);
    }
    const runInfo = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'));
    expect(runInfo.dataset.fingerprint).toBe(ds.fingerprint);
  });

  it('fits a curve, evaluates its profile, answers a query and exports both formats', async () => {
    let r = extra(['curve', 'fit', '--run', run, '--epochs', '1', '--batch-size', '64', '--eval-points', '3']);
    expect(r.code, r.err).toBe(0);
    r = extra(['curve', 'eval', '--run', run, '--points', '5']);
    expect(r.code, r.err).toBe(0);
    const prof = JSON.parse(readFileSync(path.join(run, 'profile.json'), 'utf8'));
    expect(prof.points.map((p: { t: number }) => p.t)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    // the endpoint of the profile is the endpoint model: same test loss as its metrics.json
    const e0 = JSON.parse(readFileSync(path.join(run, 'endpoints', prof.endpoints[0], 'metrics.json'), 'utf8'));
    expect(prof.points[0].test[0].loss).toBeCloseTo(e0.test['top-left'].loss, 4);

    r = extra(['query', '--run', run, '--pref', '0.3,0.7', '--json']);
    expect(r.code, r.err).toBe(0);
    const q = JSON.parse(r.out);
    expect(Object.keys(q).sort()).toEqual(['method', 'predicted', 'preference', 't', 'source', 'validation'].sort());
    expect(q.method).toBe('chebyshev');
    expect(q.preference).toEqual([0.3, 0.7]);
    expect(Object.keys(q.predicted)).toEqual(['top-left', 'bottom-right']);
    // the known answer, from profile.json: the grid point minimising the documented Chebyshev criterion
    // max_k r_k (L_k − z_k)/s_k on the validation losses (z: best loss per objective, s: max − min)
    const objPts: { t: number; val: { loss: number }[] }[] = prof.objectivePoints ?? prof.points;
    const rows = objPts.map((p) => p.val.map((m) => m.loss));
    const pref = [0.3, 0.7];
    const zs = pref.map((_, k) => Math.min(...rows.map((l) => l[k])));
    const ss = pref.map((_, k) => Math.max(Math.max(...rows.map((l) => l[k])) - zs[k], 1e-12));
    const crit = rows.map((l) => Math.max(...l.map((v, k) => (pref[k] * (v - zs[k])) / ss[k])));
    const minCrit = Math.min(...crit);
    const best = crit.indexOf(minCrit);
    const ties = objPts.filter((_, i) => crit[i] <= minCrit + 1e-12).map((p) => p.t);
    r = extra(['query', '--run', run, '--pref', '0.3,0.7', '--no-refine', '--json']);
    expect(r.code, r.err).toBe(0);
    const qn = JSON.parse(r.out);
    expect(qn.source).toBe('interpolated');
    if (ties.length === 1) expect(qn.t).toBe(objPts[best].t);
    else expect(ties).toContain(qn.t);
    // at a grid point the predicted numbers are the profile's own
    const gi = prof.points.findIndex((p: { t: number }) => p.t === qn.t);
    expect(qn.predicted['top-left'].loss).toBe(prof.points[gi].test[0].loss);
    expect(qn.predicted['bottom-right'].loss).toBe(prof.points[gi].test[1].loss);
    // the refined default stays within one grid step of the best grid point
    expect(q.source).toBe('evaluated');
    expect(Math.abs(q.t - objPts[best].t)).toBeLessThanOrEqual(objPts[1].t - objPts[0].t + 1e-12);

    const out = path.join(run, 'exports', 'mid');
    r = extra(['export', '--run', run, '--t', '0.4', '--format', 'tfjs', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const { model, meta } = await loadLayersModelFromDir(out);
    const runInfo = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'));
    const fm = buildModel(runInfo.model);
    const c = await loadCurve(path.join(run, 'curve'), fm.params.map((p) => p.name), fm.params.map((p) => p.shape), run);
    const params = curvePoint(c.curve, c.trainable, 0.4);
    const x = tf.tensor(ds.test.x.subarray(0, 16 * 1296), [16, 36, 36, 1]);
    const ours = fm.forward(params, x);
    const theirs = model.predict(x) as tf.Tensor[];
    for (let k = 0; k < 2; k++) expect(tf.max(tf.abs(tf.sub(ours[k], theirs[k]))).dataSync()[0]).toBeLessThan(1e-5);
    expect((meta as { curvePoint?: { t: number } }).curvePoint?.t).toBe(0.4);

    const st = path.join(run, 'exports', 'st');
    r = extra(['export', '--run', run, '--pref', '0.5,0.5', '--format', 'safetensors', '--out', st]);
    expect(r.code, r.err).toBe(0);
    const dec = decodeSafetensors(new Uint8Array(readFileSync(path.join(st, 'model.safetensors'))));
    const w = dec.tensors.find((t) => t.name === 'conv1.weight')!;
    expect(w.shape).toEqual([10, 1, 9, 9]); // PyTorch layout [out, in, kh, kw]
    expect(dec.tensors.find((t) => t.name === 'fc.weight')!.shape).toEqual([50, 500]);
  });

  it('file-system and network errors of the user\'s paths are one-line exit-2 refusals', () => {
    const aFile = path.join(run, 'a-file');
    writeFileSync(aFile, '');
    const cases: [string[], RegExp][] = [
      [['export', '--run', run, '--t', '0.5', '--format', 'tfjs', '--out', aFile], /a-file already exists/],
      [['export', '--run', run, '--t', '0.5', '--format', 'safetensors', '--out', path.join(aFile, 'sub')], /a-file\/sub is not a directory/],
      [['export', '--run', run, '--t', '0.5', '--format', 'tfjs', '--out', '/proc/extra-out'], /under \/proc, a virtual file system/],
      [['report', '--run', run, '--out', aFile, '--no-png'], /a-file already exists/],
      [['train', '--run', path.join(run, 'r2'), '--dataset', 'multi-fashion', '--data-dir', aFile, '--pref', '1,1', ...tiny], /a-file is not a directory|dataset-fashion-mnist/],
      [['serve', '--run', run, '--host', 'no-such-host.invalid', '--port', '0'], /no-such-host\.invalid does not resolve/],
    ];
    for (const [args, re] of cases) {
      const r = extra(args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('['));
      expect(lines.length, r.err).toBe(1);
      expect(lines[0]).toMatch(re);
    }
  });

  it('training into an existing run with other data sizes is refused, naming them', () => {
    const r = extra(['train', '--run', run, '--pref', '0.5,0.5', '--epochs', '1', '--train-size', '600']);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/was made with --train-size 512, not --train-size 600/);
  });

  it('--ungrouped in a run without grouping is refused before any work', () => {
    const r = extra(['curve', 'fit', '--run', run, '--curve', 'flat', '--ungrouped', '--epochs', '1']);
    expect(r.code, r.err).toBe(2);
    expect(r.err.trim().split('\n').filter((l) => !l.startsWith('['))).toEqual([expect.stringMatching(/--ungrouped is for a grouped run; .* has no grouping\.json/)]);
    expect(existsSync(path.join(run, 'flat'))).toBe(false);
  });

  it('one writer per curve: a live lock names its PID (exit 2), a stale one is taken over; a curve needs two different endpoints', () => {
    const dir = path.join(run, 'locked');
    mkdirSync(dir, { recursive: true });
    // held by a live process (this test runner)
    writeFileSync(path.join(dir, '.lock'), JSON.stringify({ pid: process.pid, since: 'test' }));
    const fit = ['curve', 'fit', '--run', run, '--curve', 'locked', '--epochs', '1', '--batch-size', '64', '--eval-points', '0'];
    const r = extra(fit);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(new RegExp(`in use by PID ${process.pid}`));
    // held by a process that has exited: stale, taken over, and released afterwards
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(path.join(dir, '.lock'), JSON.stringify({ pid: Number(dead), since: 'test' }));
    const ok = extra(fit);
    expect(ok.code, ok.err).toBe(0);
    expect(existsSync(path.join(dir, '.lock'))).toBe(false);
    const ids = readdirSync(path.join(run, 'endpoints')).sort();
    const same = extra(['curve', 'fit', '--run', run, '--curve', 'self', '--endpoints', `${ids[0]},${ids[0]}`]);
    expect(same.code, same.err).toBe(2);
    expect(same.err).toMatch(/names '.*' twice/);
  });

  it('a diverging fit stops at the first non-finite loss with one line, and saves no curve', () => {
    const r = extra(['curve', 'fit', '--run', run, '--curve', 'diverged', '--lr', '1e6', '--epochs', '2', '--batch-size', '64', '--eval-points', '0']);
    expect(r.code, r.err).toBe(2);
    const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('['));
    expect(lines.length, r.err).toBe(1);
    expect(lines[0]).toMatch(/diverged at epoch \d+, step \d+.*Lower --lr/);
    expect(existsSync(path.join(run, 'diverged', 'curve.json'))).toBe(false);
  });

  it('a control-point file holding NaN is refused on load (exit 2, naming the file and tensor)', () => {
    const f = path.join(run, 'curve', 'controls.safetensors');
    const copy = readFileSync(f);
    const bad = Buffer.from(copy);
    const n = Number(bad.readBigUInt64LE(0));
    bad.writeFloatLE(NaN, 8 + n + 4 * 7); // a value inside the first tensor
    writeFileSync(f, bad);
    const r = extra(['export', '--run', run, '--t', '0.5', '--format', 'tfjs', '--out', path.join(run, 'exports', 'nan')]);
    writeFileSync(f, copy);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/controls.safetensors.*non-finite/);
  });

  it('an endpoint whose weights.bin holds NaN is refused on load (exit 2, naming the file and weight)', () => {
    const ep = readdirSync(path.join(run, 'endpoints')).sort()[0];
    const f = path.join(run, 'endpoints', ep, 'weights.bin');
    const copy = readFileSync(f);
    const bad = Buffer.from(copy);
    bad.writeFloatLE(Infinity, 4 * 3);
    writeFileSync(f, bad);
    const r = extra(['curve', 'fit', '--run', run, '--curve', 'nan-ep', '--epochs', '1', '--eval-points', '0']);
    writeFileSync(f, copy);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/weights\.bin: weight conv1\.weight holds a non-finite value \(Infinity\) at index 3/);
  });

  it('a truncated control-point file is refused with exit 2 and what to run', () => {
    const f = path.join(run, 'curve', 'controls.safetensors');
    const copy = readFileSync(f);
    truncateSync(f, statSync(f).size - 100);
    const r = extra(['export', '--run', run, '--t', '0.5', '--format', 'tfjs', '--out', path.join(run, 'exports', 'x')]);
    writeFileSync(f, copy);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/controls.safetensors.*truncated/);
    expect(existsSync(path.join(run, 'exports', 'x', 'model.json'))).toBe(false);
  });
});
