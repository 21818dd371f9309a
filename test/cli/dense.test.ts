import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { extra, refused, cacheDir } from '../fixtures.js';
import { loadLayersModelFromDir } from '../../src/models/index.js';
import { loadDataset } from '../../src/data/index.js';
import { readSafetensors } from '../../src/io/index.js';

/**
 * A per-pixel run through the whole pipeline from the command line: dense-digits (seg, depth, normal)
 * with segnet-mtl, two endpoints, the single-task models, a curve, its profile with Δm%, queries, and
 * the three exports read back by other runtimes (tfjs-layers and onnxruntime agree with each other).
 */
const tiny = ['--dataset', 'dense-digits', '--train-size', '64', '--val-size', '32', '--test-size', '32', '--epochs', '1', '--batch-size', '32'];
let run = '';

function ok(args: string[]): string {
  const r = extra(args);
  expect(r.code, `extra ${args.join(' ')}\n${r.err}`).toBe(0);
  return r.out;
}

beforeAll(() => {
  run = mkdtempSync(path.join(tmpdir(), 'extra-dense-'));
  ok(['train', '--run', run, '--pref', '0.7,0.15,0.15', '--pref', '0.15,0.7,0.15', ...tiny]);
  ok(['train', '--run', run, '--single-task', '--epochs', '1', '--batch-size', '32']);
  const fit = extra(['curve', 'fit', '--run', run, '--epochs', '1', '--batch-size', '32', '--eval-points', '0']);
  expect(fit.code, fit.err).toBe(0);
  // the fit says which task is traded against which, and which is held at the middle
  expect(fit.err).toMatch(/trades seg \(best at t = 0.*against depth \(best at t = 1.*normal is held best at t = ½/);
  ok(['curve', 'eval', '--run', run, '--points', '5']);
}, 600_000);

describe('a dense run end to end (dense-digits, segnet-mtl)', () => {
  it('profile.json holds the nine metrics, an error hypervolume and Δm% against the single-task models', () => {
    const p = JSON.parse(readFileSync(path.join(run, 'profile.json'), 'utf8'));
    expect(p.taskNames).toEqual(['seg', 'depth', 'normal']);
    const m = p.points[2].test;
    for (const k of ['miou', 'pixelAccuracy']) expect(m[0][k]).toBeGreaterThanOrEqual(0);
    for (const k of ['absErr', 'relErr']) expect(m[1][k]).toBeGreaterThan(0);
    for (const k of ['meanAngle', 'medianAngle', 'within11_25', 'within22_5', 'within30']) expect(Number.isFinite(m[2][k])).toBe(true);
    expect(p.hypervolume.testError).not.toBeNull();
    expect(p.deltaM.source).toBe('single-task');
    expect(p.deltaM.test).toHaveLength(5);
    expect(p.deltaM.val).toHaveLength(5);
    const baseline = JSON.parse(readFileSync(path.join(run, 'baseline.json'), 'utf8'));
    expect(Object.keys(baseline.test)).toEqual(['seg', 'depth', 'normal']);
    expect(Object.keys(baseline.test.normal)).toEqual(['meanAngle', 'medianAngle', 'within11_25', 'within22_5', 'within30']);
  });

  it('query --best-dm answers the grid point of least validation Δm%; --baseline FILE replaces the baseline', () => {
    const q = JSON.parse(ok(['query', '--run', run, '--best-dm', '--json']));
    const p = JSON.parse(readFileSync(path.join(run, 'profile.json'), 'utf8'));
    const val = p.deltaM.val as number[];
    expect(q.t).toBe(p.points[val.indexOf(Math.min(...val))].t);
    expect(q.deltaM.chosenOn).toBe('validation');
    const file = path.join(run, '..', `${path.basename(run)}-stl.json`);
    writeFileSync(file, JSON.stringify({ seg: { miou: 0.5, pixelAccuracy: 0.9 }, depth: { absErr: 0.5, relErr: 0.1 } }));
    ok(['curve', 'eval', '--run', run, '--points', '5', '--baseline', file]);
    const p2 = JSON.parse(readFileSync(path.join(run, 'profile.json'), 'utf8'));
    expect(p2.deltaM.source).toBe(file);
    expect(p2.deltaM.val).toBeNull();
    const q2 = JSON.parse(ok(['query', '--run', run, '--best-dm', '--json']));
    expect(q2.deltaM.chosenOn).toBe('test');
  }, 300_000);

  it('exports at a point: the tfjs model (tf.loadLayersModel) and the ONNX file (onnxruntime) give the same per-pixel outputs', async () => {
    const out = (f: string) => path.join(run, `x-${f}`);
    for (const f of ['tfjs', 'onnx', 'safetensors']) ok(['export', '--run', run, '--t', '0.5', '--format', f, '--out', out(f)]);
    const ds = await loadDataset('dense-digits', { trainSize: 64, valSize: 32, testSize: 32, seed: 0, cacheDir, quiet: true });
    const n = 4;
    const x = tf.tensor(ds.test.x.subarray(0, n * 32 * 32 * ds.inputShape[2]), [n, ...ds.inputShape]);
    const { model } = await loadLayersModelFromDir(out('tfjs'));
    const viaTfjs = (model.predict(x) as tf.Tensor[]).map((t) => t.dataSync());
    const s = await ort.InferenceSession.create(path.join(out('onnx'), 'model.onnx'));
    const nchw = tf.transpose(x, [0, 3, 1, 2]);
    const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', nchw.dataSync() as Float32Array, nchw.shape) });
    const channels = [11, 1, 3];
    s.outputNames.forEach((o, k) => {
      const t = r[o];
      expect(t.dims).toEqual([n, channels[k], 32, 32]);
      // onnxruntime's NCHW against tfjs' NHWC; class scores compared as probabilities (either may end in softmax)
      const ort4 = tf.transpose(tf.tensor(t.data as Float32Array, [...t.dims] as number[]), [0, 2, 3, 1]);
      const probs = (v: tf.Tensor) => (k === 0 && Math.abs(tf.sum(v, -1).dataSync()[0] - 1) > 1e-3 ? tf.softmax(v) : v);
      const d = tf.max(tf.abs(tf.sub(probs(ort4), probs(tf.tensor(viaTfjs[k], ort4.shape))))).dataSync()[0];
      expect(d, `task ${k}`).toBeLessThan(1e-4);
    });
    const st = await readSafetensors(path.join(out('safetensors'), 'model.safetensors'));
    const head = st.tensors.find((t) => t.name === 'heads.0.weight');
    expect(head?.shape).toEqual([11, 16, 3, 3]);
  }, 300_000);

  it('the report has the dense page: each task\'s metrics along t and Δm% along t', () => {
    const out = path.join(run, 'report-x');
    ok(['report', '--run', run, '--out', out]);
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    for (const id of ['fig-dense-0', 'fig-dense-1', 'fig-dense-2', 'fig-delta-m']) expect(html).toContain(id);
    // the classification "accuracy along t" panel would mix the tasks' units: it is not there
    expect(html).not.toContain('fig-along-t-accuracy');
  }, 300_000);

  it('bad input: a per-sample architecture for per-pixel tasks, a baseline naming a task the run lacks or holding a zero', () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'extra-dense-bad-'));
    refused(['train', '--run', path.join(fresh, 'r'), '--arch', 'lenet-mtl', '--pref', '1,1,1', ...tiny], /lenet-mtl cannot answer task seg \(seg\): a per-pixel segmentation output must be \[H,W,C\]/);
    const file = path.join(fresh, 'b.json');
    writeFileSync(file, JSON.stringify({ sky: { miou: 0.5 } }));
    refused(['curve', 'eval', '--run', run, '--baseline', file], /names task sky, not of this run/);
    writeFileSync(file, JSON.stringify({ seg: { miou: 0 } }));
    refused(['curve', 'eval', '--run', run, '--baseline', file], /seg\.miou is 0/);
  });
});
