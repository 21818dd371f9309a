/** Task grouping by gradient affinity (docs/design.md §5). */
export { cosineToAffinity, normalizedLaplacian, symmetricEigen, kMeans, spectralClustering, adjustedRandIndex, canonicalLabels } from './spectral.js';
export type { SpectralResult } from './spectral.js';
export { taskGradientCosines, groupAgreement, chooseRoles } from './affinity.js';
export { readGrouping, writeGrouping, groupingFile, groupPreferenceToTasks } from './store.js';
export type { GroupingFile } from './store.js';
