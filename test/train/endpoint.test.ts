import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trainEndpoint, recomputeStatistics, evaluateSplit, byTaskName, setProgressSink, type EndpointConfig } from '../../src/train/index.js';
import { loadLayersModelFromDir, defaultModelSpec, graphModelSpec, buildModel, type ModelSpec } from '../../src/models/index.js';
import { topologyOf } from '../models/tfjs-topology.js';
import { syntheticData } from '../helpers.js';
import { decodeSafetensors } from '../../src/io/index.js';
import { metricsFile, trainingFiles } from '../../src/run/layout.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = syntheticData();

function config(dir: string, epochs: number, extra: Partial<EndpointConfig> = {}): EndpointConfig {
  return {
    dir,
    ...trainingFiles(dir),
    metricsFile: metricsFile(dir),
    id: 'e',
    spec: defaultModelSpec('mlp-mtl', data.inputShape, [3, 3], data.taskNames, [32]),
    method: 'ls',
    preference: [0.5, 0.5],
    epochs,
    batchSize: 64,
    lr: 3e-3,
    optimizer: { name: 'adam' },
    schedule: { name: 'constant' },
    seed: 3,
    resume: false,
    progress: false,
    ...extra,
  };
}

async function weightsOf(dir: string): Promise<Float32Array[]> {
  const { values } = await loadLayersModelFromDir(dir);
  return values.map((v) => v.dataSync() as Float32Array);
}

describe('endpoint training', () => {
  it('learns the synthetic problem and writes model, metrics and a JSONL log', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-ep-'));
    const r = await trainEndpoint(config(dir, 4), data);
    expect(r.history.length).toBe(4);
    expect(r.history[3].trainLoss[0]).toBeLessThan(r.history[0].trainLoss[0]);
    // 3 classes: chance is 33%; the blob position is easy
    expect(r.test.row.accuracy).toBeGreaterThan(0.8);
    expect(r.test.col.accuracy).toBeGreaterThan(0.8);
    const log = readFileSync(path.join(dir, 'train.jsonl'), 'utf8').trim().split('\n');
    expect(log.map((l) => JSON.parse(l).epoch)).toEqual([1, 2, 3, 4]);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
    expect(metrics.test.row.accuracy).toBeCloseTo(r.test.row.accuracy!, 10);
    expect(existsSync(path.join(dir, 'model.json'))).toBe(true);
  });

  it('same seed gives identical weights; an interrupted run resumed gives the same weights as an uninterrupted one', async () => {
    const a = mkdtempSync(path.join(tmpdir(), 'extra-ep-a-'));
    const b = mkdtempSync(path.join(tmpdir(), 'extra-ep-b-'));
    await trainEndpoint(config(a, 3), data);
    await trainEndpoint(config(b, 1), data); // "killed" after epoch 1 (its checkpoint is complete)
    const resumed = await trainEndpoint(config(b, 3, { resume: true }), data);
    const wa = await weightsOf(a);
    const wb = await weightsOf(b);
    wa.forEach((w, i) => expect(Array.from(wb[i])).toEqual(Array.from(w)));
    const log = readFileSync(path.join(b, 'train.jsonl'), 'utf8').trim().split('\n');
    expect(log.map((l) => JSON.parse(l).epoch)).toEqual([1, 2, 3]);
    expect(resumed.history.length).toBe(3);
  });

  it('--resume with another lr, seed or batch size is refused, naming the differing settings', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-ep-recipe-'));
    await trainEndpoint(config(dir, 1), data);
    await expect(trainEndpoint(config(dir, 2, { resume: true, lr: 0.5, seed: 7 }), data)).rejects.toThrow(/--resume with settings that differ.*--lr 0\.003 → 0\.5, --seed 3 → 7/);
    await expect(trainEndpoint(config(dir, 2, { resume: true, batchSize: 3 }), data)).rejects.toThrow(/--batch-size/);
    // the same settings (more epochs) resume
    const r = await trainEndpoint(config(dir, 2, { resume: true }), data);
    expect(r.history.length).toBe(2);
    expect(JSON.parse(readFileSync(path.join(dir, "metrics.json"), "utf8")).resumedFromEpoch).toBe(1);
  });

  it('nash-mtl trains through per-task gradients (the loss falls below chance)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-ep-nash-'));
    const r = await trainEndpoint(config(dir, 2, { method: 'nash-mtl' }), data);
    expect(r.history[1].trainLoss[0]).toBeLessThan(Math.log(3));
    expect(r.history[1].trainLoss[1]).toBeLessThan(Math.log(3));
  });

  it('dibs-mtl trains through per-task gradients (the loss falls below chance)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-ep-dibs-'));
    const r = await trainEndpoint(config(dir, 2, { method: 'dibs-mtl' }), data);
    expect(r.history[1].trainLoss[0]).toBeLessThan(Math.log(3));
    expect(r.history[1].trainLoss[1]).toBeLessThan(Math.log(3));
  });

  it('famo learns its task logits from the step’s effect, checkpoints them, and resumes bit-identically', async () => {
    const a = mkdtempSync(path.join(tmpdir(), 'extra-ep-famo-a-'));
    const b = mkdtempSync(path.join(tmpdir(), 'extra-ep-famo-b-'));
    const full = await trainEndpoint(config(a, 2, { method: 'famo' }), data);
    expect(full.history[1].trainLoss[0]).toBeLessThan(Math.log(3));
    await trainEndpoint(config(b, 1, { method: 'famo' }), data);
    const resumed = await trainEndpoint(config(b, 2, { method: 'famo', resume: true }), data);
    expect(readFileSync(path.join(b, 'weights.bin')).equals(readFileSync(path.join(a, 'weights.bin')))).toBe(true);
    expect(resumed.history[1].trainLoss).toEqual(full.history[1].trainLoss);
    // the logits moved away from the preference's and are in the checkpoint
    const meta = JSON.parse(decodeSafetensors(new Uint8Array(readFileSync(path.join(a, 'checkpoint.safetensors')))).metadata['extra.state'] ?? 'null') as { state?: { user?: { xi?: number[] } } } | null;
    const xi = meta?.state?.user?.xi;
    expect(xi?.length).toBe(2);
    expect(xi!.some((x) => Math.abs(x - Math.log(2 * 0.5)) > 1e-6)).toBe(true);
  });

  it('flat-mgda: ρ = 0 is mgda (no flatness term); ρ > 0 changes the trajectory and still trains', async () => {
    const weights = async (method: string, rho?: number) => {
      const dir = mkdtempSync(path.join(tmpdir(), `extra-ep-${method}-`));
      const r = await trainEndpoint(config(dir, 1, { method, ...(rho !== undefined ? { methodOptions: { rho } } : {}) }), data);
      return { w: new Float32Array(readFileSync(path.join(dir, 'weights.bin')).buffer.slice(0)), loss: r.history[0].trainLoss };
    };
    const base = await weights('mgda');
    const zero = await weights('flat-mgda', 0);
    const flat = await weights('flat-mgda', 0.5);
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(maxDiff(zero.w, base.w)).toBeLessThan(1e-5);
    expect(maxDiff(flat.w, base.w)).toBeGreaterThan(1e-3);
    expect(flat.loss[0]).toBeLessThan(Math.log(3) + 0.05);
  });

  it('a gradient-aggregation method (mgda) trains through per-task gradients', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-ep-mgda-'));
    const r = await trainEndpoint(config(dir, 2, { method: 'mgda' }), data);
    expect(r.history[1].trainLoss[0]).toBeLessThan(Math.log(3));
    expect(r.history[1].trainLoss[1]).toBeLessThan(Math.log(3));
  });
});

describe('endpoint training of a BatchNormalization model: the final evaluation', () => {
  const bnData = syntheticData();
  // conv → BatchNormalization → relu → pool → two heads, small enough for the cpu backend
  let spec: ModelSpec;
  beforeAll(async () => {
    const x = tf.input({ shape: bnData.inputShape });
    const z = tf.layers.globalAveragePooling2d({}).apply(tf.layers.reLU().apply(tf.layers.batchNormalization().apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x)))) as tf.SymbolicTensor;
    const heads = bnData.taskNames.map((name) => tf.layers.dense({ units: 3, name }).apply(z) as tf.SymbolicTensor);
    spec = graphModelSpec(await topologyOf(tf.model({ inputs: x, outputs: heads })), 'bn.json', { inputShape: bnData.inputShape, numClasses: bnData.numClasses, taskNames: bnData.taskNames });
  });
  const bnConfig = (dir: string, extra: Partial<EndpointConfig> = {}) => config(dir, 1, { spec, ...extra });

  it('reuses the last epoch’s statistics and validation (what a fresh recomputation at the saved weights gives) and says what it did', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-ep-bn-'));
    const lines: string[] = [];
    setProgressSink((l) => lines.push(l));
    try {
      await trainEndpoint(bnConfig(dir, { progress: true }), bnData);
    } finally {
      setProgressSink(null);
    }
    // the oracle: statistics and metrics recomputed from the saved checkpoint, independently of the training
    const saved = await loadLayersModelFromDir(dir);
    const model = buildModel(spec);
    const statistics = recomputeStatistics(model, saved.values, bnData.train);
    saved.statistics.forEach((s, i) => expect(Array.from(s.dataSync())).toEqual(Array.from(statistics[i].dataSync())));
    const [val, test] = [bnData.val, bnData.test].map((s) => byTaskName(bnData.taskNames, evaluateSplit(model, saved.values, s, 1000, statistics)));
    const metrics = JSON.parse(readFileSync(metricsFile(dir), 'utf8'));
    expect(metrics.val).toEqual(JSON.parse(JSON.stringify(val)));
    expect(metrics.test).toEqual(JSON.parse(JSON.stringify(test)));
    expect(lines.find((l) => l.includes('epoch 1/1 done'))).toMatch(/evaluated in [\d.]+ s \(BatchNormalization statistics recomputed over 384 training rows, then 128 validation rows\)/);
    expect(lines.find((l) => l.includes('final evaluation'))).toMatch(/test split \(128 rows\) [\d.]+ s with the last epoch's statistics and validation; model saved in/);
  });

  it('after --resume of a finished training (no epoch run) it recomputes them, to the same numbers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-ep-bn-resume-'));
    await trainEndpoint(bnConfig(dir), bnData);
    const first = readFileSync(metricsFile(dir), 'utf8');
    const lines: string[] = [];
    setProgressSink((l) => lines.push(l));
    try {
      await trainEndpoint(bnConfig(dir, { resume: true, progress: true }), bnData);
    } finally {
      setProgressSink(null);
    }
    const again = JSON.parse(readFileSync(metricsFile(dir), 'utf8'));
    expect(again.val).toEqual(JSON.parse(first).val);
    expect(again.test).toEqual(JSON.parse(first).test);
    expect(lines.find((l) => l.includes('final evaluation'))).toMatch(/BatchNormalization statistics recomputed over 384 training rows, then 128 validation rows and 128 test rows/);
  });
});
