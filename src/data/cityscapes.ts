import { loadLayoutDataset, type LayoutDefinition } from './mtan-layout.js';
import type { DatasetEntry } from './types.js';

/**
 * CityScapes as the MTAN and LibMTL repositories preprocess it (128×256; 2975 train/, 500 val/
 * samples): segmentation into 7 classes (label_7/, or label/ in LibMTL's copy) or 19 (label_19/, the data set cityscapes-19),
 * −1 = ignored, and depth (depth/, 0 = none). Not downloaded by extra: --data-dir DIR (mtan-layout.ts).
 */
const definition = (classes: 7 | 19): LayoutDefinition => ({
  name: classes === 7 ? 'cityscapes' : 'cityscapes-19',
  tasks: [
    // LibMTL's copy of the 7-class set names the folder label/
    { name: 'segmentation', folder: `label_${classes}`, ...(classes === 7 ? { fallback: 'label' } : {}), kind: 'seg', numClasses: classes },
    { name: 'depth', folder: 'depth', kind: 'depth', numClasses: 1 },
  ],
});

export const cityscapesDataset: DatasetEntry = {
  name: 'cityscapes',
  description: 'CityScapes in the MTAN/LibMTL layout (--data-dir DIR: {train,val}/{image,label_7 or label,depth}/{i}.npy; val/ is the test split): 7-class segmentation and depth',
  load: (opts) => loadLayoutDataset(definition(7), opts),
};

export const cityscapes19Dataset: DatasetEntry = {
  name: 'cityscapes-19',
  description: 'CityScapes as cityscapes, with the 19-class segmentation of label_19/',
  load: (opts) => loadLayoutDataset(definition(19), opts),
};
