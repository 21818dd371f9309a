import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { triangleBasis, triangleIndices, simplexGrid, sampleSimplex, surfacePoint, initSurfaceTrainable, simplexOrderRegularizer, type WeightSurface } from '../../src/surfaces/index.js';
import { orderRegularizer } from '../../src/curves/index.js';
import { DomainError } from '../../src/errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('triangular Bézier patches', () => {
  it('Bernstein basis: textbook values at the centroid and partition of unity', () => {
    const B = triangleBasis(2, [1 / 3, 1 / 3, 1 / 3]);
    const idx = triangleIndices(2);
    idx.forEach(([i, j, k], q) => expect(B[q]).toBeCloseTo(Math.max(i, j, k) === 2 ? 1 / 9 : 2 / 9, 14));
    for (const b of simplexGrid(7)) expect(triangleBasis(3, b).reduce((a, x) => a + x, 0)).toBeCloseTo(1, 13);
    expect(simplexGrid(10).length).toBe(66);
    const s = sampleSimplex(0.7, 0.2);
    expect(s[0] + s[1] + s[2]).toBeCloseTo(1, 15);
    expect(() => triangleBasis(2, [0.5, 0.6, 0])).toThrow(DomainError);
  });

  it('corners are the endpoint models and the initial patch is the flat barycentric interpolation', () => {
    const corners = [0, 1, 2].map((c) => [tf.tensor1d([c, 2 * c, -c]), tf.tensor2d([[c + 1]])]) as [tf.Tensor[], tf.Tensor[], tf.Tensor[]];
    const s: WeightSurface = { degree: 3, paramNames: ['a', 'b'], corners };
    const tr = initSurfaceTrainable(s);
    expect(tr.length).toBe((10 - 3) * 2);
    expect(Array.from(surfacePoint(s, tr, [0, 1, 0])[0].dataSync())).toEqual([1, 2, -1]);
    for (const b of [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]] as [number, number, number][]) {
      const p = surfacePoint(s, tr, b);
      const expected = b[1] * 1 + b[2] * 2; // corner c has value c
      expect(p[0].dataSync()[0]).toBeCloseTo(expected, 5);
      expect(p[1].dataSync()[0]).toBeCloseTo(expected + 1, 5);
    }
  });

  it('the simplex order term generalises R_order: on an edge it is (2·R_order + 1)/3', () => {
    const ts = [0.2, 0.7];
    const L = [
      [tf.scalar(1.0), tf.scalar(0.5), tf.scalar(0.3)],
      [tf.scalar(0.8), tf.scalar(0.9), tf.scalar(0.4)],
    ];
    const r2 = orderRegularizer(ts, L, 0, 1).dataSync()[0];
    const r3 = simplexOrderRegularizer(ts.map((t) => [1 - t, t, 0]), L).dataSync()[0];
    expect(r3).toBeCloseTo((2 * r2 + 1) / 3, 6);
  });
});
