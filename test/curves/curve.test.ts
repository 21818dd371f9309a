import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, copyFileSync, renameSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  makeGeometry,
  initTrainable,
  curvePoint,
  rationalBasisTensor,
  orderRegularizer,
  fitCurve,
  saveCurve,
  loadCurve,
  curveFingerprint,
  preferenceToT,
  tGrid,
  type WeightCurve,
  type ProfilePoint,
} from '../../src/curves/index.js';
import { rationalBasisWeightJacobian } from '../../src/nurbs/index.js';
import { buildModel, defaultModelSpec, initParams } from '../../src/models/index.js';
import { syntheticData } from '../helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = syntheticData();
const spec = defaultModelSpec('mlp-mtl', data.inputShape, [3, 3], data.taskNames, [16]);
const model = buildModel(spec);

function makeCurve(kind: string, n = 4, degree = 3): WeightCurve {
  return {
    geometry: makeGeometry(kind, n, degree),
    paramNames: model.params.map((p) => p.name),
    ends: [initParams(model.params, 1), initParams(model.params, 2)],
  };
}

function lineAt(c: WeightCurve, t: number): Float32Array[] {
  return c.ends[0].map((e0, j) => tf.tidy(() => tf.add(tf.mul(e0, 1 - t), tf.mul(c.ends[1][j], t)).dataSync() as Float32Array));
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('curves in weight space', () => {
  it('line, and every kind at initialisation (Greville placement), is exactly the segment between the endpoints', () => {
    for (const [kind, n, p] of [['line', 2, 1], ['nurbs', 4, 3], ['nurbs', 6, 2], ['bezier', 4, 3], ['polychain', 3, 1]] as const) {
      const c = makeCurve(kind, n, p);
      const tr = initTrainable(c);
      for (const t of [0, 0.13, 0.5, 0.77, 1]) {
        const got = curvePoint(c, tr, t).map((x) => x.dataSync());
        const ref = lineAt(c, t);
        got.forEach((g, j) => expect(maxDiff(g, ref[j])).toBeLessThan(1e-5));
      }
    }
  });

  it('C(0) and C(1) are the endpoints exactly, even after the interior moved', () => {
    const c = makeCurve('nurbs');
    const tr = initTrainable(c, 0.5, 9).map((t, i, all) => (i === all.length - 1 ? tf.tensor1d([0.3, -1, 2, 0.1]) : t));
    const c0 = curvePoint(c, tr, 0);
    const c1 = curvePoint(c, tr, 1);
    c0.forEach((x, j) => expect(Array.from(x.dataSync())).toEqual(Array.from(c.ends[0][j].dataSync())));
    c1.forEach((x, j) => expect(Array.from(x.dataSync())).toEqual(Array.from(c.ends[1][j].dataSync())));
  });

  it("the EXTRA authors' random weight init: ω ~ U(0,1) per control point, seeded, the ends still exact", () => {
    const c = makeCurve('nurbs');
    const tr = initTrainable(c, 0, 4, 'random');
    const w = Array.from(tf.exp(tr[tr.length - 1]).dataSync());
    expect(w.every((v) => v >= 1e-3 - 1e-9 && v < 1)).toBe(true);
    expect(new Set(w.map((v) => v.toFixed(6))).size).toBe(4);
    expect(Array.from(tf.exp(initTrainable(c, 0, 4, 'random').at(-1)!).dataSync())).toEqual(w);
    expect(Array.from(tf.exp(initTrainable(c, 0, 5, 'random').at(-1)!).dataSync())).not.toEqual(w);
    // unequal weights re-parameterize the (still straight) initial curve: C(0.4) is another point of the
    // segment than the line's at 0.4; C(0) and C(1) stay the endpoints
    expect(maxDiff(curvePoint(c, tr, 0.4)[0].dataSync(), lineAt(c, 0.4)[0])).toBeGreaterThan(1e-4);
    curvePoint(c, tr, 1).forEach((x, j) => expect(maxDiff(x.dataSync(), c.ends[1][j].dataSync())).toBeLessThan(1e-6));
  });

  it('the tfjs rational basis and its gradient w.r.t. log-weights agree with src/nurbs (chain rule dR/dρ = dR/dω · ω)', () => {
    const c = makeCurve('nurbs', 5, 3);
    const rho = [0.2, -0.4, 0.7, 0.1, -0.3];
    const w = rho.map(Math.exp);
    const g = c.geometry;
    for (const t of [0.1, 0.45, 0.9]) {
      const J = rationalBasisWeightJacobian(t, g.knots, g.degree, w); // J[i][j] = dR_i/dω_j
      for (let i = 0; i < 5; i++) {
        const grad = tf.grad((r: tf.Tensor) => rationalBasisTensor(c, [r], t).slice([i], [1]).sum() as tf.Scalar)(tf.tensor1d(rho));
        const gv = grad.dataSync();
        for (let j = 0; j < 5; j++) expect(gv[j]).toBeCloseTo(J[i][j] * w[j], 5);
      }
    }
  });

  it('R_order matches a hand computation', () => {
    const ts = [0.2, 0.7];
    const L = [
      [tf.scalar(1.0), tf.scalar(0.5)],
      [tf.scalar(0.8), tf.scalar(0.9)],
    ];
    const v = orderRegularizer(ts, L, 0, 1).dataSync()[0];
    const ref = 0.5 * (Math.exp((1.0 - 0.8) * 0.5) + Math.exp((0.5 - 0.9) * -0.5));
    expect(v).toBeCloseTo(ref, 6);
  });

  it('fits on a real forward pass, checkpoints, and reloads to the same C(t)', async () => {
    const c = makeCurve('nurbs');
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-curve-'));
    const res = await fitCurve(
      model,
      c,
      {
        dir,
        alpha: 0.5,
        samplesPerBatch: 2,
        l2: 0,
        noise: 0,
        orientation: { taskA: 0, taskB: 1 },
        evalTs: [0, 0.5, 1],
        epochs: 2,
        batchSize: 64,
        lr: 1e-2,
        optimizer: { name: 'adam' },
        schedule: { name: 'constant' },
        seed: 0,
        resume: false,
        progress: false,
      },
      data,
    );
    expect(res.history.length).toBe(2);
    // the endpoints are random nets, so the curve's mean training loss must fall from epoch 1 to 2
    const mean = (h: { trainLoss: number[] }) => h.trainLoss.reduce((a, b) => a + b, 0);
    expect(mean(res.history[1])).toBeLessThan(mean(res.history[0]));
    await saveCurve(dir, c, res.trainable, { endpoints: ['a', 'b'], orientation: { taskA: 0, taskB: 1 }, taskNames: data.taskNames, fit: {}, epochs: 2, seconds: 0 });
    const loaded = await loadCurve(dir, c.paramNames, model.params.map((p) => p.shape), dir);
    for (const t of [0.3, 0.6]) {
      const a = curvePoint(c, res.trainable, t);
      const b = curvePoint(loaded.curve, loaded.trainable, t);
      a.forEach((x, j) => expect(maxDiff(x.dataSync(), b[j].dataSync())).toBeLessThan(1e-6));
    }
  });
});

describe('curve store: a save is all-or-nothing', () => {
  const names = model.params.map((p) => p.name);
  const shapes = model.params.map((p) => p.shape);
  const meta = { endpoints: ['a', 'b'] as [string, string], orientation: { taskA: 0, taskB: 1 }, taskNames: data.taskNames, fit: {}, epochs: 1, seconds: 0 };
  /** A 3-point curve whose middle point is `fill` everywhere. */
  async function saved(dir: string, fill: number): Promise<WeightCurve> {
    const c: WeightCurve = { geometry: makeGeometry('bezier', 3), paramNames: names, ends: [initParams(model.params, 1), initParams(model.params, 2)] };
    await saveCurve(dir, c, model.params.map((p) => tf.fill(p.shape, fill)), { ...meta, epochs: fill });
    return c;
  }
  const mid = async (dir: string) => (await loadCurve(dir, names, shapes, dir)).trainable[0].dataSync()[0];

  it('a save killed before, between or after its moves leaves a complete curve (the old one, or the new one)', async () => {
    const old = mkdtempSync(path.join(tmpdir(), 'extra-store-old-'));
    const fresh = mkdtempSync(path.join(tmpdir(), 'extra-store-new-'));
    await saved(old, 1);
    await saved(fresh, 2);
    expect(await mid(old)).toBe(1);
    const fingerprintNew = await curveFingerprint(fresh, fresh);
    // killed before the moves: the new pair lies beside the old one, the old one is what loads
    copyFileSync(path.join(fresh, 'controls.safetensors'), path.join(old, 'controls.next.safetensors'));
    copyFileSync(path.join(fresh, 'curve.json'), path.join(old, 'curve.next.json'));
    expect(await mid(old)).toBe(1);
    // killed between the moves (controls moved, curve.json not): the complete new curve loads, and the move is finished
    renameSync(path.join(old, 'controls.next.safetensors'), path.join(old, 'controls.safetensors'));
    expect(await mid(old)).toBe(2);
    expect(await curveFingerprint(old, old)).toBe(fingerprintNew);
    expect(existsSync(path.join(old, 'curve.next.json'))).toBe(false);
    expect(readFileSync(path.join(old, 'curve.json'), 'utf8')).toBe(readFileSync(path.join(fresh, 'curve.json'), 'utf8'));
    // controls that belong to no curve.json are refused, not paired with the wrong geometry
    const other = mkdtempSync(path.join(tmpdir(), 'extra-store-other-'));
    await saved(other, 3);
    copyFileSync(path.join(other, 'controls.safetensors'), path.join(old, 'controls.safetensors'));
    await expect(loadCurve(old, names, shapes, old)).rejects.toThrow(/controls\.safetensors does not match .*curve\.json/);
    // the fingerprint changes with the controls alone
    expect(await curveFingerprint(other, other)).not.toBe(fingerprintNew);
  });
});

describe('preference → t', () => {
  // L_a(t) = t, L_b(t) = 1 − t: Chebyshev with r = (0.8, 0.2) balances 0.8 t = 0.2 (1 − t) at t = 0.2
  const f = (t: number) => [t, 1 - t];
  const points: ProfilePoint[] = tGrid(11).map((t) => ({
    t,
    val: f(t).map((loss) => ({ loss, accuracy: 0 })),
    test: f(t).map((loss) => ({ loss, accuracy: 0 })),
  }));

  it('chebyshev/ls/ray on a known linear front, refined between grid points', async () => {
    const a = await preferenceToT(points, [0.8, 0.2], 'chebyshev', f, 20);
    expect(a.t).toBeCloseTo(0.2, 3);
    const b = await preferenceToT(points, [0.7, 0.3], 'chebyshev', f, 30);
    expect(b.t).toBeCloseTo(0.3, 3); // 0.7 t = 0.3 (1 − t)
    const r = await preferenceToT(points, [0.75, 0.25], 'ray', f, 30);
    expect(r.t).toBeCloseTo(0.25, 2); // loss ∝ (1/0.75, 1/0.25) → t/(1−t) = 1/3
    const l = await preferenceToT(points, [0.9, 0.1], 'ls');
    expect(l.t).toBe(0); // linear front: LS picks an end
  });
});
