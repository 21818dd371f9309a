import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import { readJsonWith } from '../io/json-file.js';
import { torchNamesFile } from '../run/index.js';
import { writeJsonAtomic } from '../util/fs.js';

/**
 * What a run remembers of the PyTorch names it was given (RUN/torch.json): the `--name-map` of a
 * safetensors import (ours → theirs), applied backwards by `export --format safetensors`, and the
 * num_batches_tracked counters the imported state_dicts held, written back so that
 * load_state_dict(strict=True) takes the export as it is.
 */
export interface TorchNames {
  nameMap: Record<string, string>;
  /** int64 counters as decimal strings, by (their) name */
  numBatchesTracked: Record<string, string>;
}

const torchNamesSchema = z.object({ nameMap: z.record(z.string()), numBatchesTracked: z.record(z.string().regex(/^-?\d+$/)) });

export async function readTorchNames(run: string): Promise<TorchNames> {
  const file = torchNamesFile(run);
  if (!(await fsp.stat(file).catch(() => null))) return { nameMap: {}, numBatchesTracked: {} };
  return readJsonWith(torchNamesSchema, file);
}

export async function writeTorchNames(run: string, names: TorchNames): Promise<void> {
  await writeJsonAtomic(torchNamesFile(run), names);
}

/**
 * A state_dict for PyTorch from extra's named tensors: names mapped to the user's, and one int64
 * num_batches_tracked per BatchNorm (after its running_var), as nn.BatchNorm2d's state_dict holds.
 */
export function torchStateDict(tensors: { name: string; shape: number[]; data: Float32Array }[], names: TorchNames): { name: string; shape: number[]; data: Float32Array | BigInt64Array }[] {
  const out: { name: string; shape: number[]; data: Float32Array | BigInt64Array }[] = [];
  for (const t of tensors) {
    const name = names.nameMap[t.name] ?? t.name;
    out.push({ ...t, name });
    if (name.endsWith('.running_var')) {
      const counter = `${name.slice(0, -'.running_var'.length)}.num_batches_tracked`;
      out.push({ name: counter, shape: [], data: BigInt64Array.of(BigInt(names.numBatchesTracked[counter] ?? '0')) });
    }
  }
  return out;
}
