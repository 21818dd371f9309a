import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extra } from '../fixtures.js';
import { npy } from '../npy-writer.js';

/**
 * Every kind of run the tool writes is reopened by every command that works on a run: a run.json (or
 * any other run file) that the writer accepts but a reader refuses would lose the user's work.
 */

const tiny = ['--train-size', '256', '--val-size', '64', '--test-size', '64'];
const quick = ['--epochs', '1', '--batch-size', '64'];
/** Trainings one endpoint at a time: how a run was trained is not what these tests look at (see reopenWithEveryCommand). */
const oneWorker = ['--workers', '1'];

function ok(args: string[]): string {
  const r = extra(args);
  expect(r.code, `extra ${args.join(' ')}\n${r.err}`).toBe(0);
  return r.out;
}

/** Three tasks on 8 features: 'flag' (binary), 'kind3' (3 classes), 'value' (a regression, float32). */
function writeArrays(dir: string): void {
  let s = 7;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const [split, n] of [['train', 320], ['test', 64]] as const) {
    const x = new Float32Array(n * 8);
    const flag = new Int32Array(n);
    const kind3 = new Int32Array(n);
    const value = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 8; j++) x[i * 8 + j] = rnd();
      flag[i] = x[i * 8] > 0.5 ? 1 : 0;
      kind3[i] = Math.min(2, Math.floor(3 * x[i * 8 + 1]));
      value[i] = 2 * x[i * 8 + 2] - x[i * 8 + 3];
    }
    writeFileSync(path.join(dir, `x_${split}.npy`), npy('<f4', [n, 8], x));
    writeFileSync(path.join(dir, `y_${split}_flag.npy`), npy('<i4', [n], flag));
    writeFileSync(path.join(dir, `y_${split}_kind3.npy`), npy('<i4', [n], kind3));
    writeFileSync(path.join(dir, `y_${split}_value.npy`), npy('<f4', [n], value));
  }
}

/** A functional tfjs model with one head per loss kind: sigmoid (bce), softmax (ce), linear (mse). */
async function writeThreeLossModel(file: string): Promise<void> {
  const input = tf.input({ shape: [8] });
  const h = tf.layers.dense({ name: 'trunk', units: 16, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  const outs = [
    tf.layers.dense({ name: 'flag', units: 1, activation: 'sigmoid' }).apply(h),
    tf.layers.dense({ name: 'kind3', units: 3, activation: 'softmax' }).apply(h),
    tf.layers.dense({ name: 'value', units: 1 }).apply(h),
  ] as tf.SymbolicTensor[];
  const m = tf.model({ inputs: input, outputs: outs });
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(file, JSON.stringify({ modelTopology: a.modelTopology }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/**
 * Reopen a run with every command: curve fit, curve eval, query, export, plane, report, train --resume.
 * One worker thread each (`--threads 1`, `--workers 1`): the same worker code, and the suite's two test
 * files already keep both cores busy, so a second thread per command only adds its start-up.
 */
function reopenWithEveryCommand(run: string, pref: string, resumePrefs: string[], format: 'tfjs' | 'safetensors' | 'onnx', report = true): void {
  ok(['curve', 'fit', '--run', run, ...quick, '--eval-points', '0', '--threads', '1', '--quiet']);
  ok(['curve', 'eval', '--run', run, '--points', '3', '--threads', '1', '--quiet']);
  const q = JSON.parse(ok(['query', '--run', run, '--pref', pref, '--json']));
  expect(q.t).toBeGreaterThanOrEqual(0);
  ok(['export', '--run', run, '--pref', pref, '--format', format, '--out', path.join(run, 'out')]);
  expect(existsSync(path.join(run, 'out', format === 'tfjs' ? 'model.json' : `model.${format}`))).toBe(true);
  ok(['plane', '--run', run, '--grid', '3', '--threads', '1', '--quiet']);
  if (report) ok(['report', '--run', run, '--no-png']);
  ok(['train', '--run', run, ...resumePrefs.flatMap((p) => ['--pref', p]), ...quick, '--resume', '--workers', '1', '--quiet']);
}

describe('round trip: every kind of run reopens with every command', () => {
  let root: string;
  let data: string;
  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'extra-roundtrip-'));
    data = path.join(root, 'arrays');
    mkdirSync(data);
    writeArrays(data);
    await writeThreeLossModel(path.join(root, 'three.json'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('a built-in model on a built-in data set', () => {
    const run = path.join(root, 'builtin');
    ok(['train', '--run', run, '--pref', '0.8,0.2', '--pref', '0.2,0.8', ...quick, ...oneWorker, ...tiny, '--quiet']);
    reopenWithEveryCommand(run, '0.3,0.7', ['0.8,0.2', '0.2,0.8'], 'tfjs');
    // and an import of its endpoints (PyTorch layout) makes a run that reopens too
    for (const [t, name] of [['0', 'a'], ['1', 'b']]) ok(['export', '--run', run, '--t', t, '--format', 'safetensors', '--out', path.join(root, `ep-${name}`)]);
    const imported = path.join(root, 'imported');
    ok(['import', '--run', imported, '--dataset', 'multi-mnist', ...tiny, '--endpoint', `a=${path.join(root, 'ep-a', 'model.safetensors')}`, '--pref', '0.8,0.2', '--endpoint', `b=${path.join(root, 'ep-b', 'model.safetensors')}`, '--pref', '0.2,0.8']);
    reopenWithEveryCommand(imported, '0.5,0.5', ['0.5,0.5'], 'safetensors', false);
  }, 300_000);

  it('a graph model with a ce, a bce and an mse task (losses inferred, and given with --losses)', () => {
    const info = (run: string) => JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'));
    const inferred = path.join(root, 'graph');
    ok(['train', '--run', inferred, '--data', data, '--model-json', path.join(root, 'three.json'), '--pref', '0.6,0.2,0.2', '--pref', '0.2,0.2,0.6', ...quick, ...oneWorker, '--quiet']);
    expect(info(inferred).model.losses).toEqual(['bce', 'ce', 'mse']);
    reopenWithEveryCommand(inferred, '0.3,0.3,0.4', ['0.6,0.2,0.2', '0.2,0.2,0.6'], 'safetensors');
    const given = path.join(root, 'graph-given');
    ok(['train', '--run', given, '--data', data, '--model-json', path.join(root, 'three.json'), '--losses', 'bce,ce,mse', '--pref', '0.6,0.2,0.2', '--pref', '0.2,0.2,0.6', ...quick, ...oneWorker, '--quiet']);
    expect(info(given).model.losses).toEqual(['bce', 'ce', 'mse']);
    ok(['curve', 'fit', '--run', given, ...quick, '--eval-points', '0', '--quiet']);
  }, 300_000);

  it('a run made from two PyTorch ONNX exports (opsets 13 and 17: LayerNorm as primitives and as one op)', () => {
    const run = path.join(root, 'onnx');
    const fx = (f: string) => path.resolve(__dirname, '../fixtures/onnx', f);
    ok(['import', '--run', run, ...tiny, '--endpoint', `a=${fx('ln-gelu-mlp-op13-preserve.onnx')}`, '--pref', '0.8,0.2', '--endpoint', `b=${fx('ln-gelu-mlp-op17-preserve.onnx')}`, '--pref', '0.2,0.8', '--quiet']);
    reopenWithEveryCommand(run, '0.5,0.5', ['0.5,0.5'], 'onnx', false);
  }, 300_000);

  it('a built-in model on your own arrays with a regression task', () => {
    const run = path.join(root, 'regression');
    ok(['train', '--run', run, '--data', data, '--arch', 'mlp-mtl', '--pref', '0.6,0.2,0.2', '--pref', '0.2,0.2,0.6', ...quick, ...oneWorker, '--quiet']);
    reopenWithEveryCommand(run, '0.2,0.4,0.4', ['0.6,0.2,0.2'], 'tfjs', false);
  }, 300_000);

  it('a grouped run with a surface over its three groups', () => {
    const run = path.join(root, 'grouped');
    ok(['group', '--run', run, '--train-size', '320', '--val-size', '64', '--test-size', '64', '--warmup-epochs', '1', '--batches', '2', '--batch-size', '64', '--quiet']);
    const prefs = ['0.8,0.1,0.1', '0.1,0.8,0.1', '0.1,0.1,0.8'];
    ok(['train', '--run', run, ...prefs.flatMap((p) => ['--pref', p]), ...quick, ...oneWorker, '--quiet']);
    reopenWithEveryCommand(run, '0.4,0.3,0.3', prefs, 'safetensors', false);
    ok(['surface', 'fit', '--run', run, ...quick, '--quiet']);
    ok(['surface', 'eval', '--run', run, '--resolution', '2', '--quiet']);
    expect(JSON.parse(ok(['query', '--run', run, '--surface', '--pref', '0.5,0.3,0.2', '--json'])).bary.length).toBe(3);
    ok(['report', '--run', run, '--no-png']);
    // a re-fitted surface makes its old profile stale: refused until surface eval runs again
    ok(['surface', 'fit', '--run', run, ...quick, '--lr', '0.01', '--quiet']);
    const r = extra(['query', '--run', run, '--surface', '--pref', '0.5,0.3,0.2', '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/profile\.json measured another surface .*extra surface eval --run/);
    ok(['surface', 'eval', '--run', run, '--resolution', '2', '--quiet']);
    ok(['query', '--run', run, '--surface', '--pref', '0.5,0.3,0.2', '--json']);
  }, 300_000);
});
