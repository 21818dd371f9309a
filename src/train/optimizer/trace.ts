import * as tf from '@tensorflow/tfjs';
import { slotOf, type GradientTransformation } from './transform.js';

/** Heavy-ball momentum: t ← μ·t + g, update t (PyTorch's SGD momentum, optax.trace). Slots mom/i; none for μ = 0. */
export function trace(momentum: number): GradientTransformation {
  return {
    init: (params) => new Map(momentum ? params.map((p, i) => [`mom/${i}`, tf.zerosLike(p)] as const) : []),
    update(updates, slots) {
      if (!momentum) return { updates: [...updates], slots: new Map() };
      const out = new Map<string, tf.Tensor>();
      const u = updates.map((g, i) => {
        const t = tf.add(tf.mul(slotOf(slots, `mom/${i}`), momentum), g);
        out.set(`mom/${i}`, t);
        return t;
      });
      return { updates: u, slots: out };
    },
  };
}
