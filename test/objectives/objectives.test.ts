import { describe, it, expect } from 'vitest';
import { getObjective, minNormWeights, cagradWeights, fairgradWeights, nashWeights, pcgradProject, gram, parsePreference, normalizePreference, objectiveNames } from '../../src/objectives/index.js';
import { ExtraInputError } from '../../src/errors.js';
import type { LossObjective } from '../../src/objectives/index.js';
import { makeRng } from '../../src/util/rng.js';

const f64 = (a: number[]) => Float64Array.from(a);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
const norm2 = (w: number[], G: Float64Array[]) => {
  const d = G[0].map((_, q) => G.reduce((s, g, k) => s + w[k] * g[q], 0));
  return dot(d, d);
};

/** a registered loss-only method (its aggregate needs no gradients) */
function lossObjective(name: string): LossObjective {
  const o = getObjective(name);
  if (o.needsGradients) throw new Error(`${name} needs gradients`);
  return o;
}

/** brute force over a simplex grid (K = 2 or 3) */
function simplexGrid(K: number, n: number): number[][] {
  const out: number[][] = [];
  if (K === 2) for (let i = 0; i <= n; i++) out.push([i / n, 1 - i / n]);
  else for (let i = 0; i <= n; i++) for (let j = 0; j <= n - i; j++) out.push([i / n, j / n, (n - i - j) / n]);
  return out;
}

describe('scalarizations', () => {
  it('ls weights are the preference; chebyshev puts the weight on argmax r_k L_k', () => {
    expect(lossObjective('ls').aggregate({ losses: [1, 2], preference: [0.3, 0.7], state: {}, step: 0 }).taskWeights).toEqual([0.3, 0.7]);
    const c = lossObjective('chebyshev').aggregate({ losses: [1, 2], preference: [0.8, 0.2], state: {}, step: 0 });
    expect(c.taskWeights).toEqual([0.8, 0]); // 0.8·1 > 0.2·2
    const soft = lossObjective('chebyshev').aggregate({ losses: [1, 1], preference: [0.5, 0.5], state: {}, step: 0 }, { temperature: 1 });
    expect(soft.taskWeights[0]).toBeCloseTo(0.25, 12);
  });
});

describe('MGDA', () => {
  it('two gradients: the closed form γ = clamp(((g2−g1)·g2)/‖g1−g2‖², 0, 1)', () => {
    const rng = makeRng(1);
    for (let trial = 0; trial < 20; trial++) {
      const g1 = f64(Array.from({ length: 5 }, () => rng.normal()));
      const g2 = f64(Array.from({ length: 5 }, () => rng.normal()));
      const diff = g1.map((v, i) => v - g2[i]);
      const gamma = Math.min(1, Math.max(0, dot(g2.map((v, i) => v - g1[i]), g2) / dot(diff, diff)));
      const w = minNormWeights(gram([g1, g2]));
      expect(w[0]).toBeCloseTo(gamma, 10);
    }
  });

  it('orthogonal equal-norm gradients → (0.5, 0.5); a gradient inside the hull gets all the weight', () => {
    expect(minNormWeights(gram([f64([1, 0]), f64([0, 1])]))).toEqual([0.5, 0.5]);
    // g1 = (1, 0), g2 = (2, 1): the min-norm point of the segment is g1 itself
    expect(minNormWeights(gram([f64([1, 0]), f64([2, 1])]))[0]).toBeCloseTo(1, 12);
  });

  it('three tasks: Frank–Wolfe matches a brute-force search over the simplex', () => {
    const rng = makeRng(2);
    for (let trial = 0; trial < 5; trial++) {
      const G = [0, 1, 2].map(() => f64(Array.from({ length: 4 }, () => rng.normal())));
      const w = minNormWeights(gram(G), 5000);
      const best = Math.min(...simplexGrid(3, 200).map((v) => norm2(v, G)));
      expect(norm2(w, G)).toBeLessThanOrEqual(best + 1e-6);
    }
  });
});

describe('CAGrad', () => {
  it('c = 0 gives the mean gradient', () => {
    const G = [f64([1, 2]), f64([-3, 1])];
    const r = getObjective('cagrad').aggregate({ losses: [1, 1], grads: G, preference: [0.5, 0.5], state: {}, step: 0 }, { c: 0 });
    expect(Array.from(r.direction!)).toEqual([-1, 1.5]);
  });

  it('the dual weights minimize F(w) = g_wᵀg0 + c‖g0‖‖g_w‖ (brute force over the simplex)', () => {
    const rng = makeRng(3);
    for (const K of [2, 3]) {
      for (let trial = 0; trial < 4; trial++) {
        const G = Array.from({ length: K }, () => f64(Array.from({ length: 6 }, () => rng.normal())));
        const c = 0.4;
        const g0 = G[0].map((_, q) => G.reduce((s, g) => s + g[q], 0) / K);
        const F = (w: number[]) => {
          const gw = G[0].map((_, q) => G.reduce((s, g, k) => s + w[k] * g[q], 0));
          return dot(gw, g0) + c * Math.sqrt(dot(g0, g0)) * Math.sqrt(dot(gw, gw));
        };
        const w = cagradWeights(gram(G), c);
        const best = Math.min(...simplexGrid(K, K === 2 ? 2000 : 150).map(F));
        expect(F(w)).toBeLessThanOrEqual(best + 1e-7);
      }
    }
  });

  it('a preference weights g0: c = 0 gives Σ r_k g_k, and the dual minimizes F with that g0 (brute force)', () => {
    const G = [f64([1, 2]), f64([-3, 1])];
    const r0 = getObjective('cagrad').aggregate({ losses: [1, 1], grads: G, preference: [0.8, 0.2], state: {}, step: 0 }, { c: 0 });
    expect(Array.from(r0.direction!).map((v) => +v.toFixed(12))).toEqual([0.2, 1.8]);
    const rng = makeRng(8);
    const H = [0, 1].map(() => f64(Array.from({ length: 6 }, () => rng.normal())));
    const b = [0.8, 0.2];
    const g0 = H[0].map((_, q) => b[0] * H[0][q] + b[1] * H[1][q]);
    const F = (w: number[]) => {
      const gw = H[0].map((_, q) => w[0] * H[0][q] + w[1] * H[1][q]);
      return dot(gw, g0) + 0.4 * Math.sqrt(dot(g0, g0)) * Math.sqrt(dot(gw, gw));
    };
    const w = cagradWeights(gram(H), 0.4, b);
    expect(F(w)).toBeLessThanOrEqual(Math.min(...simplexGrid(2, 2000).map(F)) + 1e-7);
  });

  it('the direction improves the worst task within the ball: d·g_k bounded below (Liu et al. Thm)', () => {
    const G = [f64([1, 0]), f64([-0.9, 0.3])];
    const r = getObjective('cagrad').aggregate({ losses: [1, 1], grads: G, preference: [0.5, 0.5], state: {}, step: 0 });
    const worstMean = Math.min(...G.map((g) => dot(g, [0.05, 0.15])));
    expect(Math.min(...G.map((g) => dot(g, r.direction!)))).toBeGreaterThan(worstMean);
  });
});

describe('FairGrad', () => {
  it('solves (GᵀG w)_k = w_k^(−1/α) to 1e-8', () => {
    const rng = makeRng(4);
    for (const alpha of [0.5, 1, 2, 5]) {
      const G = [0, 1, 2].map(() => f64(Array.from({ length: 5 }, () => rng.normal())));
      const M = gram(G);
      const w = fairgradWeights(M, alpha);
      w.forEach((wk, k) => {
        expect(wk).toBeGreaterThan(0);
        const lhs = M[k].reduce((s, v, j) => s + v * w[j], 0);
        expect(Math.abs(lhs - Math.pow(wk, -1 / alpha))).toBeLessThan(1e-8);
      });
    }
  });

  it('with priorities ρ: (GᵀG w)_k = ρ_k^(1/α) w_k^(−1/α); orthogonal closed form w_k = (ρ_k^(1/α)/‖g_k‖²)^(α/(α+1))', () => {
    const w = fairgradWeights(gram([f64([2, 0]), f64([0, 0.5])]), 1, [1.6, 0.4]);
    expect(w[0]).toBeCloseTo(Math.sqrt(1.6 / 4), 10);
    expect(w[1]).toBeCloseTo(Math.sqrt(0.4 / 0.25), 10);
    const v = fairgradWeights(gram([f64([2, 0]), f64([0, 0.5])]), 2, [1.6, 0.4]);
    expect(v[0]).toBeCloseTo(Math.pow(Math.pow(1.6, 0.5) / 4, 2 / 3), 10);
    expect(v[1]).toBeCloseTo(Math.pow(Math.pow(0.4, 0.5) / 0.25, 2 / 3), 10);
  });

  it('the weighted direction maximizes Σ ρ_k u_α(g_kᵀd) on its sphere (random perturbations as the oracle)', () => {
    const rng = makeRng(9);
    const u = (x: number, alpha: number) => (alpha === 1 ? Math.log(x) : Math.pow(x, 1 - alpha) / (1 - alpha));
    for (const alpha of [1, 2]) {
      // gradients that agree enough for g_kᵀd > 0 near the optimum
      const G = [f64([1, 0.3, 0.1]), f64([0.4, 1, -0.2]), f64([0.2, 0.1, 1])];
      const pref = [0.6, 0.3, 0.1];
      const rho = pref.map((r) => r * 3);
      const w = fairgradWeights(gram(G), alpha, rho);
      const d = G[0].map((_, q) => G.reduce((s, g, k) => s + w[k] * g[q], 0));
      const R = Math.sqrt(dot(d, d));
      const U = (e: ArrayLike<number>) => G.reduce((s, g, k) => s + rho[k] * u(dot(g, e), alpha), 0);
      const best = U(d);
      for (let trial = 0; trial < 200; trial++) {
        const e = d.map((x) => x + 0.05 * R * rng.normal());
        const n = Math.sqrt(dot(e, e));
        const eR = e.map((x) => (x * R) / n);
        if (G.every((g) => dot(g, eR) > 0)) expect(U(eR)).toBeLessThanOrEqual(best + 1e-12);
      }
      // the preferred task gets more of the step than under plain FairGrad
      const plain = fairgradWeights(gram(G), alpha);
      const dp = G[0].map((_, q) => G.reduce((s, g, k) => s + plain[k] * g[q], 0));
      expect(dot(G[0], d) / R).toBeGreaterThan(dot(G[0], dp) / Math.sqrt(dot(dp, dp)));
    }
  });

  it('a uniform preference through the registry is plain FairGrad', () => {
    const G = [f64([1, 2, 0]), f64([-1, 0.5, 1])];
    const r = getObjective('fairgrad').aggregate({ losses: [1, 1], grads: G, preference: [0.5, 0.5], state: {}, step: 0 });
    const w = fairgradWeights(gram(G), 2);
    r.taskWeights.forEach((v, k) => expect(v).toBeCloseTo(w[k], 12));
  });

  it('α = 1 with orthogonal gradients: w_k = 1/‖g_k‖ (proportional fairness)', () => {
    const w = fairgradWeights(gram([f64([2, 0]), f64([0, 0.5])]), 1);
    expect(w[0]).toBeCloseTo(0.5, 10);
    expect(w[1]).toBeCloseTo(2, 10);
  });
});

describe('PCGrad', () => {
  it('conflicting gradients are projected onto each other’s normal plane; agreeing ones are unchanged', () => {
    const g1 = f64([1, 0]);
    const g2 = f64([-1, 1]);
    const [p1, p2] = pcgradProject([g1, g2], 0);
    expect(dot(p1, g2)).toBeCloseTo(0, 12);
    expect(dot(p2, g1)).toBeCloseTo(0, 12);
    expect(Array.from(p1)).toEqual([0.5, 0.5]); // g1 − (−1/2) g2
    const [q1, q2] = pcgradProject([f64([1, 0]), f64([1, 1])], 0);
    expect(Array.from(q1)).toEqual([1, 0]);
    expect(Array.from(q2)).toEqual([1, 1]);
  });
});

describe('Nash-MTL', () => {
  const nash = getObjective('nash-mtl');
  const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));

  it('orthogonal gradients: α_k = sqrt(ρ_k·‖GᵀG‖_F)/‖g_k‖ (closed form of the bargaining condition)', () => {
    const G = [f64([3, 0, 0]), f64([0, 0.5, 0]), f64([0, 0, 2])];
    const norms = [3, 0.5, 2];
    const c = Math.sqrt(norms.reduce((s, n) => s + n ** 4, 0));
    for (const rho of [[1, 1, 1], [1.8, 0.9, 0.3]]) {
      const a = nashWeights(gram(G), rho);
      a.forEach((v, k) => expect(v).toBeCloseTo(Math.sqrt(rho[k] * c) / norms[k], 9));
    }
    // uniform preference: the update is Σ g_k/‖g_k‖ up to scale (each task moves equally)
    const r = nash.aggregate({ losses: [1, 1, 1], grads: G, preference: [1 / 3, 1 / 3, 1 / 3], state: {}, step: 0 }, { maxNorm: 0 });
    expect(cosine(r.direction!, [1, 1, 1])).toBeCloseTo(1, 12);
  });

  it('random gradients: the weights satisfy (M α)_k = ρ_k/α_k on the normalized Gram matrix', () => {
    const rng = makeRng(17);
    for (let trial = 0; trial < 20; trial++) {
      const K = 2 + (trial % 4);
      const G = Array.from({ length: K }, () => Float64Array.from({ length: 7 }, () => rng.normal()));
      const M = gram(G);
      const fro = Math.sqrt(M.flat().reduce((s, v) => s + v * v, 0));
      const rho = Array.from({ length: K }, () => 0.2 + rng.next());
      const a = nashWeights(M, rho);
      a.forEach((v, k) => {
        expect(v).toBeGreaterThan(0);
        const Ma = M[k].reduce((s, m, j) => s + (m / fro) * a[j], 0);
        expect(Ma * v).toBeCloseTo(rho[k], 8);
      });
    }
  });

  it('is invariant to a task loss scale: 10·L_1 leaves the direction unchanged (up to norm); clipping caps the norm', () => {
    const rng = makeRng(5);
    const G = Array.from({ length: 3 }, () => Float64Array.from({ length: 9 }, () => rng.normal()));
    const scaled = G.map((g, k) => (k === 1 ? g.map((v) => 10 * v) : g));
    const run = (gs: Float64Array[], maxNorm: number) => nash.aggregate({ losses: [1, 1, 1], grads: gs, preference: [1 / 3, 1 / 3, 1 / 3], state: {}, step: 0 }, { maxNorm });
    const a = run(G, 0);
    const b = run(scaled, 0);
    expect(cosine(a.direction!, b.direction!)).toBeCloseTo(1, 10);
    // α_1 absorbs the factor 10 (relative to the other tasks' weights)
    expect((b.taskWeights[1] * 10) / b.taskWeights[0]).toBeCloseTo(a.taskWeights[1] / a.taskWeights[0], 8);
    // linear scalarization's direction does change
    const ls = (gs: Float64Array[]) => gs[0].map((_, i) => gs.reduce((s, g) => s + g[i], 0));
    expect(cosine(ls(G), ls(scaled))).toBeLessThan(0.99);
    const clipped = run(scaled, 0.5);
    expect(Math.sqrt(dot(clipped.direction!, clipped.direction!))).toBeCloseTo(0.5, 12);
  });
});

describe('preferences', () => {
  it('normalize and reject bad vectors with one line naming the problem', () => {
    expect(parsePreference('0.8,0.2', 2)).toEqual([0.8, 0.2]);
    expect(parsePreference('3 1', 2)).toEqual([0.75, 0.25]);
    expect(() => parsePreference('0.5,0.3,0.2', 2)).toThrow(/3 entries but there are 2 tasks/);
    expect(() => parsePreference('-1,2', 2)).toThrow(/negative/);
    expect(() => parsePreference('nan,1', 2)).toThrow(/NaN/);
    expect(() => parsePreference('0,0', 2)).toThrow(/all zero/);
    expect(() => parsePreference('a,b', 2)).toThrow(ExtraInputError);
    expect(() => normalizePreference([Infinity, 1], 2)).toThrow(/not finite/);
    expect(() => parsePreference('1e300,1', 2)).toThrow(/entry 1 is too large \(1e\+300; entries are relative weights, at most 1000000\)/);
    expect(() => parsePreference('1,1000001', 2)).toThrow(/entry 2 is too large/);
  });

  it('normalize scale-invariantly (no overflow or underflow) and parse one strict decimal grammar', () => {
    expect(normalizePreference([1e6, 1e6], 2)).toEqual([0.5, 0.5]);
    normalizePreference([3e5, 1e5], 2).forEach((v, k) => expect(v).toBeCloseTo([0.75, 0.25][k], 14));
    const tiny = normalizePreference([3e-320, 1e-320], 2);
    expect(tiny[0]).toBeCloseTo(0.75, 2);
    expect(tiny[0] + tiny[1]).toBeCloseTo(1, 12);
    expect(parsePreference('80, 20', 2)).toEqual([0.8, 0.2]);
    parsePreference(' .5 , +1.5e0 ', 2).forEach((v, k) => expect(v).toBeCloseTo([0.25, 0.75][k], 14));
    for (const bad of ['0.3,,0.7', ',1,1', '0x1,0x2', '1_0,1', '0b1,1', '1e,1', '--1,1', '1;1']) {
      expect(() => parsePreference(bad, 2), bad).toThrow(ExtraInputError);
    }
  });

  it('registry lists every method and names the known ones for an unknown name', () => {
    expect(objectiveNames()).toEqual(expect.arrayContaining(['ls', 'chebyshev', 'mgda', 'cagrad', 'fairgrad', 'pcgrad', 'nash-mtl']));
    expect(() => getObjective('nope')).toThrow(/unknown method 'nope' \(known: ls, chebyshev/);
  });
});
