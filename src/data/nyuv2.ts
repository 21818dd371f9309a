import { loadLayoutDataset, type LayoutDefinition } from './mtan-layout.js';
import type { DatasetEntry } from './types.js';

/**
 * NYUv2 as the MTAN and LibMTL repositories preprocess it (288×384; 795 train/, 654 val/ samples):
 * 13-class segmentation (−1 = ignored), depth, surface normals, the EXTRA paper's main benchmark.
 * The files are not downloaded by extra: --data-dir DIR (mtan-layout.ts says what DIR holds).
 */
export const nyuv2Definition: LayoutDefinition = {
  name: 'nyuv2',
  tasks: [
    { name: 'segmentation', folder: 'label', kind: 'seg', numClasses: 13 },
    { name: 'depth', folder: 'depth', kind: 'depth', numClasses: 1 },
    { name: 'normal', folder: 'normal', kind: 'normal', numClasses: 3 },
  ],
};

export const nyuv2Dataset: DatasetEntry = {
  name: 'nyuv2',
  description: 'NYUv2 in the MTAN/LibMTL layout (--data-dir DIR: {train,val}/{image,label,depth,normal}/{i}.npy; val/ is the test split): 13-class segmentation, depth, normals; --resolution H, --val-fraction, --ignore-label',
  load: (opts) => loadLayoutDataset(nyuv2Definition, opts),
};
