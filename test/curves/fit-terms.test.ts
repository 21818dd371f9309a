import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import {
  makeGeometry,
  curveTaskLosses,
  curveObjective,
  curveL2,
  curveObjectiveCoefficients,
  curveLossFn,
  type WeightCurve,
  type CurveLossConfig,
} from '../../src/curves/index.js';
import type { FunctionalModel, ModelSpec } from '../../src/models/index.js';

/**
 * The terms of the curve objective (src/curves/fit.ts) against hand-written float64 formulas taken
 * from the documentation (docs/design.md §2.2 and the doc comments of fit.ts / order.ts):
 *   objective = (1/m) Σ_s Σ_k λ_k L_k(t_s) + α·R_order + β·R_align
 *   R_order   = mean over pairs i<j of ½[exp((A_i − A_j)(t_j − t_i)) + exp((B_i − B_j)(t_i − t_j))]
 *   R_align   = (1/m) Σ_s exp(−|t_s − ½|) · O_aligned(t_s)
 *   L2        = l2 · (1/m) Σ_s ‖C(t_s)‖² / #params
 * where O_j is the mean loss of objective j's member tasks, A/B the objectives oriented to t = 0/1.
 */

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---------- hand-written objective (float64, no tfjs) ----------

interface HandCfg {
  alpha: number;
  beta: number;
  lambda: number[];
  members: number[][];
  taskA: number;
  taskB: number;
  aligned: number | null;
}

function handParts(cfg: HandCfg, ts: number[], L: number[][]): { mean: number; order: number; align: number } {
  const m = ts.length;
  const mean = L.reduce((a, ls) => a + ls.reduce((b, l, k) => b + cfg.lambda[k] * l, 0), 0) / m;
  const O = L.map((ls) => cfg.members.map((mem) => mem.reduce((a, k) => a + ls[k], 0) / mem.length));
  let order = 0;
  let pairs = 0;
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      order += 0.5 * (Math.exp((O[i][cfg.taskA] - O[j][cfg.taskA]) * (ts[j] - ts[i])) + Math.exp((O[i][cfg.taskB] - O[j][cfg.taskB]) * (ts[i] - ts[j])));
      pairs++;
    }
  }
  order = pairs ? order / pairs : 0;
  const align = cfg.aligned === null ? 0 : ts.reduce((a, t, s) => a + Math.exp(-Math.abs(t - 0.5)) * O[s][cfg.aligned as number], 0) / m;
  return { mean, order, align };
}

function handObjective(cfg: HandCfg, ts: number[], L: number[][]): number {
  const p = handParts(cfg, ts, L);
  return p.mean + (cfg.alpha > 0 && ts.length >= 2 ? cfg.alpha * p.order : 0) + (cfg.beta > 0 ? cfg.beta * p.align : 0);
}

function toLossCfg(c: HandCfg, names: string[]): CurveLossConfig {
  return {
    alpha: c.alpha,
    beta: c.beta,
    l2: 0,
    taskWeights: c.lambda,
    objectives: { names, members: c.members },
    orientation: { taskA: c.taskA, taskB: c.taskB, aligned: c.aligned },
  };
}

function scalars(L: number[][]): tf.Scalar[][] {
  return L.map((ls) => ls.map((l) => tf.scalar(l)));
}

function valueOf(x: tf.Scalar): number {
  return x.dataSync()[0];
}

function expectClose(got: number, want: number, tol: number, what = ''): void {
  expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
}

// four tasks in three objectives: {0}, {1,2} (aligned, pushed to be best mid-curve), {3}
const grouped: HandCfg = { alpha: 0.4, beta: 0.7, lambda: [0.1, 0.2, 0.3, 0.4], members: [[0], [1, 2], [3]], taskA: 0, taskB: 2, aligned: 1 };
const groupNames = ['a', 'mid', 'b'];
const ts3 = [0.1, 0.45, 0.8];
const L3 = [
  [0.9, 1.3, 0.7, 2.1],
  [1.2, 0.6, 0.5, 1.4],
  [1.7, 1.1, 0.9, 0.6],
];

describe('curveObjective: mean + α·R_order + β·R_align', () => {
  it('equals the hand formula, and β·R_align is exactly what β adds (linear in β)', () => {
    const parts = handParts(grouped, ts3, L3);
    // the β term must be large enough that dropping or mis-scaling it cannot hide in float noise
    expect(grouped.beta * parts.align).toBeGreaterThan(0.3);
    const got = valueOf(curveObjective(toLossCfg(grouped, groupNames), ts3, scalars(L3)));
    expectClose(got, parts.mean + grouped.alpha * parts.order + grouped.beta * parts.align, 1e-6, 'objective');

    const noBeta = valueOf(curveObjective(toLossCfg({ ...grouped, beta: 0 }, groupNames), ts3, scalars(L3)));
    expectClose(noBeta, parts.mean + grouped.alpha * parts.order, 1e-6, 'objective with β = 0');
    expectClose(got - noBeta, grouped.beta * parts.align, 1e-5, 'β·R_align');

    const twice = valueOf(curveObjective(toLossCfg({ ...grouped, beta: 2 * grouped.beta }, groupNames), ts3, scalars(L3)));
    expectClose(twice - noBeta, 2 * grouped.beta * parts.align, 1e-5, '2β·R_align');
  });

  it('R_align uses the aligned objective (the mean of its member tasks), weighted by exp(−|t − ½|)', () => {
    // with α = 0 and λ = 0 only β·R_align is left: β (1/m) Σ_s exp(−|t_s − ½|) (L_1 + L_2)(t_s)/2
    const onlyAlign: HandCfg = { ...grouped, alpha: 0, lambda: [0, 0, 0, 0] };
    const got = valueOf(curveObjective(toLossCfg(onlyAlign, groupNames), ts3, scalars(L3)));
    const want = (0.7 / 3) * (Math.exp(-0.4) * (1.3 + 0.7) / 2 + Math.exp(-0.05) * (0.6 + 0.5) / 2 + Math.exp(-0.3) * (1.1 + 0.9) / 2);
    expectClose(got, want, 1e-6, 'β·R_align alone');
    // another aligned objective gives another value
    const other = valueOf(curveObjective(toLossCfg({ ...onlyAlign, aligned: 2 }, groupNames), ts3, scalars(L3)));
    expectClose(other, (0.7 / 3) * (Math.exp(-0.4) * 2.1 + Math.exp(-0.05) * 1.4 + Math.exp(-0.3) * 0.6), 1e-6, 'aligned = objective 2');
  });

  it('without an aligned objective β does nothing; default λ is 1/K', () => {
    const noAligned: HandCfg = { ...grouped, aligned: null };
    const a = valueOf(curveObjective(toLossCfg(noAligned, groupNames), ts3, scalars(L3)));
    expectClose(a, handObjective(noAligned, ts3, L3), 1e-6, 'aligned = null');
    const cfg: CurveLossConfig = { alpha: 0, beta: 0, l2: 0, orientation: { taskA: 0, taskB: 3 } };
    const mean = L3.reduce((s, ls) => s + ls.reduce((x, y) => x + y, 0) / 4, 0) / 3;
    expectClose(valueOf(curveObjective(cfg, ts3, scalars(L3))), mean, 1e-6, 'mean loss, default λ');
  });

  it('∂objective/∂L_k (the data-parallel coefficients) match finite differences of the hand formula', () => {
    const flat = L3.flat();
    const K = 4;
    const unflat = (v: number[]) => ts3.map((_, s) => v.slice(s * K, (s + 1) * K));
    for (const c of [grouped, { ...grouped, beta: 0 }, { ...grouped, beta: 1.9, alpha: 0 }]) {
      const coef = curveObjectiveCoefficients(toLossCfg(c, groupNames), ts3, flat);
      expect(coef.length).toBe(flat.length);
      const h = 1e-6;
      flat.forEach((_, i) => {
        const up = [...flat];
        const dn = [...flat];
        up[i] += h;
        dn[i] -= h;
        const fd = (handObjective(c, ts3, unflat(up)) - handObjective(c, ts3, unflat(dn))) / (2 * h);
        expectClose(coef[i], fd, 2e-5, `β=${c.beta} ∂/∂L[${Math.floor(i / K)}][${i % K}]`);
      });
    }
  });

  it('β adds exactly β·exp(−|t − ½|)/(m·|members|) to the coefficient of each aligned member task, nothing elsewhere', () => {
    const flat = L3.flat();
    const withBeta = curveObjectiveCoefficients(toLossCfg(grouped, groupNames), ts3, flat);
    const without = curveObjectiveCoefficients(toLossCfg({ ...grouped, beta: 0 }, groupNames), ts3, flat);
    ts3.forEach((t, s) => {
      for (let k = 0; k < 4; k++) {
        const want = k === 1 || k === 2 ? (grouped.beta * Math.exp(-Math.abs(t - 0.5))) / (3 * 2) : 0;
        expectClose(withBeta[s * 4 + k] - without[s * 4 + k], want, 1e-5, `s=${s} k=${k}`);
      }
    });
  });
});

// ---------- a tiny curve of a tiny hand-checkable model ----------

// Model of our own (independent of src/models): task 0 logits x·W + b (2 classes), task 1 x·V (3 classes).
const D = 4;
const shapes = [
  [D, 2],
  [D, 3],
  [2],
];
const spec: ModelSpec = { arch: 'mlp-mtl', inputShape: [D], hidden: [], numClasses: [2, 3], taskNames: ['p', 'q'] };
const model: FunctionalModel = {
  spec,
  params: [
    { name: 'w', shape: shapes[0], init: 'zeros', shared: false, task: 0 },
    { name: 'v', shape: shapes[1], init: 'zeros', shared: false, task: 1 },
    { name: 'b', shape: shapes[2], init: 'zeros', shared: false, task: 0 },
  ],
  statistics: [],
  losses: ['ce', 'ce'],
  labelShapes: [[], []],
  forward(p, x) {
    return [tf.add(tf.matMul(x as tf.Tensor2D, p[0] as tf.Tensor2D), p[2]) as tf.Tensor2D, tf.matMul(x as tf.Tensor2D, p[1] as tf.Tensor2D)];
  },
};
const nParams = shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);

/** deterministic pseudo-random numbers in [−1, 1) */
function numbers(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** one control point: a flat float64 list per tensor */
type Point = number[][];
const P0: Point = shapes.map((s, j) => numbers(s.reduce((a, b) => a * b, 1), 10 + j));
const P2: Point = shapes.map((s, j) => numbers(s.reduce((a, b) => a * b, 1), 20 + j).map((v) => 1.5 * v));
const P1: Point = shapes.map((s, j) => numbers(s.reduce((a, b) => a * b, 1), 30 + j).map((v) => 2 * v + 0.5));
const rho = [0.2, -0.3, 0.5]; // log-weights

const geometry = makeGeometry('nurbs', 3, 2);
const curve: WeightCurve = {
  geometry,
  paramNames: model.params.map((p) => p.name),
  ends: [P0.map((v, j) => tf.tensor(v, shapes[j])), P2.map((v, j) => tf.tensor(v, shapes[j]))],
};

function trainableOf(p1: Point, r: number[]): tf.Tensor[] {
  return [...p1.map((v, j) => tf.tensor(v, shapes[j])), tf.tensor1d(r)];
}

/** C(t) of a rational quadratic Bézier: Σ ω_i B_i(t) P_i / Σ ω_i B_i(t), B = Bernstein of degree 2. */
function handC(t: number, p1: Point, r: number[]): Point {
  const B = [(1 - t) ** 2, 2 * t * (1 - t), t * t];
  const wb = B.map((b, i) => b * Math.exp(r[i]));
  const den = wb[0] + wb[1] + wb[2];
  return P0.map((a, j) => a.map((_, q) => (wb[0] * P0[j][q] + wb[1] * p1[j][q] + wb[2] * P2[j][q]) / den));
}

function handL2(ts: number[], l2: number, p1: Point, r: number[]): number {
  if (!(l2 > 0)) return 0;
  const sq = ts.map((t) => handC(t, p1, r).reduce((a, v) => a + v.reduce((b, x) => b + x * x, 0), 0) / nParams);
  return (l2 * sq.reduce((a, b) => a + b, 0)) / ts.length;
}

/** mean softmax cross-entropy of the hand model at parameters c on rows [a, b) */
/** Autodiff gradients (P1's tensors, then ρ) against central finite differences (h = 1e-6) of a hand-written function of (P1, ρ). */
function expectFiniteDifferences(grads: tf.Tensor[], f: (p1: Point, r: number[]) => number, tol: number, what: string): void {
  const h = 1e-6;
  P1.forEach((v, j) => {
    const g = grads[j].dataSync();
    v.forEach((_, q) => {
      const up = P1.map((x) => [...x]);
      const dn = P1.map((x) => [...x]);
      up[j][q] += h;
      dn[j][q] -= h;
      const fd = (f(up, rho) - f(dn, rho)) / (2 * h);
      expect(Math.abs(g[q] - fd), `${what}/∂P1[${j}][${q}]: ${g[q]} vs ${fd}`).toBeLessThan(tol);
    });
  });
  const gr = grads[P1.length].dataSync();
  rho.forEach((_, i) => {
    const up = [...rho];
    const dn = [...rho];
    up[i] += h;
    dn[i] -= h;
    const fd = (f(P1, up) - f(P1, dn)) / (2 * h);
    expect(Math.abs(gr[i] - fd), `${what}/∂ρ[${i}]: ${gr[i]} vs ${fd}`).toBeLessThan(tol);
  });
}

function handLosses(c: Point, X: number[][], Y: number[][], a = 0, b = X.length): number[] {
  const [W, V, bias] = c;
  const ce = (logits: number[], y: number) => {
    const mx = Math.max(...logits);
    return Math.log(logits.reduce((s, l) => s + Math.exp(l - mx), 0)) + mx - logits[y];
  };
  let l0 = 0;
  let l1 = 0;
  for (let i = a; i < b; i++) {
    const x = X[i];
    const z0 = [0, 1].map((o) => x.reduce((s, xv, d) => s + xv * W[d * 2 + o], 0) + bias[o]);
    const z1 = [0, 1, 2].map((o) => x.reduce((s, xv, d) => s + xv * V[d * 3 + o], 0));
    l0 += ce(z0, Y[0][i]);
    l1 += ce(z1, Y[1][i]);
  }
  return [l0 / (b - a), l1 / (b - a)];
}

const N = 7;
const X = Array.from({ length: N }, (_, i) => numbers(D, 100 + i));
const Y = [
  [0, 1, 1, 0, 1, 0, 0],
  [2, 0, 1, 1, 2, 0, 2],
];
const xT = tf.tensor2d(X);
const yT = Y.map((y) => tf.tensor1d(y, 'int32'));

describe('the tiny curve is the rational quadratic Bézier the hand formulas assume', () => {
  it('NURBS with 3 controls, degree 2, clamped', () => {
    expect(geometry.degree).toBe(2);
    expect(geometry.knots).toEqual([0, 0, 0, 1, 1, 1]);
    expect(geometry.trainWeights).toBe(true);
  });
});

describe('curveL2: l2 · mean_t ‖C(t)‖² / #params', () => {
  const ts = [0.15, 0.5, 0.9];

  it('equals the hand value, scales linearly with l2, is null when l2 = 0', () => {
    const tr = trainableOf(P1, rho);
    const want = handL2(ts, 0.8, P1, rho);
    expect(want).toBeGreaterThan(0.1);
    const got = curveL2(curve, tr, ts, 0.8);
    expect(got).not.toBeNull();
    expectClose(valueOf(got!), want, 1e-6, 'L2');
    expectClose(valueOf(curveL2(curve, tr, ts, 2.4)!), 3 * want, 1e-6, 'L2 with 3× l2');
    expect(curveL2(curve, tr, ts, 0)).toBeNull();
  });

  it('its gradient w.r.t. the interior control point and the log-weights matches finite differences of the hand formula', () => {
    const l2 = 0.8;
    const grads = tf.grads((...tr: tf.Tensor[]) => curveL2(curve, tr, ts, l2)!)(trainableOf(P1, rho));
    expectFiniteDifferences(grads, (p1, r) => handL2(ts, l2, p1, r), 2e-6, '∂L2');
  });
});

describe('curveTaskLosses and the full batch loss (curveLossFn)', () => {
  it('task losses at C(t) equal the hand forward pass, on the whole batch or on the s-th contiguous part', () => {
    const ts = [0.2, 0.55, 0.85];
    const tr = trainableOf(P1, rho);
    const whole = curveTaskLosses(model, curve, tr, xT, yT, ts);
    ts.forEach((t, s) => {
      const want = handLosses(handC(t, P1, rho), X, Y);
      whole[s].forEach((l, k) => expectClose(valueOf(l), want[k], 1e-5, `t=${t} task ${k}`));
    });
    // 7 rows over 3 values of t: rows [0,2), [2,4), [4,7)
    const parts: [number, number][] = [
      [0, 2],
      [2, 4],
      [4, 7],
    ];
    const split = curveTaskLosses(model, curve, tr, xT, yT, ts, true);
    ts.forEach((t, s) => {
      const want = handLosses(handC(t, P1, rho), X, Y, parts[s][0], parts[s][1]);
      split[s].forEach((l, k) => expectClose(valueOf(l), want[k], 1e-5, `split t=${t} task ${k}`));
    });
    expect(() => curveTaskLosses(model, curve, tr, tf.slice(xT, 0, 2), yT.map((y) => tf.slice(y, 0, 2)), ts, true)).toThrow(/cannot be split/);
  });

  const ts = [0.1, 0.6, 0.95];
  const base: HandCfg = { alpha: 0.5, beta: 0.9, lambda: [0.3, 0.7], members: [[0], [1]], taskA: 0, taskB: 1, aligned: 1 };
  const cfgOf = (l2: number): CurveLossConfig => ({ ...toLossCfg(base, ['p', 'q']), l2 });
  const handTotal = (l2: number, p1: Point, r: number[]) =>
    handObjective(
      base,
      ts,
      ts.map((t) => handLosses(handC(t, p1, r), X, Y)),
    ) + handL2(ts, l2, p1, r);

  it('value = hand objective of the hand losses + l2·mean_t ‖C(t)‖²/#params; the L2 share is exactly the hand L2', () => {
    const l2 = 1.5;
    const f = (v: number) => curveLossFn(model, curve, cfgOf(v), xT, yT, ts, () => {});
    const withL2 = valueOf(f(l2)(...trainableOf(P1, rho)));
    const noL2 = valueOf(f(0)(...trainableOf(P1, rho)));
    const wantL2 = handL2(ts, l2, P1, rho);
    expect(wantL2).toBeGreaterThan(0.2);
    expectClose(noL2, handTotal(0, P1, rho), 1e-5, 'loss without L2');
    expectClose(withL2, handTotal(l2, P1, rho), 1e-5, 'loss with L2');
    expectClose(withL2 - noL2, wantL2, 1e-5, 'L2 share');
  });

  it('gradient w.r.t. every trainable tensor matches finite differences of the hand total, with and without L2', () => {
    for (const l2 of [0, 1.5]) {
      const grads = tf.grads((...tr: tf.Tensor[]) => curveLossFn(model, curve, cfgOf(l2), xT, yT, ts, () => {})(...tr))(trainableOf(P1, rho));
      expectFiniteDifferences(grads, (p1, r) => handTotal(l2, p1, r), 2e-5, `l2=${l2} ∂`);
    }
  });
});
