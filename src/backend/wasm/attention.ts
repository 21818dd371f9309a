import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './memory.js';
import { floatBits, nativeTensors } from './native-tensors.js';
import { nativeAddon, nativeKernelsDecision } from './native.js';

/** Where one of q, k, v lies: `heads` blocks of `dim` columns from `column` of input `input` ([B, T, C]). */
export interface HeadPlace {
  input: number;
  column: number;
}

/** Multi-head attention's shape: H heads of width D, the logits' scale, and where q, k and v lie. */
export interface HeadLayout {
  heads: number;
  dim: number;
  scale: number;
  q: HeadPlace;
  k: HeadPlace;
  v: HeadPlace;
}

/**
 * softmax(scale·QKᵀ)·V per image and head, the heads side by side in the output [B, T, H·D] (head n in
 * columns n·D …): `inputs` are the distinct tensors [B, T, C] that q, k and v are read from.
 */
export type AttentionHeads = (inputs: tf.Tensor[], layout: HeadLayout) => tf.Tensor;

/** Whether the heads of the places on one input cover all its C columns (else its gradient starts from zeros). */
function covers(places: HeadPlace[], width: number, columns: number): boolean {
  const taken = new Uint8Array(columns);
  for (const p of places) taken.fill(1, p.column, p.column + width);
  return taken.every((t) => t === 1);
}

/**
 * Scaled dot-product attention on the native kernels of the wasm backend (else null), read in place from
 * the projections: where a transformer's exported attention takes three slices, three head splits (a
 * reshape and a transpose each), two batched products, a scaling, a softmax and a merge (and the
 * gradient of each: pads, sums, transposes), this is one pass over the heads forward and one back.
 * The gradient is the textbook one (P the softmax, dO the output's gradient):
 *   dV = Pᵀ·dO,  dS = scale·P∘(dO·Vᵀ − rowsum(P∘dO·Vᵀ)),  dQ = dS·K,  dK = dSᵀ·Q,
 * each written into its columns of its input's gradient. The q, k and v places of one input must not
 * overlap (the caller only fuses such layouts). Each head is one thread's work, so the thread count
 * changes no bit.
 */
export function nativeAttention(): AttentionHeads | null {
  const l = nativeAddon();
  if (!l.addon || !nativeKernelsDecision().use || tf.getBackend() !== 'wasm') return null;
  const addon = l.addon;
  const n = nativeTensors(tf.backend() as WasmBackendLike);
  return (inputs, layout) => {
    const { heads: H, dim: D, scale } = layout;
    const places = [layout.q, layout.k, layout.v];
    const B = inputs[0]?.shape[0] ?? 0;
    const T = inputs[0]?.shape[1] ?? 0;
    const width = H * D;
    const bad = !inputs.length || inputs.some((x) => x.dtype !== 'float32' || x.rank !== 3 || x.shape[0] !== B || x.shape[1] !== T);
    if (bad || !(H >= 1 && D >= 1) || places.some((p) => !inputs[p.input] || p.column < 0 || p.column + width > (inputs[p.input].shape[2] ?? 0))) {
      throw new Error('attention: q, k and v must be column blocks of float32 [B, T, C] inputs of one B and T');
    }
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args[args.length - 1];
      const xs = args.slice(0, -1);
      if (typeof save !== 'function' || !xs.every((x): x is tf.Tensor => x instanceof tf.Tensor)) throw new Error('attention: customGrad called without (inputs…, save)');
      const stride = (p: HeadPlace) => xs[p.input].shape[2] ?? 0;
      const at = (ts: tf.Tensor[], p: HeadPlace) => n.offset(ts[p.input]) + 4 * p.column;
      const out = n.output([B, T, width]);
      const probabilities = n.output([B, H, T, T]);
      addon.attention(n.memory(), at(xs, layout.q), at(xs, layout.k), at(xs, layout.v), n.offset(out), n.offset(probabilities), B, H, T, D,
        stride(layout.q), stride(layout.k), stride(layout.v), width, floatBits(scale));
      save([...xs, probabilities]);
      return {
        value: out,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const ins = saved.slice(0, -1);
          const p = saved[saved.length - 1];
          const grads = ins.map((x) => n.output(x.shape));
          grads.forEach((g, i) => {
            const mine = places.filter((q) => q.input === i);
            if (!covers(mine, width, g.shape[2] ?? 0)) new Float32Array(n.memory(), n.offset(g), g.size).fill(0);
          });
          addon.attentionGrad(n.memory(), at(ins, layout.q), at(ins, layout.k), at(ins, layout.v), n.offset(dy), n.offset(p), at(grads, layout.q),
            at(grads, layout.k), at(grads, layout.v), B, H, T, D, stride(layout.q), stride(layout.k), stride(layout.v), width, stride(layout.q),
            stride(layout.k), stride(layout.v), floatBits(scale));
          return grads;
        },
      };
    });
    return f(...inputs);
  };
}
