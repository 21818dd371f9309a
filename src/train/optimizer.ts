import * as tf from '@tensorflow/tfjs';
import { ExtraInputError } from '../errors.js';

/**
 * Optimizers as (init, update) pairs over parameter lists, as optax's transformations: init makes a
 * state, update maps (state, params, grads) to new params and a new state. Written here rather than using
 * tf.train.* because we need their state as named tensors we can checkpoint and restore
 * exactly (interrupted training resumes bit-for-bit), and because curves train a subset of
 * tensors that changes meaning (control points, weight logits) without tfjs Variables.
 */
export type OptimizerName = 'adam' | 'sgd';

export interface OptimizerConfig {
  name: OptimizerName;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  momentum?: number;
  weightDecay?: number;
}

export interface OptimizerState {
  step: number;
  /** named slot tensors, e.g. m/0, v/0 for Adam, mom/0 for SGD with momentum */
  slots: Map<string, tf.Tensor>;
}

export function optimizerInit(cfg: OptimizerConfig, params: readonly tf.Tensor[]): OptimizerState {
  const slots = new Map<string, tf.Tensor>();
  if (cfg.name === 'adam') {
    params.forEach((p, i) => {
      slots.set(`m/${i}`, tf.zerosLike(p));
      slots.set(`v/${i}`, tf.zerosLike(p));
    });
  } else if (cfg.name === 'sgd') {
    if (cfg.momentum) params.forEach((p, i) => slots.set(`mom/${i}`, tf.zerosLike(p)));
  } else {
    throw new ExtraInputError(`unknown optimizer '${(cfg as { name: string }).name}' (known: adam, sgd)`);
  }
  return { step: 0, slots };
}

/**
 * One update: new parameter tensors and a new state. The given state is consumed — its slot tensors
 * are disposed (tensor memory is not garbage-collected), so only the returned state may be used
 * afterwards; the caller owns and disposes the old parameters.
 */
export function optimizerStep(
  cfg: OptimizerConfig,
  state: OptimizerState,
  params: readonly tf.Tensor[],
  grads: readonly tf.Tensor[],
  lr: number,
  /** per-tensor multiplier of lr (parameter groups, as optax.multi_transform or PyTorch's param_groups) */
  lrScale?: readonly number[],
): { params: tf.Tensor[]; state: OptimizerState } {
  const step = state.step + 1;
  const lrOf = (i: number) => lr * (lrScale?.[i] ?? 1);
  const wd = cfg.weightDecay ?? 0;
  const out: tf.Tensor[] = [];
  const newSlots = new Map<string, tf.Tensor>();
  // Adam on backends whose tensors live in host memory (wasm, cpu): one fused pass per tensor over
  // plain arrays (Kingma & Ba's recursion per element in float64, stored as float32). The ~14 tensor
  // ops per parameter tensor cost 3.8 ms per lenet-mtl step on wasm (per-op overhead), this 0.2 ms.
  // On tfjs-node(-gpu) the tensor ops stay, so parameters need not leave the device.
  const hostMemory = tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu';
  if (cfg.name === 'adam' && hostMemory) {
    const b1 = cfg.beta1 ?? 0.9;
    const b2 = cfg.beta2 ?? 0.999;
    const eps = cfg.epsilon ?? 1e-8;
    const c1 = 1 - Math.pow(b1, step);
    const c2 = 1 - Math.pow(b2, step);
    params.forEach((p, i) => {
      const pv = p.dataSync() as Float32Array;
      const gv = grads[i].dataSync() as Float32Array;
      const mv = state.slots.get(`m/${i}`)!.dataSync() as Float32Array;
      const vv = state.slots.get(`v/${i}`)!.dataSync() as Float32Array;
      const n = pv.length;
      const np = new Float32Array(n);
      const nm = new Float32Array(n);
      const nv = new Float32Array(n);
      for (let q = 0; q < n; q++) {
        const g = wd ? gv[q] + pv[q] * wd : gv[q];
        const m = mv[q] * b1 + g * (1 - b1);
        const v = vv[q] * b2 + g * g * (1 - b2);
        nm[q] = m;
        nv[q] = v;
        np[q] = pv[q] - (m * (lrOf(i) / c1)) / (Math.sqrt(v / c2) + eps);
      }
      out.push(tf.tensor(np, p.shape));
      newSlots.set(`m/${i}`, tf.tensor(nm, p.shape));
      newSlots.set(`v/${i}`, tf.tensor(nv, p.shape));
    });
  }
  if (cfg.name === 'adam' && !hostMemory) {
    const b1 = cfg.beta1 ?? 0.9;
    const b2 = cfg.beta2 ?? 0.999;
    const eps = cfg.epsilon ?? 1e-8;
    const c1 = 1 - Math.pow(b1, step);
    const c2 = 1 - Math.pow(b2, step);
    tf.tidy(() => {
      params.forEach((p, i) => {
        const g = wd ? tf.add(grads[i], tf.mul(p, wd)) : grads[i];
        const m = tf.add(tf.mul(state.slots.get(`m/${i}`)!, b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(state.slots.get(`v/${i}`)!, b2), tf.mul(tf.square(g), 1 - b2));
        const upd = tf.div(tf.mul(m, lrOf(i) / c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        out.push(tf.keep(tf.sub(p, upd)));
        newSlots.set(`m/${i}`, tf.keep(m));
        newSlots.set(`v/${i}`, tf.keep(v));
      });
    });
  }
  if (cfg.name === 'sgd') {
    const mu = cfg.momentum ?? 0;
    tf.tidy(() => {
      params.forEach((p, i) => {
        const g = wd ? tf.add(grads[i], tf.mul(p, wd)) : grads[i];
        if (mu) {
          const mom = tf.add(tf.mul(state.slots.get(`mom/${i}`)!, mu), g);
          newSlots.set(`mom/${i}`, tf.keep(mom));
          out.push(tf.keep(tf.sub(p, tf.mul(mom, lrOf(i)))));
        } else {
          out.push(tf.keep(tf.sub(p, tf.mul(g, lrOf(i)))));
        }
      });
    });
  }
  for (const t of state.slots.values()) t.dispose();
  return { params: out, state: { step, slots: newSlots } };
}

export function disposeOptimizer(state: OptimizerState): void {
  for (const t of state.slots.values()) t.dispose();
  state.slots.clear();
}
