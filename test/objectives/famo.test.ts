import { describe, it, expect } from 'vitest';
import { famoWeights, famoUpdate, getObjective } from '../../src/objectives/index.js';

describe('FAMO', () => {
  it('weights are the gradient weights of Σ z_k log L_k / c: equal logits give w_k ∝ 1/L_k, summing to 1', () => {
    const w = famoWeights([0.5, 2, 1], [0, 0, 0]);
    const inv = [2, 0.5, 1];
    const s = inv.reduce((a, b) => a + b, 0);
    w.forEach((x, k) => expect(x).toBeCloseTo(inv[k] / s, 6));
    // logits tilt them by softmax(ξ)
    const t = famoWeights([1, 1], [Math.log(3), 0]);
    expect(t[0]).toBeCloseTo(0.75, 9);
  });

  it('one logit update is one Adam step on J_softmax(ξ)ᵀδ + γξ (textbook first step: ξ − lr·sign)', () => {
    const st = { xi: [0.2, -0.1], m: [0, 0], v: [0, 0], t: 0 };
    const before = [1.0, 2.0];
    const after = [0.5, 1.9]; // task 0 improved much more
    const next = famoUpdate(st, before, after, { wLr: 0.025, gamma: 0.01 });
    const e = [Math.exp(0.2), Math.exp(-0.1)];
    const z = e.map((x) => x / (e[0] + e[1]));
    const delta = [Math.log(1 / 0.5), Math.log(2 / 1.9)];
    const zd = z[0] * delta[0] + z[1] * delta[1];
    const g = z.map((zk, k) => zk * (delta[k] - zd) + 0.01 * st.xi[k]);
    // first Adam step: m̂ = g, v̂ = g², so the step is lr·g/(|g| + 1e-8)
    next.xi.forEach((x, k) => expect(x).toBeCloseTo(st.xi[k] - (0.025 * g[k]) / (Math.abs(g[k]) + 1e-8), 12));
    expect(next.t).toBe(1);
    // the task that improved most loses weight
    expect(famoWeights([1, 1], next.xi)[0]).toBeLessThan(famoWeights([1, 1], st.xi)[0]);
  });

  it('starts at the preference; without state it is a loss-only method with documented defaults', () => {
    const o = getObjective('famo');
    expect(o.needsGradients).toBe(false);
    expect(o.defaults).toEqual({ wLr: 0.025, gamma: 0.01 });
    if (o.needsGradients) return;
    const w = o.aggregate({ losses: [1, 1], preference: [0.8, 0.2], state: {}, step: 0 }).taskWeights;
    expect(w[0]).toBeCloseTo(0.8, 9);
    const s = o.afterStep!({ before: [1, 1], after: [0.9, 0.99], preference: [0.8, 0.2], state: {}, step: 0 });
    expect(Object.keys(s).sort()).toEqual(['m', 't', 'v', 'xi']);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s); // JSON state: it is checkpointed
  });
});
