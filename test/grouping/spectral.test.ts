import { describe, it, expect } from 'vitest';
import { spectralClustering, adjustedRandIndex, cosineToAffinity, normalizedLaplacian, symmetricEigen } from '../../src/grouping/index.js';
import { ExtraInputError } from '../../src/errors.js';
import { makeRng } from '../../src/util/rng.js';

/** Block-structured cosine matrix: +high within a block, given value across blocks, noise on top. */
function blockCosine(sizes: number[], within: number, across: number, noise: number, seed: number): { A: number[][]; truth: number[] } {
  const truth = sizes.flatMap((s, g) => Array(s).fill(g));
  const rng = makeRng(seed);
  const n = truth.length;
  const A = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      const v = i === j ? 1 : (truth[i] === truth[j] ? within : across) + noise * (2 * rng.next() - 1);
      A[i][j] = A[j][i] = Math.max(-1, Math.min(1, v));
    }
  return { A, truth };
}

describe('adjusted Rand index', () => {
  it('textbook values (scikit-learn documentation examples)', () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 1])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1])).toBeCloseTo(0.5714285714285715, 12);
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
  });
});

describe('spectral clustering', () => {
  it('the normalized Laplacian of a graph with c components has c zero eigenvalues', () => {
    const W = [
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ];
    const { values } = symmetricEigen(normalizedLaplacian(W));
    expect(values[0]).toBeCloseTo(0, 10);
    expect(values[1]).toBeCloseTo(0, 10);
    expect(values[2]).toBeGreaterThan(0.5);
  });

  it('recovers planted blocks (12 tasks, 3 groups, conflicting across) over several seeds, ARI ≥ 0.9', () => {
    for (let seed = 0; seed < 5; seed++) {
      const { A, truth } = blockCosine([4, 5, 3], 0.6, -0.3, 0.25, seed);
      const r = spectralClustering(cosineToAffinity(A), 3, seed);
      expect(adjustedRandIndex(r.labels, truth)).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('the eigengap picks k = 3 on three clear blocks', () => {
    const { A } = blockCosine([4, 4, 4], 0.8, 0, 0.05, 1);
    expect(spectralClustering(cosineToAffinity(A), 'eigengap').k).toBe(3);
  });

  it('bad input: k larger than the number of tasks, non-square or negative affinity; degenerate affinity falls back', () => {
    expect(() => spectralClustering([[1, 0.5], [0.5, 1]], 3)).toThrow(ExtraInputError);
    expect(() => spectralClustering([[1, 0.5], [0.5, 1]], 3)).toThrow(/between 1 and the number of tasks \(2\)/);
    expect(() => spectralClustering([[1, 0.5, 1], [0.5, 1]], 1)).toThrow(/not square/);
    expect(() => spectralClustering([[1, -0.5], [-0.5, 1]], 1)).toThrow(/non-negative/);
    const eq = Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i === j ? 1 : 0.4)));
    const r = spectralClustering(eq, 3);
    expect(r.degenerate).toBe(true);
    expect(r.labels).toEqual([0, 0, 1, 1, 2, 2]);
  });
});
