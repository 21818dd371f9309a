import { getDataset } from './registry.js';
import type { DatasetOptions, MultiTaskDataset } from './types.js';

export type { MultiTaskDataset, Split, Labels, DatasetOptions, DatasetEntry } from './types.js';
export { datasets, datasetNames, getDataset } from './registry.js';
export { parseIdx, encodeIdx } from './idx.js';
export { toyObjectives, toyGradients, TOY_DEFAULT_DIM } from './toy.js';
export { buildMulti, loadSources, recipeOf, multiDefinitions, DATA_VERSION } from './multi.js';
export { renderCompositions, drawCompositions, splitPool, CANVAS, MAX_SHIFT } from './compose.js';
export { loadMnistPackageDigits, loadMnistFull, loadFashion, fashionDir } from './sources.js';

export { digitAttributes, attributeTaskNames } from './attributes.js';
export { plantedClusters } from './planted.js';
export { npyDumpFiles, splitNames, type SplitName, type DumpFile } from './npy-dump.js';
export type { PlantedOptions } from './planted.js';

/** Load a multi-task data set of the table (src/data/registry.ts) by name, building and caching it on first use. */
export async function loadDataset(name: string, opts: DatasetOptions = {}): Promise<MultiTaskDataset> {
  const ds = await getDataset(name).load(opts);
  // each split carries its labels' shapes, so that batches, workers and metrics shape per-pixel labels
  if (ds.labelShapes) for (const s of [ds.train, ds.val, ds.test]) s.labelShapes = ds.labelShapes;
  return ds;
}
