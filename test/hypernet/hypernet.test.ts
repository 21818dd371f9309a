import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeRng } from '../../src/util/rng.js';
import { gammaSample, dirichletRay, evaluationRays, fitHyperNet, evaluateHyperNetAt, hyperForward, initHyperNet, hyperParamSpecs } from '../../src/hypernet/index.js';
import { buildModel, defaultModelSpec } from '../../src/models/index.js';
import { syntheticData } from '../helpers.js';
import { selectBackend } from '../../src/backend/index.js';
import { dataParallelAvailable } from '../../src/parallel/pool.js';

describe('Pareto HyperNetworks: rays', () => {
  it('Gamma and Dirichlet draws have their textbook moments', () => {
    const rng = makeRng(3);
    const n = 40000;
    for (const shape of [0.2, 1, 3.5]) {
      const xs = Array.from({ length: n }, () => gammaSample(shape, rng));
      const m = xs.reduce((a, b) => a + b, 0) / n;
      const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / n;
      // Gamma(k, 1): mean k, variance k
      expect(m).toBeCloseTo(shape, 1);
      expect(Math.abs(v - shape) / shape).toBeLessThan(0.06);
    }
    // symmetric Dirichlet(α) over 2: mean ½, variance α²/((2α)²(2α + 1)) = 1/(4(2α + 1))
    const rays = Array.from({ length: n }, () => dirichletRay(2, 0.2, rng));
    const m0 = rays.reduce((a, r) => a + r[0], 0) / n;
    const v0 = rays.reduce((a, r) => a + (r[0] - m0) ** 2, 0) / n;
    expect(m0).toBeCloseTo(0.5, 2);
    expect(v0).toBeCloseTo(1 / (4 * 1.4), 2);
    expect(rays.every((r) => Math.abs(r[0] + r[1] - 1) < 1e-12 && r[0] >= 0)).toBe(true);
  });

  it('evaluation rays are evenly spread in angle between 0.1 and π/2 − 0.1', () => {
    const rays = evaluationRays(3);
    const norm = (a: number) => [Math.cos(a) / (Math.cos(a) + Math.sin(a)), Math.sin(a) / (Math.cos(a) + Math.sin(a))];
    expect(rays[0][0]).toBeCloseTo(norm(0.1)[0], 12);
    expect(rays[1][0]).toBeCloseTo(0.5, 12);
    expect(rays[2][1]).toBeCloseTo(norm(Math.PI / 2 - 0.1)[1], 12);
  });
});

describe('Pareto HyperNetworks: PHN-LS on a two-task problem with a trade-off', () => {
  let dir: string;
  const data = syntheticData();
  // a 2-unit trunk cannot serve both tasks at once: the hypernetwork has to trade them off by ray
  const model = buildModel(defaultModelSpec('mlp-mtl', data.inputShape, data.numClasses, data.taskNames, [2]));
  beforeAll(async () => {
    // through extra's backend selection: the data-parallel pool only runs on a backend it selected
    await selectBackend({ prefer: 'cpu', quiet: true });
    dir = mkdtempSync(path.join(os.tmpdir(), 'extra-phn-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cfg = (sub: string, epochs: number, threads = 1, optimizer: 'adam' | 'sgd' = 'adam') => ({
    dir: path.join(dir, sub),
    epochs,
    batchSize: 64,
    lr: optimizer === 'sgd' ? 0.5 : 1e-2,
    optimizer: { name: optimizer },
    schedule: { name: 'constant' as const },
    seed: 1,
    resume: false,
    progress: false,
    evalRays: [],
    threads,
    hyper: { hidden: 16 },
  });

  it('gives θ(r) the model\'s shapes and learns a front steered by r', async () => {
    const hyper = initHyperNet(model, 1, { hidden: 16 }).map((v, i) => tf.tensor(v, hyperParamSpecs(model, { hidden: 16 })[i].shape));
    const theta = hyperForward(model, hyper, [0.5, 0.5]);
    expect(theta.map((t) => t.shape)).toEqual(model.params.map((p) => p.shape));
    const fit = await fitHyperNet(model, cfg('a', 12), data);
    const at = (ray: number[]) => evaluateHyperNetAt(model, fit.hyper, ray, [data.test])[0];
    const a = at([0.95, 0.05]);
    const b = at([0.05, 0.95]);
    expect(a[0].loss).toBeLessThan(b[0].loss);
    expect(b[1].loss).toBeLessThan(a[1].loss);
  }, 60_000);

  it('two threads compute the one-thread gradients (the hypernet shard program)', async () => {
    expect(dataParallelAvailable()).toBe(true);
    // plain SGD: the update is the gradient itself (Adam's first steps are nearly its sign and would hide errors)
    const one = await fitHyperNet(model, cfg('one', 1, 1, 'sgd'), data);
    const two = await fitHyperNet(model, cfg('two', 1, 2, 'sgd'), data);
    one.hyper.forEach((t, i) => {
      const d = tf.max(tf.abs(tf.sub(t, two.hyper[i]))).dataSync()[0];
      expect(d).toBeLessThan(1e-4);
    });
  }, 60_000);
});
