import type { AfterStepInput, LossObjective } from './types.js';

/**
 * FAMO (Liu et al., "FAMO: Fast Adaptive Multitask Optimization", NeurIPS 2023): O(1) loss balancing.
 * Task logits ξ give z = softmax(ξ); the update descends Σ_k z_k log L_k / c with c = Σ_k z_k/L_k, i.e.
 * task weights w_k = z_k / (c·L_k) (they sum to 1; no per-task gradients needed). After the parameter
 * update the same batch is evaluated again, δ_k = log L_k(before) − log L_k(after) is how much each task
 * improved, and ξ takes one Adam step (lr `wLr`, L2 `gamma`, as the authors' torch.optim.Adam with
 * weight_decay) along the softmax Jacobian applied to δ: the tasks that improved least gain weight.
 * Preferences: ξ starts at log(K·preference), so z starts at the preference (uniform = the authors'
 * method) and adapts from there. The logits and their Adam moments are the method's state, checkpointed
 * with the parameters. As in the authors' code, the losses' lower bound is 0 (+1e-8).
 */
const EPS = 1e-8;

export interface FamoState {
  xi: number[];
  m: number[];
  v: number[];
  t: number;
}

function stateOf(s: Record<string, unknown>, preference: readonly number[]): FamoState {
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.length === preference.length && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (ok(s.xi) && ok(s.m) && ok(s.v) && typeof s.t === 'number') return { xi: s.xi, m: s.m, v: s.v, t: s.t };
  const K = preference.length;
  return { xi: preference.map((p) => Math.log(Math.max(p * K, 1e-12))), m: Array(K).fill(0), v: Array(K).fill(0), t: 0 };
}

export function softmax(x: readonly number[]): number[] {
  const mx = Math.max(...x);
  const e = x.map((v) => Math.exp(v - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** w_k = z_k / (c·L_k), c = Σ_j z_j / L_j: the gradient weights of Σ_k z_k log L_k / c. */
export function famoWeights(losses: readonly number[], xi: readonly number[]): number[] {
  const z = softmax(xi);
  const q = z.map((zk, k) => zk / (losses[k] + EPS));
  const c = q.reduce((a, b) => a + b, 0);
  return q.map((v) => v / c);
}

/** One FAMO logit update: Adam on J_softmax(ξ)ᵀ δ + γ·ξ. */
export function famoUpdate(st: FamoState, before: readonly number[], after: readonly number[], opts: { wLr: number; gamma: number }): FamoState {
  const z = softmax(st.xi);
  const delta = before.map((b, k) => Math.log(b + EPS) - Math.log(after[k] + EPS));
  const zd = z.reduce((a, zk, k) => a + zk * delta[k], 0);
  const g = z.map((zk, k) => zk * (delta[k] - zd) + opts.gamma * st.xi[k]);
  const t = st.t + 1;
  const b1 = 0.9;
  const b2 = 0.999;
  const m = st.m.map((mk, k) => b1 * mk + (1 - b1) * g[k]);
  const v = st.v.map((vk, k) => b2 * vk + (1 - b2) * g[k] * g[k]);
  const xi = st.xi.map((x, k) => x - (opts.wLr * (m[k] / (1 - b1 ** t))) / (Math.sqrt(v[k] / (1 - b2 ** t)) + 1e-8));
  return { xi, m, v, t };
}

export const famo: LossObjective = {
  name: 'famo',
  description: 'FAMO: loss-balancing task logits adapted from the change of log-losses after each step (one extra forward pass); starts at the preference',
  needsGradients: false,
  defaults: { wLr: 0.025, gamma: 0.01 },
  aggregate({ losses, preference, state }) {
    return { taskWeights: famoWeights(losses, stateOf(state, preference).xi) };
  },
  afterStep({ before, after, preference, state }: AfterStepInput, options = {}) {
    const next = famoUpdate(stateOf(state, preference), before, after, { wLr: options.wLr ?? 0.025, gamma: options.gamma ?? 0.01 });
    return { ...next };
  },
};
