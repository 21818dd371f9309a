import type { TaskKind } from '../tasks/index.js';

/**
 * A task's labels: class indices (Int32Array) for a classification task, real-valued targets
 * (Float32Array) for a regression task, whose numClasses is 1.
 */
export type Labels = Int32Array | Float32Array;

/** The kinds of task a data set can declare (the task-kind table, src/tasks, gives each its loss and metrics). */
export { taskKindNames as dataTaskKinds } from '../tasks/index.js';
export type DataTaskKind = TaskKind;

/** One split of a multi-task data set. */
export interface Split {
  /** N × H × W × C values in [0, 1], row-major */
  x: Float32Array;
  /** one label array per task */
  y: Labels[];
  n: number;
  /** per task, the labels' shape per sample ([] or absent: one label per sample); a dense set's splits carry the set's labelShapes */
  labelShapes?: number[][];
}

export interface MultiTaskDataset {
  name: string;
  /** sha256 of the recipe and the source data: a run refuses data with another fingerprint */
  fingerprint: string;
  inputShape: number[];
  taskNames: string[];
  /** classes per task; 1 marks a regression task (real-valued targets, Float32Array labels) */
  numClasses: number[];
  /**
   * Per-pixel (dense) data sets only: each task's kind ('seg' | 'depth' | 'normal' for a per-pixel task,
   * 'ce' | 'bce' | 'mse' for a per-sample one) and each task's label shape per sample ([] per sample,
   * [H,W] for seg and depth, [H,W,3] for normal). Labels are then N × that many values, row-major:
   * seg labels are Int32 class indices with −1 = ignored pixel; depth is Float32 with 0 = no
   * measurement; normal is Float32 xyz with (0,0,0) = no measurement. Absent: every task per sample.
   */
  taskKinds?: DataTaskKind[];
  labelShapes?: number[][];
  train: Split;
  val: Split;
  test: Split;
}

export interface DatasetOptions {
  seed?: number;
  trainSize?: number;
  valSize?: number;
  testSize?: number;
  dataDir?: string;
  /** `npy` without val files: the fraction of training rows held out for validation */
  valFraction?: number;
  /** celeba: image side after cropping and downsampling; dense-digits: image side; nyuv2, cityscapes: image height after downsampling */
  resolution?: number;
  /** per-pixel seg labels: the value that marks an ignored pixel in the files (e.g. 255), read as −1 */
  ignoreLabel?: number;
  /** celeba: the attributes to use as tasks (default all 40) */
  attributes?: string[];
  cacheDir?: string;
  quiet?: boolean;
}

/**
 * One data set of the table in src/data/registry.ts: its name, what it is, and how to load it
 * (building and caching on first use). A new data set is one file and one table line.
 */
export interface DatasetEntry {
  name: string;
  description: string;
  load(opts: DatasetOptions): Promise<MultiTaskDataset>;
}

/**
 * What rebuilds a data set exactly: its table name and the options that shape it. Stored in run.json
 * (its schema, src/run/schema.ts, is checked against this type) and sent to training workers.
 */
export type DatasetRecipe = { name: string; seed: number } & Pick<DatasetOptions, 'trainSize' | 'valSize' | 'testSize' | 'dataDir' | 'valFraction' | 'resolution' | 'attributes' | 'ignoreLabel'>;

const recipeKeys = ['trainSize', 'valSize', 'testSize', 'dataDir', 'valFraction', 'resolution', 'attributes', 'ignoreLabel'] as const;

/** The recipe fields of a stored data set description (run.json's also holds its fingerprint and shapes), set ones only. */
export function datasetRecipeOf(d: DatasetRecipe): DatasetRecipe {
  const out: DatasetRecipe = { name: d.name, seed: d.seed };
  for (const k of recipeKeys) if (d[k] !== undefined) Object.assign(out, { [k]: d[k] });
  return out;
}
