import type { LossObjective } from './types.js';

/**
 * Chebyshev scalarization: minimize max_k r_k (L_k − z_k). The ideal point z defaults to 0 (a lower
 * bound of every cross-entropy); `temperature` > 0 replaces the hard max by a softmax over
 * r_k (L_k − z_k)/τ, whose gradient is smoother.
 */
export const chebyshev: LossObjective = {
  name: 'chebyshev',
  description: 'Chebyshev scalarization max_k r_k (L_k − z_k), z = 0',
  needsGradients: false,
  defaults: { ideal: 0, temperature: 0 },
  aggregate({ losses, preference }, options = {}) {
    const z = options.ideal ?? 0;
    const tau = options.temperature ?? 0;
    const s = losses.map((l, k) => preference[k] * (l - z));
    if (tau > 0) {
      const m = Math.max(...s);
      const e = s.map((v) => Math.exp((v - m) / tau));
      const sum = e.reduce((a, b) => a + b, 0);
      return { taskWeights: e.map((v, k) => (v / sum) * preference[k]) };
    }
    let best = 0;
    s.forEach((v, k) => {
      if (v > s[best]) best = k;
    });
    return { taskWeights: losses.map((_, k) => (k === best ? preference[k] : 0)) };
  },
};
