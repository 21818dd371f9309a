import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trainEndpoints, fitRunCurve, evaluateRunCurve, exportAt, openRun, query } from '../../src/app/index.js';
import { loadDataset } from '../../src/data/index.js';
import { graphModel, graphModelSpec } from '../../src/models/graph/index.js';
import { initParams } from '../../src/models/index.js';
import { meanSquaredError, absoluteErrorSum, taskLoss, errorRates, fitText, meanMetrics } from '../../src/train/index.js';
import { npy } from '../npy-writer.js';
import { gatherReportData, frontFigure, alongTFigure, summaryHtml } from '../../src/report/index.js';

/**
 * Features x ∈ [0,1]^8; task 'kind' = [x0 + x1 > 1] (classes), task 'value' = 3·x2 − 2·x3 + 0.5 + noise
 * (a regression, float32 targets).
 */
function writeSplit(dir: string, split: string, n: number, seed: number, valueDtype: '<f4' | '<f8' = '<f4'): { value: number[]; x: Float32Array } {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const x = new Float32Array(n * 8);
  const kind = new Int32Array(n);
  const value: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 8; j++) x[i * 8 + j] = rnd();
    kind[i] = x[i * 8] + x[i * 8 + 1] > 1 ? 1 : 0;
    value.push(Math.fround(3 * x[i * 8 + 2] - 2 * x[i * 8 + 3] + 0.5 + 0.1 * (rnd() - 0.5)));
  }
  writeFileSync(path.join(dir, `x_${split}.npy`), npy('<f4', [n, 8], x));
  writeFileSync(path.join(dir, `y_${split}_kind.npy`), npy('<i8', [n], BigInt64Array.from(kind, (v) => BigInt(v))));
  writeFileSync(path.join(dir, `y_${split}_value.npy`), npy(valueDtype, [n], valueDtype === '<f4' ? Float32Array.from(value) : Float64Array.from(value)));
  return { value, x };
}

function variance(v: number[]): number {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
}

describe('regression losses and metrics (against hand values and tfjs losses)', () => {
  it('mse, its gradient and the absolute error sum', () => {
    const z = tf.tensor2d([[1.5], [-0.5], [2]]);
    const y = tf.tensor1d([1, 0.5, 4]);
    // (0.25 + 1 + 4) / 3 and |0.5| + |−1| + |−2|
    expect(meanSquaredError(z, y).dataSync()[0]).toBeCloseTo(5.25 / 3, 6);
    expect(taskLoss('mse', z, y).dataSync()[0]).toBeCloseTo(tf.losses.meanSquaredError(y, z.reshape([-1])).dataSync()[0], 6);
    expect(absoluteErrorSum(z, y)).toBeCloseTo(3.5, 6);
    // d/dz mean((z − y)²) = 2(z − y)/n
    const g = tf.grad((v: tf.Tensor) => taskLoss('mse', v as tf.Tensor2D, y))(z);
    expect(Array.from(g.dataSync())).toEqual([1 / 3, -2 / 3, -4 / 3].map((v) => expect.closeTo(v, 6)));
  });

  it('a regression has an MAE and no error rate; groups mixing kinds average only the loss', () => {
    const cls = { loss: 0.4, accuracy: 0.9 };
    const reg = { loss: 0.02, mae: 0.1 };
    expect(fitText(cls)).toBe('90.00%');
    expect(fitText(reg)).toBe('MAE 0.1000');
    expect(errorRates([cls, cls])).toEqual([expect.closeTo(0.1, 12), expect.closeTo(0.1, 12)]);
    expect(errorRates([cls, reg])).toBeNull();
    expect(meanMetrics([cls, reg])).toEqual({ loss: expect.closeTo(0.21, 12) });
    expect(meanMetrics([reg, { loss: 0.04, mae: 0.3 }], [0.25, 0.75])).toEqual({ loss: expect.closeTo(0.035, 12), mae: expect.closeTo(0.25, 12) });
  });
});

describe('regression tasks end to end: float targets in --data, loss mse, profile, query, export', () => {
  let dir: string;
  let testValues: number[];
  let testX: Float32Array;
  const run = () => path.join(dir, 'run');
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'extra-regression-'));
    const data = path.join(dir, 'data');
    mkdirSync(data);
    writeSplit(data, 'train', 600, 1);
    writeSplit(data, 'val', 150, 2);
    ({ value: testValues, x: testX } = writeSplit(data, 'test', 200, 3));
    await trainEndpoints({ run: run(), dataset: { name: 'npy', dataDir: data }, arch: 'mlp-mtl', hidden: [32], prefs: ['0.8,0.2', '0.2,0.8'], epochs: 10, batchSize: 32, lr: 0.01, workers: 1, threads: 1, quiet: true, backend: 'cpu' });
    await fitRunCurve({ run: run(), epochs: 2, batchSize: 32, threads: 1, quiet: true, backend: 'cpu' });
    await evaluateRunCurve({ run: run(), points: 5, threads: 1, quiet: true, backend: 'cpu' });
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads float targets as a regression task (numClasses 1) and learns it', async () => {
    const info = JSON.parse(readFileSync(path.join(run(), 'run.json'), 'utf8'));
    expect(info.dataset.taskNames).toEqual(['kind', 'value']);
    expect(info.dataset.numClasses).toEqual([2, 1]);
    const r = await openRun(run());
    expect(r.model.losses).toEqual(['ce', 'mse']);
    const profile = JSON.parse(readFileSync(path.join(run(), 'profile.json'), 'utf8'));
    const metrics = JSON.parse(readFileSync(path.join(run(), 'endpoints', profile.endpoints[1], 'metrics.json'), 'utf8'));
    expect(metrics.test.value.accuracy).toBeUndefined();
    // far better than predicting the mean (MSE = the targets' variance ≈ 1.1)
    expect(metrics.test.value.loss).toBeLessThan(0.2 * variance(testValues));
    expect(metrics.test.value.mae).toBeGreaterThan(0);
    expect(metrics.test.kind.accuracy).toBeGreaterThan(0.8);
  });

  it('profiles with an MSE/MAE per point, no error hypervolume, and the targets\' variance as the loss reference', () => {
    const profile = JSON.parse(readFileSync(path.join(run(), 'profile.json'), 'utf8'));
    expect(profile.hypervolume.testError).toBeNull();
    expect(profile.nonDominatedTestError).toEqual([]);
    expect(profile.hypervolume.testLoss.ref[0]).toBe(2);
    expect(profile.hypervolume.testLoss.ref[1]).toBeCloseTo(variance(testValues), 5);
    for (const p of profile.points) {
      expect(p.test[0].accuracy).toBeGreaterThan(0.5);
      expect(p.test[1].mae).toBeGreaterThan(0);
      expect(p.test[1].accuracy).toBeUndefined();
    }
  });

  it('the exported model, read by tf.loadLayersModel, has the profile\'s MSE, MAE and accuracy', async () => {
    const r = await openRun(run());
    const out = path.join(dir, 'export');
    await exportAt(r, 'curve', 0.5, 'tfjs', out);
    const j = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8'));
    const w = readFileSync(path.join(out, 'weights.bin'));
    const model = await tf.loadLayersModel({ load: async () => ({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }) });
    const [logits, values] = model.predict(tf.tensor2d(testX, [200, 8])) as tf.Tensor[];
    const pred = Array.from(values.dataSync());
    const mse = pred.reduce((a, p, i) => a + (p - testValues[i]) ** 2, 0) / 200;
    const mae = pred.reduce((a, p, i) => a + Math.abs(p - testValues[i]), 0) / 200;
    const kinds = tf.argMax(logits, 1).dataSync();
    let correct = 0;
    for (let i = 0; i < 200; i++) correct += kinds[i] === (testX[i * 8] + testX[i * 8 + 1] > 1 ? 1 : 0) ? 1 : 0;
    const profile = JSON.parse(readFileSync(path.join(run(), 'profile.json'), 'utf8'));
    const mid = profile.points.find((p: { t: number }) => p.t === 0.5);
    expect(mid.test[1].loss).toBeCloseTo(mse, 5);
    expect(mid.test[1].mae).toBeCloseTo(mae, 5);
    expect(mid.test[0].accuracy).toBe(correct / 200);
  });

  it('the report shows the MAE where a regression has no accuracy, and no error hypervolume', async () => {
    const d = await gatherReportData(run());
    const fit = frontFigure(d, 'accuracy');
    expect((fit.layout.yaxis as { title: { text: string } }).title.text).toBe('value test MAE');
    expect((fit.layout.xaxis as { title: { text: string } }).title.text).toBe('kind test accuracy');
    expect(String(fit.data[0].name)).toMatch(/no error HV/);
    const profile = JSON.parse(readFileSync(path.join(run(), 'profile.json'), 'utf8'));
    expect(fit.data[0].y).toEqual(profile.points.map((p: { test: { mae: number }[] }) => p.test[1].mae));
    const along = alongTFigure(d, 'accuracy');
    expect(along.data.map((t) => t.name)).toContain('value MAE (test)');
    const html = summaryHtml(d);
    expect(html).toMatch(/MAE \d\.\d{4} \/ \d\.\d{4}/);
    expect(html).toMatch(/— \(a regression objective\)/);
  });

  it('a query answers with the regression\'s MAE', async () => {
    const q = await query({ run: run(), pref: '0.5,0.5', refine: 'interpolate' });
    expect(q.predicted.value.mae).toBeGreaterThan(0);
    expect(q.predicted.value.accuracy).toBeUndefined();
    expect(q.predicted.kind.accuracy).toBeGreaterThan(0.5);
  });
});

describe('regression data and models: what is read, inferred and refused', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'extra-regression-data-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('float64 targets become float32 labels; a dtype that changes between splits or a non-finite target is refused', async () => {
    const d = path.join(dir, 'd');
    mkdirSync(d);
    const { value } = writeSplit(d, 'train', 50, 4, '<f8');
    writeSplit(d, 'test', 20, 5, '<f8');
    const ds = await loadDataset('npy', { dataDir: d, valFraction: 0.2 });
    expect(ds.numClasses).toEqual([2, 1]);
    expect(ds.train.y[1]).toBeInstanceOf(Float32Array);
    expect(ds.train.y[0]).toBeInstanceOf(Int32Array);
    const all = [...Array.from(ds.train.y[1]), ...Array.from(ds.val.y[1])].sort((a, b) => a - b);
    expect(all).toEqual(value.map((v) => Math.fround(v)).sort((a, b) => a - b));
    // test targets stored as integers: a classification task there, a regression in train
    writeFileSync(path.join(d, 'y_test_value.npy'), npy('<i4', [20], new Int32Array(20)));
    await expect(loadDataset('npy', { dataDir: d, valFraction: 0.2 })).rejects.toThrow(/label column 1 is integer \(classes\) in test but float in train/);
    const bad = new Float32Array(20);
    bad[7] = NaN;
    writeFileSync(path.join(d, 'y_test_value.npy'), npy('<f4', [20], bad));
    await expect(loadDataset('npy', { dataDir: d, valFraction: 0.2 })).rejects.toThrow(/y_test_value\.npy: row 7 holds NaN; regression targets are finite/);
  });

  it('a model.json: one linear unit on a regression task means mse; a sigmoid regression output keeps its sigmoid', async () => {
    const data = { inputShape: [8], numClasses: [2, 1], taskNames: ['kind', 'value'] };
    const input = tf.input({ shape: [8] });
    const h = tf.layers.dense({ name: 'h', units: 16, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const kind = tf.layers.dense({ name: 'kind', units: 2, activation: 'softmax' }).apply(h) as tf.SymbolicTensor;
    const linear = tf.layers.dense({ name: 'value', units: 1 }).apply(h) as tf.SymbolicTensor;
    // the topology as model.save() writes it
    const topology = (outputs: tf.SymbolicTensor[]) => ({ modelTopology: tf.model({ inputs: input, outputs }).toJSON(null, false) });
    expect(graphModelSpec(topology([kind, linear]), 'model.json', data).losses).toEqual(['ce', 'mse']);
    expect(() => graphModelSpec(topology([kind, linear]), 'model.json', data, ['ce', 'bce'])).toThrow(/task value is a regression .* needs loss mse, not bce/);
    expect(() => graphModelSpec(topology([kind, linear]), 'model.json', { ...data, numClasses: [2, 2] }, ['ce', 'mse'])).toThrow(/\(loss mse\) needs 1 unit and a regression task/);
    // targets in (0, 1) with a sigmoid output: the loss compares the sigmoid's value, not its logit
    const squashed = tf.layers.dense({ name: 'squashed', units: 1, activation: 'sigmoid' }).apply(h) as tf.SymbolicTensor;
    const keras = tf.model({ inputs: input, outputs: [kind, squashed] });
    const spec = graphModelSpec(topology([kind, squashed]), 'model.json', data, ['ce', 'mse']);
    const model = graphModel(spec);
    const params = initParams(model.params, 3);
    keras.setWeights(params);
    const x = tf.randomUniform([5, 8], 0, 1, 'float32', 1);
    const [ours0, ours1] = model.forward(params, x);
    const [theirs0, theirs1] = keras.predict(x) as tf.Tensor[];
    expect(Array.from(ours1.dataSync())).toEqual(Array.from(theirs1.dataSync()).map((v) => expect.closeTo(v, 5)));
    // the classification output stays a logit: softmax of ours = tfjs' probabilities
    expect(Array.from(tf.softmax(ours0).dataSync())).toEqual(Array.from(theirs0.dataSync()).map((v) => expect.closeTo(v, 5)));
  });
});
