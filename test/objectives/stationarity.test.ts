import { describe, it, expect } from 'vitest';
import { getObjective, minNormWeights, gram, type Objective } from '../../src/objectives/index.js';
import { toyGradients, toyObjectives } from '../../src/data/index.js';
import { makeRng } from '../../src/util/rng.js';

/**
 * Pareto-stationarity on Lin et al.'s two-objective toy problem: after each method's own updates (plain
 * gradient steps on its direction), the min-norm element of the convex hull of the two task gradients at
 * the final point — MGDA's stationarity measure — must be ≈ 0, i.e. the method ends on the Pareto set.
 * The trainer's extras are reproduced here: flatness gradients at x + ρ·g_k/‖g_k‖, and FAMO's losses after
 * the step. Steps shrink as 1/(1 + s/100), the usual condition for convergence to a stationary point.
 */
function minNorm(G: Float64Array[]): number {
  const w = minNormWeights(gram(G));
  const d = G[0].map((_, i) => w[0] * G[0][i] + w[1] * G[1][i]);
  return Math.sqrt(d.reduce((a, v) => a + v * v, 0));
}

function descend(o: Objective, x0: Float64Array, steps: number, lr: number, preference: number[]): Float64Array {
  let x = x0.slice();
  let state: Record<string, unknown> = {};
  const rho = 0.01;
  for (let s = 0; s < steps; s++) {
    const G = toyGradients(x);
    const losses = toyObjectives(x);
    let d: Float64Array;
    if (o.needsGradients) {
      const flat = o.flatness
        ? G.map((g) => {
            const n = Math.sqrt(g.reduce((a, v) => a + v * v, 0)) + 1e-12;
            const h = toyGradients(x.map((v, i) => v + (rho * g[i]) / n))[G.indexOf(g)];
            return h.map((v, i) => v - g[i]);
          })
        : undefined;
      const r = o.aggregate({ losses, grads: G, ...(flat ? { flat } : {}), preference, state, step: s }, o.flatness ? { rho } : undefined);
      d = r.direction ?? G[0].map((_, i) => r.taskWeights[0] * G[0][i] + r.taskWeights[1] * G[1][i]);
    } else {
      const w = o.aggregate({ losses, preference, state, step: s }).taskWeights;
      d = G[0].map((_, i) => w[0] * G[0][i] + w[1] * G[1][i]);
    }
    // diminishing steps: methods whose direction does not shrink near the front (Nash-MTL's normalized
    // bargaining) settle on it only as the step size goes to zero
    const step = lr / (1 + s / 100);
    const next = x.map((v, i) => v - step * d[i]);
    if (!o.needsGradients && o.afterStep) state = o.afterStep({ before: losses, after: toyObjectives(next), preference, state, step: s });
    x = next;
  }
  return x;
}

describe('Pareto-stationarity on the toy problem (min-norm element of the gradients’ hull ≈ 0 at the end)', () => {
  const r = makeRng(5);
  const x0 = Float64Array.from({ length: 10 }, () => 0.4 * (2 * r.next() - 1));
  it.each(['nash-mtl', 'dibs-mtl', 'famo', 'flat-mgda', 'flat-ls'])('%s', (name) => {
    const o = getObjective(name);
    const start = minNorm(toyGradients(x0));
    const x = descend(o, x0, 3000, 0.05, [0.5, 0.5]);
    const end = minNorm(toyGradients(x));
    expect(start).toBeGreaterThan(0.05);
    expect(end).toBeLessThan(2e-3);
  });
});
