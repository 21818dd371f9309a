import { describe, it, expect } from 'vitest';
import { getObjective, objectiveNames, type GradientObjective } from '../../src/objectives/index.js';

function gradientObjective(name: string): GradientObjective {
  const o = getObjective(name);
  if (!o.needsGradients) throw new Error(`${name} needs no gradients`);
  return o;
}
const f = (a: number[]) => Float64Array.from(a);

describe('flat-region MTL', () => {
  it('registers flat-<base> for ls, mgda, pcgrad and cagrad, asking the trainer for flatness gradients', () => {
    for (const b of ['ls', 'mgda', 'pcgrad', 'cagrad']) {
      expect(objectiveNames()).toContain(`flat-${b}`);
      const o = gradientObjective(`flat-${b}`);
      expect(o.flatness).toBe(true);
      expect(o.defaults.rho).toBe(0.05);
    }
  });

  it('flat-ls: Σ r_k g_k + Σ r_k h_k (closed form)', () => {
    const G = [f([1, 0, 2]), f([0, 3, -1])];
    const H = [f([0.5, 0.5, 0]), f([-1, 0, 1])];
    const d = gradientObjective('flat-ls').aggregate({ losses: [1, 1], grads: G, flat: H, preference: [0.25, 0.75], state: {}, step: 0 }).direction!;
    const want = [0, 1, 2].map((i) => 0.25 * (G[0][i] + H[0][i]) + 0.75 * (G[1][i] + H[1][i]));
    Array.from(d).forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
  });

  it('flat-mgda: the min-norm element of {g_k} plus that of {h_k}; orthogonal unit gradients give ½(g_0 + g_1)', () => {
    const G = [f([1, 0]), f([0, 1])];
    const H = [f([2, 0]), f([0, 2])];
    const d = gradientObjective('flat-mgda').aggregate({ losses: [1, 1], grads: G, flat: H, preference: [0.5, 0.5], state: {}, step: 0 }).direction!;
    expect(d[0]).toBeCloseTo(0.5 + 1, 9);
    expect(d[1]).toBeCloseTo(0.5 + 1, 9);
  });

  it('refuses to run without the trainer’s flatness gradients', () => {
    expect(() => gradientObjective('flat-pcgrad').aggregate({ losses: [1, 1], grads: [f([1]), f([1])], preference: [0.5, 0.5], state: {}, step: 0 })).toThrow(/flatness gradients/);
  });
});
