import { createHash } from 'node:crypto';
import { makeRng } from '../util/rng.js';
import type { MultiTaskDataset, Split } from './types.js';

/**
 * A many-task problem with planted task clusters (ground truth for the grouping): inputs x ~ N(0, I_d);
 * cluster c has a direction u_c; task k in cluster c labels x by the sign of (u_c + σ·v_k)·x (v_k a
 * task-specific random direction). Cluster 2 partly opposes cluster 0 (u_2 = −0.6 u_0 + 0.8 u_⊥), so
 * some clusters conflict. Binary classification, so it runs through the same pipeline as the images.
 */
export interface PlantedOptions {
  tasksPerCluster?: number[];
  dim?: number;
  taskNoise?: number;
  seed?: number;
  trainSize?: number;
  valSize?: number;
  testSize?: number;
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

export function plantedClusters(opts: PlantedOptions = {}): { dataset: MultiTaskDataset; truth: number[] } {
  const sizes = opts.tasksPerCluster ?? [4, 4, 4];
  const d = opts.dim ?? 32;
  const sigma = opts.taskNoise ?? 0.3;
  const seed = opts.seed ?? 0;
  const rng = makeRng(seed);
  const gauss = () => Array.from({ length: d }, () => rng.normal());
  const u0 = unit(gauss());
  const u1 = unit(gauss());
  const perp = unit(gauss());
  const u2 = unit(u0.map((v, i) => -0.6 * v + 0.8 * perp[i]));
  const centers = [u0, u1, u2, ...Array.from({ length: Math.max(0, sizes.length - 3) }, () => unit(gauss()))];
  const truth = sizes.flatMap((s, c) => Array(s).fill(c));
  // σ scales a unit-norm task-specific direction, so within-cluster cosines stay ≈ 1/√(1+σ²)
  const dirs = truth.map((c) => {
    const v = unit(gauss());
    return unit(centers[c].map((x, i) => x + sigma * v[i]));
  });
  const make = (n: number): Split => {
    const x = new Float32Array(n * d);
    const y = dirs.map(() => new Int32Array(n));
    for (let i = 0; i < n; i++) {
      const xi = gauss();
      x.set(xi, i * d);
      dirs.forEach((w, k) => (y[k][i] = w.reduce((s, v, q) => s + v * xi[q], 0) > 0 ? 1 : 0));
    }
    return { x, y, n };
  };
  const taskNames = truth.map((c, k) => `c${c}-t${k}`);
  const dataset: MultiTaskDataset = {
    name: 'planted',
    fingerprint: createHash('sha256').update(JSON.stringify({ planted: 1, sizes, d, sigma, seed, n: [opts.trainSize, opts.valSize, opts.testSize] })).digest('hex'),
    inputShape: [d],
    taskNames,
    numClasses: truth.map(() => 2),
    train: make(opts.trainSize ?? 2048),
    val: make(opts.valSize ?? 512),
    test: make(opts.testSize ?? 512),
  };
  return { dataset, truth };
}
