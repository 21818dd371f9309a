import { ExtraInputError } from '../errors.js';
import { multiMnistAttributes } from './attributes.js';
import { multiDefinitions } from './multi.js';
import { loadMultiDataset } from './multi-load.js';
import type { DatasetEntry } from './types.js';
import { npyDataset } from './npy.js';
import { celebaDataset } from './celeba.js';
import { denseDigitsDataset } from './dense-digits.js';
import { nyuv2Dataset } from './nyuv2.js';
import { cityscapesDataset, cityscapes19Dataset } from './cityscapes.js';

const multiEntry = (name: keyof typeof multiDefinitions): DatasetEntry => ({ name, description: multiDefinitions[name].describe, load: (opts) => loadMultiDataset(name, opts) });

/** The data sets, by name. A new one is one file in this folder (a DatasetEntry) and one line here. */
export const datasets: Readonly<Record<string, DatasetEntry>> = {
  'multi-mnist': multiEntry('multi-mnist'),
  'multi-fashion': multiEntry('multi-fashion'),
  'multi-fashion-mnist': multiEntry('multi-fashion-mnist'),
  'multi-mnist-attributes': multiMnistAttributes,
  npy: npyDataset,
  celeba: celebaDataset,
  'dense-digits': denseDigitsDataset,
  nyuv2: nyuv2Dataset,
  cityscapes: cityscapesDataset,
  'cityscapes-19': cityscapes19Dataset,
};

export function datasetNames(): string[] {
  return Object.keys(datasets);
}

export function getDataset(name: string): DatasetEntry {
  const d = Object.hasOwn(datasets, name) ? datasets[name] : undefined;
  if (!d) throw new ExtraInputError(`unknown data set '${name}' (known: ${datasetNames().join(', ')})`);
  return d;
}
