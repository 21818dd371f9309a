import * as tf from '@tensorflow/tfjs';
import { slotOf, type GradientTransformation } from './transform.js';

export interface AdamHyper {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/**
 * Kingma & Ba's moments: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², update m̂ / (√v̂ + ε) with
 * m̂ = m/(1−β1^t), v̂ = v/(1−β2^t) (optax.scale_by_adam). Slots m/i and v/i.
 */
export function scaleByAdam(h: AdamHyper): GradientTransformation {
  return {
    init(params) {
      const slots = new Map<string, tf.Tensor>();
      params.forEach((p, i) => {
        slots.set(`m/${i}`, tf.zerosLike(p));
        slots.set(`v/${i}`, tf.zerosLike(p));
      });
      return slots;
    },
    update(updates, slots, _params, { step }) {
      const c1 = 1 - Math.pow(h.beta1, step);
      const c2 = 1 - Math.pow(h.beta2, step);
      const out = new Map<string, tf.Tensor>();
      const u = updates.map((g, i) => {
        const m = tf.add(tf.mul(slotOf(slots, `m/${i}`), h.beta1), tf.mul(g, 1 - h.beta1));
        const v = tf.add(tf.mul(slotOf(slots, `v/${i}`), h.beta2), tf.mul(tf.square(g), 1 - h.beta2));
        out.set(`m/${i}`, m);
        out.set(`v/${i}`, v);
        return tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), h.epsilon));
      });
      return { updates: u, slots: out };
    },
  };
}
