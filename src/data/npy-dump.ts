import { dump } from 'npyjs';
import type { DataTaskKind, Labels, MultiTaskDataset } from './types.js';

export const splitNames = ['train', 'val', 'test'] as const;
export type SplitName = (typeof splitNames)[number];

/** One file of a dump: its name in the output directory and its bytes. */
export interface DumpFile {
  name: string;
  bytes: Uint8Array;
}

const npyBytes = (data: Float32Array | Int32Array, shape: number[]): Uint8Array => new Uint8Array(dump(data, shape));

/**
 * A data set's splits as the NumPy files `--data DIR` reads (npy.ts): x_<split>.npy (N × input shape,
 * float32 in [0, 1]) and its labels: one y_<split>.npy of N × K int32 class indices when every task is a
 * per-sample classification (what scripts/torch_residual_check.py reads), otherwise one
 * y_<split>_<task>.npy per task (N × the task's label shape, int32 classes or float32 targets). tasks.json
 * names the tasks in their order, with their kinds when the data set gives them (per-pixel sets). One file at
 * a time (a published-size split is hundreds of MiB).
 */
export function* npyDumpFiles(ds: MultiTaskDataset, splits: readonly SplitName[]): Generator<DumpFile> {
  const labelShapes = ds.taskNames.map((_, k) => ds.labelShapes?.[k] ?? []);
  const columns = labelShapes.every((s) => s.length === 0) && splitNames.every((s) => ds[s].y.every((y) => y instanceof Int32Array));
  for (const s of splits) {
    const split = ds[s];
    yield { name: `x_${s}.npy`, bytes: npyBytes(split.x, [split.n, ...ds.inputShape]) };
    if (columns) yield { name: `y_${s}.npy`, bytes: npyBytes(labelColumns(split.y, split.n), [split.n, split.y.length]) };
    else for (const [k, y] of split.y.entries()) yield { name: `y_${s}_${ds.taskNames[k]}.npy`, bytes: npyBytes(y, [split.n, ...labelShapes[k]]) };
  }
  const kinds: readonly DataTaskKind[] | undefined = ds.taskKinds;
  const tasks = kinds ? ds.taskNames.map((name, k) => ({ name, kind: kinds[k] })) : ds.taskNames;
  yield { name: 'tasks.json', bytes: new TextEncoder().encode(JSON.stringify(tasks) + '\n') };
}

/** Per-task class indices as one N × K row-major array (sample i's labels in row i). */
function labelColumns(y: readonly Labels[], n: number): Int32Array {
  const out = new Int32Array(n * y.length);
  for (let i = 0; i < n; i++) y.forEach((labels, k) => (out[i * y.length + k] = labels[i]));
  return out;
}
