/** Scalarizations and MTL gradient aggregators, each a pure plug-in behind one interface. */
export type { Objective, LossObjective, GradientObjective, AggregationInput, AggregationResult, AfterStepInput } from './types.js';
export { getObjective, objectiveNames, registerObjective } from './registry.js';
export { normalizePreference, parsePreference, MAX_PREFERENCE_ENTRY } from './preference.js';
export { minNormWeights } from './mgda.js';
export { cagradWeights } from './cagrad.js';
export { fairgradWeights } from './fairgrad.js';
export { nashWeights } from './nash.js';
export { dibsWeights } from './dibs.js';
export { famoWeights, famoUpdate } from './famo.js';
export { flatRegion } from './flat.js';
export { pcgradProject } from './pcgrad.js';
export { gram, projectSimplex, clipNorm } from './linalg.js';
