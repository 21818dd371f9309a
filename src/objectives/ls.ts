import type { LossObjective } from './types.js';

/** Linear scalarization: minimize Σ_k r_k L_k. */
export const ls: LossObjective = {
  name: 'ls',
  description: 'linear scalarization Σ r_k L_k',
  needsGradients: false,
  defaults: {},
  aggregate: ({ preference }) => ({ taskWeights: [...preference] }),
};
