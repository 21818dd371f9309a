import { dot } from './linalg.js';
import { makeRng, permutation, deriveSeed } from '../util/rng.js';
import type { GradientObjective } from './types.js';

/**
 * PCGrad (Yu et al. 2020): each task gradient is projected onto the normal plane of every other
 * task gradient it conflicts with (negative dot product), visiting the others in a random order
 * seeded by the step (reproducible); the direction is the sum of the projected gradients.
 */
export function pcgradProject(grads: Float64Array[], step: number, seed = 0): Float64Array[] {
  const K = grads.length;
  return grads.map((g, i) => {
    const gi = Float64Array.from(g);
    const order = permutation(K, makeRng(deriveSeed(seed, `pcgrad/${step}/${i}`)));
    for (const j of order) {
      if (j === i) continue;
      const gj = grads[j];
      const d = dot(gi, gj);
      const nn = dot(gj, gj);
      if (d < 0 && nn > 0) for (let q = 0; q < gi.length; q++) gi[q] -= (d / nn) * gj[q];
    }
    return gi;
  });
}

export const pcgrad: GradientObjective = {
  name: 'pcgrad',
  description: 'PCGrad: project away conflicting gradient components, then sum',
  needsGradients: true,
  defaults: { seed: 0 },
  aggregate({ grads, step }, options = {}) {
    const proj = pcgradProject(grads, step, options.seed ?? 0);
    const d = new Float64Array(proj[0].length);
    for (const g of proj) for (let q = 0; q < d.length; q++) d[q] += g[q];
    return { taskWeights: proj.map(() => 1), direction: d };
  },
};
