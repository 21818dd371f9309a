import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trainEndpoint, type EndpointConfig } from '../../src/train/index.js';
import { getObjective } from '../../src/objectives/index.js';
import { dataParallelAvailable } from '../../src/parallel/pool.js';
import { selectBackend } from '../../src/backend/index.js';
import { buildModel, defaultModelSpec, initParamValues } from '../../src/models/index.js';
import { syntheticTwoTask } from '../helpers.js';
import { metricsFile, trainingFiles } from '../../src/run/layout.js';

/**
 * Gradient-aggregation methods (needsGradients = true) hand the per-task trunk gradients to the
 * plug-in, and every task head gets its own task's gradient (src/train/endpoint.ts, "as in LibMTL").
 * One plain-SGD step over one full batch on a tiny MLP, checked against a float64 hand back-propagation:
 *   head_k ← head_k − lr · ∂L_k/∂head_k
 * and, for MGDA with two tasks (closed-form min-norm weights), trunk ← trunk − lr · (γ g_0 + (1 − γ) g_1).
 */

beforeAll(async () => {
  // through src/backend, so that worker threads know the backend (currentBackend) for the threads = 2 case
  await selectBackend({ prefer: 'cpu', quiet: true });
});

const side = 6;
const N = 48; // one batch of N: the step's losses are means over the whole split, whatever its order
const data = {
  inputShape: [side, side, 1],
  taskNames: ['row', 'col'],
  train: syntheticTwoTask(N, 11, side),
  val: syntheticTwoTask(12, 12, side),
  test: syntheticTwoTask(12, 13, side),
};
const H = 8;
const C = [3, 3];
const spec = defaultModelSpec('mlp-mtl', data.inputShape, C, data.taskNames, [H]);
const model = buildModel(spec);
const lr = 0.5;
const seed = 5;

function config(dir: string, method: string, threads: number): EndpointConfig {
  return {
    dir,
    ...trainingFiles(dir),
    metricsFile: metricsFile(dir),
    id: method,
    threads,
    spec,
    method,
    preference: [0.7, 0.3],
    epochs: 1,
    batchSize: N,
    lr,
    optimizer: { name: 'sgd' },
    schedule: { name: 'constant' },
    seed,
    resume: false,
    progress: false,
  };
}

interface HandGrads {
  losses: number[];
  /** ∂L_k/∂(W_k, b_k) of head k, flat in the parameters' row-major layout */
  head: { w: Float64Array; b: Float64Array }[];
  /** ∂L_k/∂(W_1, b_1) of the trunk, flat: W_1 then b_1 */
  trunk: Float64Array[];
}

/** Float64 forward and backward of relu(x W1 + b1) W_k + b_k with mean softmax cross-entropy, by hand. */
function handGrads(values: Map<string, Float32Array>): HandGrads {
  const Din = side * side;
  const W1 = values.get('trunk.0.weight')!;
  const b1 = values.get('trunk.0.bias')!;
  const { x, y } = data.train;
  const pre = new Float64Array(N * H);
  const h = new Float64Array(N * H);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < H; j++) {
      let s = b1[j];
      for (let d = 0; d < Din; d++) s += x[i * Din + d] * W1[d * H + j];
      pre[i * H + j] = s;
      h[i * H + j] = Math.max(0, s);
    }
  }
  const losses: number[] = [];
  const head: { w: Float64Array; b: Float64Array }[] = [];
  const trunk: Float64Array[] = [];
  C.forEach((c, k) => {
    const Wk = values.get(`heads.${k}.weight`)!;
    const bk = values.get(`heads.${k}.bias`)!;
    const gW = new Float64Array(H * c);
    const gb = new Float64Array(c);
    const gW1 = new Float64Array(Din * H);
    const gb1 = new Float64Array(H);
    let loss = 0;
    for (let i = 0; i < N; i++) {
      const z = Array.from({ length: c }, (_, o) => {
        let s = bk[o];
        for (let j = 0; j < H; j++) s += h[i * H + j] * Wk[j * c + o];
        return s;
      });
      const mx = Math.max(...z);
      const e = z.map((v) => Math.exp(v - mx));
      const se = e.reduce((a, b) => a + b, 0);
      loss += Math.log(se) + mx - z[y[k][i]];
      const dz = e.map((v, o) => (v / se - (o === y[k][i] ? 1 : 0)) / N);
      for (let o = 0; o < c; o++) {
        gb[o] += dz[o];
        for (let j = 0; j < H; j++) gW[j * c + o] += h[i * H + j] * dz[o];
      }
      for (let j = 0; j < H; j++) {
        if (pre[i * H + j] <= 0) continue;
        let dh = 0;
        for (let o = 0; o < c; o++) dh += dz[o] * Wk[j * c + o];
        gb1[j] += dh;
        for (let d = 0; d < Din; d++) gW1[d * H + j] += x[i * Din + d] * dh;
      }
    }
    losses.push(loss / N);
    head.push({ w: gW, b: gb });
    const flat = new Float64Array(Din * H + H);
    flat.set(gW1, 0);
    flat.set(gb1, Din * H);
    trunk.push(flat);
  });
  return { losses, head, trunk };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

async function oneStep(method: string, threads = 1): Promise<{ before: Map<string, Float32Array>; after: Map<string, Float32Array>; trainLoss: number[] }> {
  const names = model.params.map((p) => p.name);
  const init = initParamValues(model.params, seed);
  const dir = mkdtempSync(path.join(tmpdir(), `extra-headgrad-${method}-`));
  const r = await trainEndpoint(config(dir, method, threads), data);
  expect(r.history.length).toBe(1);
  return {
    before: new Map(names.map((n, i) => [n, init[i]])),
    after: new Map(names.map((n, i) => [n, r.params[i].dataSync() as Float32Array])),
    trainLoss: r.history[0].trainLoss,
  };
}

describe('aggregated steps give every task head its own task gradient', () => {
  it('the model is the one the hand back-propagation assumes', () => {
    expect(model.params.map((p) => [p.name, p.shape, p.shared, p.task])).toEqual([
      ['trunk.0.weight', [side * side, H], true, undefined],
      ['trunk.0.bias', [H], true, undefined],
      ['heads.0.weight', [H, 3], false, 0],
      ['heads.0.bias', [3], false, 0],
      ['heads.1.weight', [H, 3], false, 1],
      ['heads.1.bias', [3], false, 1],
    ]);
  });

  // threads = 2: the same step assembled by pooledStep from worker-thread per-task gradients
  for (const [method, threads] of [['mgda', 1], ['pcgrad', 1], ['cagrad', 1], ['mgda', 2]] as const) {
    it(`${method}${threads > 1 ? ` (${threads} threads)` : ''}: one SGD step moves head k by exactly −lr · ∂L_k/∂head_k`, async () => {
      expect(getObjective(method).needsGradients).toBe(true);
      if (threads > 1) expect(dataParallelAvailable()).toBe(true);
      const { before, after, trainLoss } = await oneStep(method, threads);
      const g = handGrads(before);
      g.losses.forEach((l, k) => expect(trainLoss[k]).toBeCloseTo(l, 5));
      for (let k = 0; k < C.length; k++) {
        for (const [part, grad] of [
          ['weight', g.head[k].w],
          ['bias', g.head[k].b],
        ] as const) {
          const name = `heads.${k}.${part}`;
          const b = before.get(name)!;
          const a = after.get(name)!;
          const want = Array.from(b, (v, q) => v - lr * grad[q]);
          // the step is far from zero, so a zeroed (or dropped) head gradient cannot pass
          expect(maxAbs(Array.from(grad, (v) => lr * v)), name).toBeGreaterThan(1e-2);
          expect(maxAbsDiff(a, want), `${method} ${name}`).toBeLessThan(1e-5);
        }
      }
    });
  }

  it('mgda: the trunk moves by −lr · the min-norm combination γ g_0 + (1 − γ) g_1 (closed form for two tasks)', async () => {
    const { before, after } = await oneStep('mgda');
    const [g0, g1] = handGrads(before).trunk;
    let aa = 0;
    let ab = 0;
    let bb = 0;
    for (let i = 0; i < g0.length; i++) {
      aa += g0[i] * g0[i];
      ab += g0[i] * g1[i];
      bb += g1[i] * g1[i];
    }
    const gamma = Math.min(1, Math.max(0, (bb - ab) / (aa - 2 * ab + bb)));
    const W = before.get('trunk.0.weight')!;
    const B = before.get('trunk.0.bias')!;
    const d = Array.from(g0, (v, i) => gamma * v + (1 - gamma) * g1[i]);
    const wantW = Array.from(W, (v, i) => v - lr * d[i]);
    const wantB = Array.from(B, (v, j) => v - lr * d[W.length + j]);
    expect(maxAbs(d.map((v) => lr * v))).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(after.get('trunk.0.weight')!, wantW)).toBeLessThan(1e-5);
    expect(maxAbsDiff(after.get('trunk.0.bias')!, wantB)).toBeLessThan(1e-5);
  });
});
