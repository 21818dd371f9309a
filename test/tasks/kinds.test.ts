import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { taskKinds, taskKind, meanIoU, median, deltaMPercent, meanRanks, type TaskMetrics } from '../../src/tasks/index.js';

/** PyTorch's numbers for random predictions and targets (scripts/dense_oracles.py, LibMTL's definitions). */
interface Oracles {
  shape: [number, number, number, number];
  seg: { pred: number[]; label: number[]; loss: number; miou: number; pixelAccuracy: number };
  depth: { pred: number[]; gt: number[]; loss: number; absErr: number; relErr: number };
  normal: { pred: number[]; gt: number[]; loss: number; meanAngle: number; medianAngle: number; within11_25: number; within22_5: number; within30: number };
}
const oracle = JSON.parse(readFileSync(new URL('../fixtures/dense/oracles.json', import.meta.url), 'utf8')) as Oracles;
const [N, H, W, C] = oracle.shape;

const tensors = {
  seg: () => [tf.tensor(oracle.seg.pred, [N, H, W, C]), tf.tensor(oracle.seg.label, [N, H, W], 'int32')],
  depth: () => [tf.tensor(oracle.depth.pred, [N, H, W, 1]), tf.tensor(oracle.depth.gt, [N, H, W])],
  normal: () => [tf.tensor(oracle.normal.pred, [N, H, W, 3]), tf.tensor(oracle.normal.gt, [N, H, W, 3])],
};
const classes = { seg: C, depth: 1, normal: 3 };

/** The kind's metrics over the split fed in batches of the given sizes (they must not change the result). */
function metricsInBatches(kind: 'seg' | 'depth' | 'normal', sizes: number[]): TaskMetrics {
  const [out, y] = tensors[kind]();
  const acc = taskKind(kind).accumulator({ classes: classes[kind] });
  let at = 0;
  for (const s of sizes) {
    acc.add(tf.slice(out, at, s), tf.slice(y, at, s));
    at += s;
  }
  expect(at).toBe(N);
  return acc.result();
}

describe('per-pixel task kinds against PyTorch (LibMTL definitions, pixel-weighted over the split)', () => {
  for (const kind of ['seg', 'depth', 'normal'] as const) {
    it(`${kind}: the batch loss and every metric, whatever the batching`, () => {
      const [out, y] = tensors[kind]();
      expect(taskKind(kind).loss(out, y, { classes: classes[kind] }).dataSync()[0]).toBeCloseTo(oracle[kind].loss, 5);
      const want = oracle[kind] as unknown as Record<string, number>;
      for (const sizes of [[N], [1, 2, 3], [4, 1, 1]]) {
        const got = metricsInBatches(kind, sizes) as unknown as Record<string, number>;
        for (const [name, value] of Object.entries(want)) {
          if (!Array.isArray(value)) expect(Math.abs(got[name] - value), `${kind} ${name} in batches ${sizes}`).toBeLessThan(name.endsWith('Angle') ? 1e-3 : 1e-5);
        }
      }
    });
  }

  it('the per-pixel losses have the gradient of finite differences', () => {
    for (const kind of ['seg', 'depth', 'normal'] as const) {
      const [out0, y] = tensors[kind]();
      const out = tf.slice(out0, 0, 1);
      const yy = tf.slice(y, 0, 1);
      const f = (o: tf.Tensor) => taskKind(kind).loss(o, yy, { classes: classes[kind] });
      const g = tf.grad(f)(out).dataSync();
      const v = out.dataSync();
      const h = 1e-2;
      for (const i of [0, 7, 19, 33]) {
        const plus = Float32Array.from(v);
        const minus = Float32Array.from(v);
        plus[i] += h;
        minus[i] -= h;
        const fd = (f(tf.tensor(plus, out.shape)).dataSync()[0] - f(tf.tensor(minus, out.shape)).dataSync()[0]) / (2 * h);
        expect(Math.abs(fd - g[i]), `${kind} entry ${i}`).toBeLessThan(2e-3);
      }
    }
  });

  it('ignored and unmeasured pixels change neither loss nor metrics', () => {
    const [out, y] = tensors.seg();
    const labels = y.dataSync().slice() as Int32Array;
    const logits = out.dataSync().slice() as Float32Array;
    // scramble the logits of every ignored pixel: nothing may move
    for (let p = 0; p < labels.length; p++) if (labels[p] < 0) for (let c = 0; c < C; c++) logits[p * C + c] = 100 * Math.sin(p + c);
    const kind = taskKind('seg');
    const a = kind.accumulator({ classes: C });
    a.add(tf.tensor(logits, [N, H, W, C]), y);
    expect(a.result().miou).toBeCloseTo(oracle.seg.miou, 6);
    expect(kind.loss(tf.tensor(logits, [N, H, W, C]), y, { classes: C }).dataSync()[0]).toBeCloseTo(oracle.seg.loss, 5);
  });

  it('textbook values: mIoU leaves out classes absent from target and prediction; the median averages the middle two', () => {
    // rows: target, columns: prediction; class 2 never occurs
    const cm = Float64Array.from([3, 1, 0, 1, 2, 0, 0, 0, 0]);
    expect(meanIoU(cm, 3)).toBeCloseTo((3 / 5 + 2 / 4) / 2, 12);
    expect(median(Float32Array.from([4, 1, 3, 2]))).toBe(2.5);
    expect(median(Float32Array.from([5, 1, 3]))).toBe(3);
  });

  it('every kind of the table says its error and reference', () => {
    for (const [name, k] of Object.entries(taskKinds)) {
      expect(k.name).toBe(name);
      expect(Number.isFinite(k.lossReference(Float32Array.from([1, 2, 3]), { classes: 3 }))).toBe(true);
    }
    expect(taskKinds.seg.error({ loss: 1, miou: 0.25, pixelAccuracy: 0.5 })).toBe(0.75);
    expect(taskKinds.normal.error({ loss: 1, meanAngle: 45, medianAngle: 40, within11_25: 0, within22_5: 0, within30: 0 })).toBe(0.25);
    expect(taskKinds.mse.error({ loss: 1, mae: 1 })).toBeNull();
    // depth: the L1 of the median measured depth (unmeasured zeros left out): median 2 of (1, 2, 3) → 2/3
    expect(taskKinds.depth.lossReference(Float32Array.from([0, 3, 1, 0, 2]), { classes: 1 })).toBeCloseTo(2 / 3, 12);
    expect(taskKinds.seg.lossReference(Int32Array.from([0]), { classes: 11 })).toBeCloseTo(Math.log(11), 12);
  });
});

describe('Δm% and mean rank', () => {
  it('Δm is the mean signed relative change over every shared metric (textbook values)', () => {
    const base = { seg: { miou: 0.4, pixelAccuracy: 0.5 }, depth: { absErr: 0.5, relErr: 0.2 } };
    const point: TaskMetrics[] = [
      { loss: 1, miou: 0.44, pixelAccuracy: 0.5 },
      { loss: 1, absErr: 0.55, relErr: 0.18 },
    ];
    // mIoU +10 % (better: −10), pixel acc 0, abs err +10 % (worse: +10), rel err −10 % (better: −10)
    expect(deltaMPercent(['seg', 'depth'], point, base)).toBeCloseTo((-10 + 0 + 10 - 10) / 4, 10);
    expect(deltaMPercent(['seg', 'depth'], point, {})).toBeNull();
  });
  it('mean rank: best is 1, ties share their mean rank, directions per metric', () => {
    const rows: TaskMetrics[][] = [
      [{ loss: 1, miou: 0.5, pixelAccuracy: 0.7 }, { loss: 1, absErr: 0.4, relErr: 0.2 }],
      [{ loss: 1, miou: 0.4, pixelAccuracy: 0.7 }, { loss: 1, absErr: 0.3, relErr: 0.3 }],
    ];
    // row 0: miou 1, pix 1.5, abs 2, rel 1 → 5.5/4; row 1: 2, 1.5, 1, 2 → 6.5/4
    expect(meanRanks(['seg', 'depth'], rows)).toEqual([5.5 / 4, 6.5 / 4]);
  });
});
