import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors, type NamedTensor } from '../io/index.js';
import { FileFormatError } from '../errors.js';
import { exists } from '../util/fs.js';
import type { OptimizerState } from './optimizer/index.js';

/**
 * A training checkpoint: trainable tensors, optimizer slots and a small JSON state, in one
 * safetensors file written atomically. Loading checks names and shapes against what the caller
 * expects, so a truncated or foreign file is refused instead of half-read.
 */
export interface TrainingCheckpoint<S> {
  tensors: tf.Tensor[];
  optimizer: OptimizerState;
  state: S;
}

const STATE_KEY = 'extra.state';

/** The training state a checkpoint holds (null without a checkpoint), read and checked without loading its tensors' values. */
export async function checkpointState(file: string): Promise<{ recipe?: unknown } | null> {
  if (!(await exists(file))) return null;
  const raw = (await readSafetensors(file)).metadata[STATE_KEY];
  if (!raw) throw new FileFormatError(`${file} is not an extra training checkpoint (no state)`);
  try {
    const m = JSON.parse(raw) as { state?: unknown };
    if (m && typeof m === 'object' && m.state && typeof m.state === 'object') return m.state as { recipe?: unknown };
  } catch {
    // refused below
  }
  throw new FileFormatError(`${file}: its training state is not valid (truncated or foreign file)`);
}

export async function saveTrainingCheckpoint<S>(
  file: string,
  names: string[],
  tensors: readonly tf.Tensor[],
  optimizer: OptimizerState,
  state: S,
): Promise<void> {
  const entries: NamedTensor[] = [];
  tensors.forEach((t, i) => entries.push({ name: `param/${names[i]}`, shape: t.shape, data: t.dataSync() as Float32Array }));
  for (const [k, t] of optimizer.slots) entries.push({ name: `opt/${k}`, shape: t.shape, data: t.dataSync() as Float32Array });
  await writeSafetensors(file, entries, {
    [STATE_KEY]: JSON.stringify({ state, optimizerStep: optimizer.step, names }),
  });
}

export async function loadTrainingCheckpoint<S>(
  file: string,
  names: string[],
  shapes: number[][],
): Promise<TrainingCheckpoint<S> | null> {
  if (!(await exists(file))) return null;
  const dec = await readSafetensors(file);
  const raw = dec.metadata[STATE_KEY];
  if (!raw) throw new FileFormatError(`${file} is not an extra training checkpoint (no state)`);
  let meta: { state: S; optimizerStep: number; names: string[] };
  try {
    meta = JSON.parse(raw) as typeof meta;
  } catch {
    throw new FileFormatError(`${file}: its training state is not valid JSON (truncated or foreign file)`);
  }
  const m = meta as unknown as { state?: unknown; optimizerStep?: unknown };
  if (m === null || typeof m !== 'object' || !Number.isSafeInteger(m.optimizerStep) || (m.optimizerStep as number) < 0 || m.state === null || typeof m.state !== 'object') {
    throw new FileFormatError(`${file}: its training state lacks optimizerStep/state (not an extra training checkpoint)`);
  }
  const byName = new Map(dec.tensors.map((t) => [t.name, t]));
  const tensors = names.map((n, i) => {
    const t = byName.get(`param/${n}`);
    if (!t) throw new FileFormatError(`${file} lacks tensor ${n} (checkpoint of a different model?)`);
    if (t.shape.join(',') !== shapes[i].join(',')) {
      throw new FileFormatError(`${file}: tensor ${n} has shape [${t.shape}] but [${shapes[i]}] is expected`);
    }
    return tf.tensor(t.data, t.shape);
  });
  const slots = new Map<string, tf.Tensor>();
  for (const t of dec.tensors) if (t.name.startsWith('opt/')) slots.set(t.name.slice(4), tf.tensor(t.data, t.shape));
  return { tensors, optimizer: { step: meta.optimizerStep, slots }, state: meta.state };
}
