import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { optimizerInit, optimizerStep, learningRateAt } from '../../src/train/index.js';
import { addDecayedWeights, applyUpdates, chain, scaleByLearningRate, trace } from '../../src/train/optimizer/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('optimizers', () => {
  it('Adam matches the textbook recursion (Kingma & Ba, Alg. 1) over three steps', () => {
    const cfg = { name: 'adam' as const, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    let p: tf.Tensor[] = [tf.tensor1d([1, -2])];
    let st = optimizerInit(cfg, p);
    const st0 = st;
    const gs = [[0.5, -1], [0.1, 0.3], [-0.2, 2]];
    // reference in plain float64
    let m = [0, 0];
    let v = [0, 0];
    let ref = [1, -2];
    gs.forEach((g, i) => {
      const t = i + 1;
      m = m.map((mi, k) => 0.9 * mi + 0.1 * g[k]);
      v = v.map((vi, k) => 0.999 * vi + 0.001 * g[k] * g[k]);
      ref = ref.map((r, k) => r - (0.01 * (m[k] / (1 - 0.9 ** t))) / (Math.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8));
      const next = optimizerStep(cfg, st, p, [tf.tensor1d(g)], 0.01);
      p = next.params;
      st = next.state;
    });
    const got = Array.from(p[0].dataSync());
    expect(got[0]).toBeCloseTo(ref[0], 6);
    expect(got[1]).toBeCloseTo(ref[1], 6);
    expect(st.step).toBe(3);
    // (init, update) returns new state: the initial state object is not changed in place
    expect(st0.step).toBe(0);
    expect(st0).not.toBe(st);
  });

  it('Adam on wasm (fused host-memory pass) matches the textbook recursion with weight decay, per element', async () => {
    const { selectBackend } = await import('../../src/backend/index.js');
    await selectBackend({ prefer: 'wasm', quiet: true });
    try {
      const cfg = { name: 'adam' as const, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1 };
      let p: tf.Tensor[] = [tf.tensor2d([[1, -2], [0.5, 3]]), tf.tensor1d([0.25])];
      let st = optimizerInit(cfg, p);
      const gs = [[[0.5, -1, 2, 0], [3]], [[0.1, 0.3, -0.7, 1e-3], [-1]]];
      let ref = [[1, -2, 0.5, 3], [0.25]];
      const m = ref.map((r) => r.map(() => 0));
      const v = ref.map((r) => r.map(() => 0));
      gs.forEach((g, i) => {
        const t = i + 1;
        ref = ref.map((r, j) =>
          r.map((x, k) => {
            const gk = g[j][k] + 0.1 * x;
            m[j][k] = 0.8 * m[j][k] + 0.2 * gk;
            v[j][k] = 0.99 * v[j][k] + 0.01 * gk * gk;
            return x - (0.05 * (m[j][k] / (1 - 0.8 ** t))) / (Math.sqrt(v[j][k] / (1 - 0.99 ** t)) + 1e-6);
          }),
        );
        const next = optimizerStep(cfg, st, p, [tf.tensor2d(g[0], [2, 2]), tf.tensor1d(g[1])], 0.05);
        p = next.params;
        st = next.state;
      });
      p.forEach((t, j) => Array.from(t.dataSync()).forEach((x, k) => expect(x).toBeCloseTo(ref[j][k], 6)));
      expect(Array.from(st.slots.get('m/0')!.dataSync())[2]).toBeCloseTo(m[0][2], 6);
      expect(Array.from(st.slots.get('v/1')!.dataSync())[0]).toBeCloseTo(v[1][0], 6);
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('the fused Adam step gives the same bits on the native kernels (in place on the wasm memory) as in TypeScript (weight decay, 3 steps, 1 and 2 threads)', async () => {
    const { selectBackend, nativeKernelsDecision, setNativeThreads } = await import('../../src/backend/index.js');
    await selectBackend({ prefer: 'wasm', quiet: true });
    const available = nativeKernelsDecision().use;
    if (!available && process.env.CI === 'true') throw new Error('the native kernels must be built in CI');
    try {
      const cfg = { name: 'adam' as const, beta1: 0.85, beta2: 0.995, epsilon: 1e-7, weightDecay: 0.03 };
      const run = (native: boolean, threads: number) => {
        if (native) delete process.env.EXTRA_NATIVE_KERNELS;
        else process.env.EXTRA_NATIVE_KERNELS = '0';
        setNativeThreads(threads);
        // 300k values: enough for the native loop to be split between threads
        const n = 300_000;
        let p: tf.Tensor[] = [tf.tensor1d(Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 2)), tf.tensor1d([0.25, -3])];
        let st = optimizerInit(cfg, p);
        for (let t = 0; t < 3; t++) {
          const gs = [tf.tensor1d(Float32Array.from({ length: n }, (_, i) => Math.cos(i * (t + 1)) * 1e-2)), tf.tensor1d([0.5 * t, -1e-4])];
          const next = optimizerStep(cfg, st, p, gs, 1e-3);
          p = next.params;
          st = next.state;
        }
        return [...p, ...st.slots.values()].map((t) => Array.from(t.dataSync()));
      };
      const ts = run(false, 1);
      for (const threads of available ? [1, 2] : []) run(true, threads).forEach((v, i) => expect(v, `tensor ${i}`).toEqual(ts[i]));
    } finally {
      delete process.env.EXTRA_NATIVE_KERNELS;
      setNativeThreads(1);
      await tf.setBackend('cpu');
    }
  });

  it('SGD with momentum follows v ← μv + g, p ← p − lr v', () => {
    const cfg = { name: 'sgd' as const, momentum: 0.5 };
    let p: tf.Tensor[] = [tf.scalar(1)];
    let st = optimizerInit(cfg, p);
    for (let i = 0; i < 2; i++) ({ params: p, state: st } = optimizerStep(cfg, st, p, [tf.scalar(2)], 0.1)); // v=2, p=0.8; v=3, p=0.5
    expect(st.step).toBe(2);
    expect(p[0].dataSync()[0]).toBeCloseTo(0.5, 6);
  });

  it('per-tensor learning-rate multipliers (parameter groups): SGD and the first Adam step by hand', () => {
    const sgd = { name: 'sgd' as const };
    const r = optimizerStep(sgd, optimizerInit(sgd, [tf.scalar(1), tf.scalar(1)]), [tf.scalar(1), tf.scalar(1)], [tf.scalar(2), tf.scalar(2)], 0.1, [1, 10]);
    expect(r.params[0].dataSync()[0]).toBeCloseTo(0.8, 6); // 1 − 0.1·2
    expect(r.params[1].dataSync()[0]).toBeCloseTo(-1, 6); // 1 − 1·2
    // Adam's first step is lr·sign(g) (m̂ = g, v̂ = g²): the multiplier scales it exactly
    const adam = { name: 'adam' as const };
    const a = optimizerStep(adam, optimizerInit(adam, [tf.scalar(0), tf.scalar(0)]), [tf.scalar(0), tf.scalar(0)], [tf.scalar(3), tf.scalar(-5)], 0.01, [100, 1]);
    expect(a.params[0].dataSync()[0]).toBeCloseTo(-1, 5);
    expect(a.params[1].dataSync()[0]).toBeCloseTo(0.01, 5);
  });

  it('the fused host Adam is the chain decay → scale_by_adam → −lr, and chains compose as optax', () => {
    // the chain's tensor ops (plain) against the fused host pass, with weight decay, lr groups, 5 steps
    const cfg = { name: 'adam' as const, weightDecay: 0.01 };
    const init = () => [tf.randomNormal([7, 3], 0, 1, 'float32', 1), tf.randomNormal([5], 0, 1, 'float32', 2)];
    let a = init();
    let b = init();
    let sa = optimizerInit(cfg, a);
    let sb = optimizerInit(cfg, b);
    for (let step = 0; step < 5; step++) {
      const g = [tf.randomNormal([7, 3], 0, 1, 'float32', 10 + step), tf.randomNormal([5], 0, 1, 'float32', 20 + step)];
      ({ params: a, state: sa } = optimizerStep(cfg, sa, a, g, 0.01, [1, 3]));
      ({ params: b, state: sb } = optimizerStep(cfg, sb, b, g, 0.01, [1, 3], true));
    }
    for (let i = 0; i < 2; i++) {
      const x = a[i].dataSync();
      const y = b[i].dataSync();
      for (let q = 0; q < x.length; q++) expect(Math.abs(x[q] - y[q])).toBeLessThan(1e-6);
      for (const k of [`m/${i}`, `v/${i}`]) expect(tf.max(tf.abs(tf.sub(sa.slots.get(k)!, sb.slots.get(k)!))).dataSync()[0]).toBeLessThan(1e-6);
    }
    // a hand-made chain: decay then −lr is plain SGD with weight decay, p ← p − lr·(g + wd·p)
    const t = chain(addDecayedWeights(0.5), scaleByLearningRate());
    const u = t.update([tf.scalar(2)], t.init([tf.scalar(1)]), [tf.scalar(1)], { step: 1, lr: 0.1 });
    expect(applyUpdates([tf.scalar(1)], u.updates)[0].dataSync()[0]).toBeCloseTo(1 - 0.1 * 2.5, 6);
    // momentum keeps its trace as slot mom/0: two steps of g = 1, μ = 0.9 → traces 1 and 1.9
    const m = chain(trace(0.9), scaleByLearningRate());
    const r1 = m.update([tf.scalar(1)], m.init([tf.scalar(0)]), [tf.scalar(0)], { step: 1, lr: 1 });
    const r2 = m.update([tf.scalar(1)], r1.slots, [tf.scalar(0)], { step: 2, lr: 1 });
    expect(r2.slots.get('mom/0')!.dataSync()[0]).toBeCloseTo(1.9, 6);
    expect(r2.updates[0].dataSync()[0]).toBeCloseTo(-1.9, 6);
  });

  it('schedules: cosine reaches half at mid-training, step decays by gamma', () => {
    expect(learningRateAt(1, { name: 'constant' }, 3, 0, 10, 10)).toBe(1);
    expect(learningRateAt(1, { name: 'cosine' }, 5, 0, 10, 10)).toBeCloseTo(0.5, 12);
    expect(learningRateAt(1, { name: 'cosine' }, 0, 0, 10, 10)).toBeCloseTo(1, 12);
    expect(learningRateAt(1, { name: 'step', gamma: 0.1, stepEpochs: 2 }, 4, 0, 10, 10)).toBeCloseTo(0.01, 12);
  });

  it('milestones follow PyTorch MultiStepLR: lr · gamma^(number of milestones ≤ epoch)', () => {
    // MultiStepLR(milestones=[20, 40, 80, 90], gamma=0.1) with lr 1e-3 (the COSMOS protocol), epochs 0-based
    const cfg = { name: 'step' as const, gamma: 0.1, milestones: [20, 40, 80, 90] };
    const want: [number, number][] = [[0, 1e-3], [19, 1e-3], [20, 1e-4], [39, 1e-4], [40, 1e-5], [79, 1e-5], [80, 1e-6], [90, 1e-7], [99, 1e-7]];
    for (const [epoch, lr] of want) expect(learningRateAt(1e-3, cfg, epoch, 3, 10, 100)).toBeCloseTo(lr, 15);
  });
});
