import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectBackend } from '../../src/backend/index.js';
import { buildModel, defaultModelSpec } from '../../src/models/index.js';
import { pamalParamSpecs, initPamal, pamalForward, fitPamal, evaluatePamalAt } from '../../src/pamal/index.js';
import { makeRng } from '../../src/util/rng.js';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', quiet: true });
});

const model = buildModel(defaultModelSpec('mlp-mtl', [6, 6, 1], [3, 3], ['a', 'b'], [16]));

describe('PaMaL ensemble', () => {
  it('θ(α) is each member at a vertex and their weighted sum inside; members start apart', () => {
    const specs = pamalParamSpecs(model, 2);
    expect(specs.length).toBe(2 * model.params.length);
    expect(specs[model.params.length].name).toBe(`members.1.${model.params[0].name}`);
    const values = initPamal(model, 3, 2);
    const P = model.params.length;
    expect(Array.from(values[0])).not.toEqual(Array.from(values[P]));
    const tensors = values.map((v, i) => tf.tensor(v, specs[i].shape));
    const at = (alpha: number[]) => pamalForward(model, tensors, alpha).map((t) => Array.from(t.dataSync()));
    expect(at([1, 0])).toEqual(values.slice(0, P).map((v) => Array.from(v)));
    expect(at([0, 1])).toEqual(values.slice(P).map((v) => Array.from(v)));
    const mid = at([0.25, 0.75]);
    mid.forEach((v, i) => v.forEach((x, q) => expect(x).toBeCloseTo(0.25 * values[i][q] + 0.75 * values[P + i][q], 6)));
    expect(() => pamalForward(model, tensors.slice(1), [0.5, 0.5])).toThrow(/tensors for 2 members/);
    tf.dispose(tensors);
  });

  it('trains both members at random preferences: the loss falls, and each end favours its task', async () => {
    // task a: which third of [0, 1) the first pixel lies in; task b: the same for the last pixel
    const rng = makeRng(5);
    const n = 512;
    const x = Float32Array.from({ length: n * 36 }, () => rng.next());
    const ya = Int32Array.from({ length: n }, (_, i) => Math.floor(3 * x[i * 36]));
    const yb = Int32Array.from({ length: n }, (_, i) => Math.floor(3 * x[i * 36 + 35]));
    const train = { x, y: [ya, yb], n };
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-pamal-'));
    const fit = await fitPamal(model, { dir, epochs: 12, batchSize: 64, lr: 1e-2, optimizer: { name: 'adam' }, schedule: { name: 'constant' }, seed: 1, resume: false, progress: false, window: 2 }, { inputShape: [6, 6, 1], train });
    const first = fit.history[0].trainLoss;
    const last = fit.history[fit.history.length - 1].trainLoss;
    expect(last[0] + last[1]).toBeLessThan(first[0] + first[1]);
    const [a] = evaluatePamalAt(model, fit.tensors, [1, 0], [train]);
    const [b] = evaluatePamalAt(model, fit.tensors, [0, 1], [train]);
    // member 0 is trained mostly on task a's loss, member 1 on task b's
    expect(a[0].loss).toBeLessThan(b[0].loss);
    expect(b[1].loss).toBeLessThan(a[1].loss);
    tf.dispose(fit.tensors);
  });

  it('a time limit (bench front\'s @time rows) stops the training mid-way, its last epoch partial', async () => {
    const rng = makeRng(6);
    const n = 512;
    const x = Float32Array.from({ length: n * 36 }, () => rng.next());
    const y = Int32Array.from({ length: n }, (_, i) => Math.floor(3 * x[i * 36]));
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-pamal-time-'));
    const t0 = performance.now();
    const fit = await fitPamal(model, { dir, epochs: 100_000, batchSize: 64, lr: 1e-2, optimizer: { name: 'adam' }, schedule: { name: 'constant' }, seed: 1, resume: false, progress: false, window: 2, maxSeconds: 0.5 }, { inputShape: [6, 6, 1], train: { x, y: [y, y], n } });
    const seconds = (performance.now() - t0) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(0.5);
    expect(fit.history.length).toBeGreaterThan(0);
    expect(fit.history.length).toBeLessThan(100_000);
    // samples seen: whole epochs but the last, which stops at the step that crossed the limit
    const seen = fit.history.map((h) => Math.round(h.samplesPerSecond * h.seconds));
    seen.slice(0, -1).forEach((s) => expect(s).toBe(n));
    expect(seen[seen.length - 1]).toBeGreaterThan(0);
    expect(seen[seen.length - 1]).toBeLessThanOrEqual(n);
    tf.dispose(fit.tensors);
  });
});
