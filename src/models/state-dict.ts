import * as tf from '@tensorflow/tfjs';
import { paramsToPytorchStateDict } from './layers.js';
import type { FunctionalModel } from './types.js';

/** A tensor in PyTorch state_dict layout. */
export interface StateTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * A model's parameters (and, when asked, BatchNormalization statistics) from tensors in PyTorch
 * state_dict layout, by name. The layout change is the one export applies (paramsToPytorchStateDict)
 * run on each element's own index, so reading is its exact inverse by construction:
 * ours[perm[j]] = theirs[j]. Missing names and wrong shapes come back as problems (nothing is
 * allocated then); `rename` maps the model's names to the file's.
 */
export function valuesFromStateDict(
  model: FunctionalModel,
  tensors: ReadonlyMap<string, StateTensor>,
  opts: { rename?: Readonly<Record<string, string>>; statistics?: boolean; absent?: (name: string) => string | null } = {},
): { params: tf.Tensor[]; statistics: tf.Tensor[]; problems: string[]; used: Set<string> } {
  const names = model.params.map((p) => p.name);
  const withStats = opts.statistics === true && model.statistics.length > 0;
  const ramp = (shape: number[]) => tf.range(0, shape.reduce((a, b) => a * b, 1), 1, 'int32').reshape(shape);
  const perms = tf.tidy(() => model.params.map((p) => ramp(p.shape)));
  const statPerms = withStats ? tf.tidy(() => model.statistics.map((s) => ramp(s.shape))) : [];
  const layout = paramsToPytorchStateDict(model.spec, names, perms, statPerms);
  tf.dispose([...perms, ...statPerms]);
  const shapes = [...model.params.map((p) => p.shape), ...(withStats ? model.statistics.map((s) => s.shape) : [])];
  const problems: string[] = [];
  const used = new Set<string>();
  const values = layout.map((want, i) => {
    const theirs = opts.rename?.[want.name] ?? want.name;
    used.add(theirs);
    const got = tensors.get(theirs);
    if (!got) {
      problems.push(opts.absent?.(theirs) ?? `missing ${theirs}${theirs !== want.name ? ` (for ${want.name})` : ''}`);
      return null;
    }
    if (got.shape.join(',') !== want.shape.join(',')) {
      problems.push(`${theirs} has shape [${got.shape.join(',')}], the model needs [${want.shape.join(',')}]`);
      return null;
    }
    const out = new Float32Array(got.data.length);
    const perm = want.data as unknown as Int32Array;
    for (let j = 0; j < perm.length; j++) out[perm[j]] = got.data[j];
    return out;
  });
  if (problems.length) return { params: [], statistics: [], problems, used };
  const all = values.map((v, i) => tf.tensor(v as Float32Array, shapes[i]));
  return { params: all.slice(0, names.length), statistics: all.slice(names.length), problems, used };
}
