import * as tf from '@tensorflow/tfjs';
import type { AdamHyper } from './scale-by-adam.js';
import { slotOf, type Slots, type StepContext } from './transform.js';
import { nativeAdam, nativeAdamTensors } from '../../backend/index.js';

/**
 * chain(addDecayedWeights(wd), scaleByAdam(h), scaleByLearningRate()) in one pass per tensor over
 * plain arrays, for backends whose tensors live in host memory (wasm, cpu): Kingma & Ba's recursion
 * per element in float64, stored as float32. The ~14 tensor ops per parameter tensor of the chain
 * cost 3.8 ms per lenet-mtl step on wasm (per-op overhead), this 0.2 ms. It is the chain's own
 * arithmetic (test/train/optimizer.test.ts holds them side by side), in the order checkpoints were
 * always written with, so runs stay bit-identical. Where the native kernels run, the same loop runs
 * there (native/kernels.cc `adam`: the same double-precision operations, split between threads), on the
 * wasm backend in place on its memory.
 */
export function fusedHostAdam(
  h: AdamHyper,
  weightDecay: number,
  slots: Slots,
  params: readonly tf.Tensor[],
  grads: readonly tf.Tensor[],
  { step, lr, lrScale }: StepContext,
): { params: tf.Tensor[]; slots: Map<string, tf.Tensor> } {
  const { beta1: b1, beta2: b2, epsilon: eps } = h;
  const c1 = 1 - Math.pow(b1, step);
  const c2 = 1 - Math.pow(b2, step);
  const out: tf.Tensor[] = [];
  const newSlots = new Map<string, tf.Tensor>();
  const native = nativeAdam();
  const inPlace = nativeAdamTensors();
  params.forEach((p, i) => {
    const lrI = lr * (lrScale?.[i] ?? 1);
    if (inPlace) {
      // on the wasm backend's memory: no copies out and back
      const [np, nm, nv] = inPlace(p, grads[i], slotOf(slots, `m/${i}`), slotOf(slots, `v/${i}`), { beta1: b1, beta2: b2, c1, c2, lr: lrI, epsilon: eps, weightDecay });
      out.push(np);
      newSlots.set(`m/${i}`, nm);
      newSlots.set(`v/${i}`, nv);
      return;
    }
    const pv = p.dataSync() as Float32Array;
    const gv = grads[i].dataSync() as Float32Array;
    const mv = slotOf(slots, `m/${i}`).dataSync() as Float32Array;
    const vv = slotOf(slots, `v/${i}`).dataSync() as Float32Array;
    const n = pv.length;
    const np = new Float32Array(n);
    const nm = new Float32Array(n);
    const nv = new Float32Array(n);
    if (native) native(pv, gv, mv, vv, np, nm, nv, { beta1: b1, beta2: b2, c1, c2, lr: lrI, epsilon: eps, weightDecay });
    else for (let q = 0; q < n; q++) {
      const g = weightDecay ? gv[q] + pv[q] * weightDecay : gv[q];
      const m = mv[q] * b1 + g * (1 - b1);
      const v = vv[q] * b2 + g * g * (1 - b2);
      nm[q] = m;
      nv[q] = v;
      np[q] = pv[q] - (m * (lrI / c1)) / (Math.sqrt(v / c2) + eps);
    }
    out.push(tf.tensor(np, p.shape));
    newSlots.set(`m/${i}`, tf.tensor(nm, p.shape));
    newSlots.set(`v/${i}`, tf.tensor(nv, p.shape));
  });
  return { params: out, slots: newSlots };
}
