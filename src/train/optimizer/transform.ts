import * as tf from '@tensorflow/tfjs';

/**
 * Gradient transformations as (init, update) pairs over parameter lists, after optax: `init` makes a
 * transform's slot tensors, `update` maps incoming updates (the gradients, at the head of a chain)
 * to outgoing ones and new slots. `chain` composes them; `applyUpdates` adds the result to the
 * parameters. Slots are named `prefix/i` (parameter tensor i) in one flat map, the names a training
 * checkpoint stores, so a checkpoint written by any chain resumes bit-for-bit.
 */

/** What changes from step to step: the step count (1 at the first update) and the learning rate. */
export interface StepContext {
  step: number;
  lr: number;
  /** per-tensor multiplier of lr (parameter groups, as optax.multi_transform or PyTorch's param_groups) */
  lrScale?: readonly number[];
}

export type Slots = ReadonlyMap<string, tf.Tensor>;

export interface GradientTransformation {
  init(params: readonly tf.Tensor[]): Map<string, tf.Tensor>;
  /** runs inside a tf.tidy: return new tensors, never dispose the given ones */
  update(updates: readonly tf.Tensor[], slots: Slots, params: readonly tf.Tensor[], ctx: StepContext): { updates: tf.Tensor[]; slots: Map<string, tf.Tensor> };
}

/** The transforms applied in order, each to the previous one's updates; their slots side by side. */
export function chain(...transforms: readonly GradientTransformation[]): GradientTransformation {
  return {
    init(params) {
      const slots = new Map<string, tf.Tensor>();
      for (const t of transforms) for (const [k, v] of t.init(params)) slots.set(k, v);
      return slots;
    },
    update(updates, slots, params, ctx) {
      let u: readonly tf.Tensor[] = updates;
      const out = new Map<string, tf.Tensor>();
      for (const t of transforms) {
        const r = t.update(u, slots, params, ctx);
        u = r.updates;
        for (const [k, v] of r.slots) out.set(k, v);
      }
      return { updates: [...u], slots: out };
    },
  };
}

/** One slot of parameter i, which init made: a missing one is a programming error, not user input. */
export function slotOf(slots: Slots, name: string): tf.Tensor {
  const s = slots.get(name);
  if (!s) throw new Error(`optimizer slot ${name} is missing`);
  return s;
}

/** params + updates (the transforms' updates already carry the descent's sign) */
export function applyUpdates(params: readonly tf.Tensor[], updates: readonly tf.Tensor[]): tf.Tensor[] {
  return params.map((p, i) => tf.add(p, updates[i]));
}
