import * as tf from '@tensorflow/tfjs';
import { describe, it, expect, beforeAll } from 'vitest';
import { layerKinds } from '../../src/models/graph/kinds.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * The gradients of extra's own layer classes (the ones ONNX networks need, src/models/graph/tensor-kinds.ts)
 * against central finite differences of the same forward: for a loss Σ r·y with fixed random r, the
 * derivative with respect to a few random coordinates of every input and weight. Inputs are drawn away
 * from the kinks of max, ReLU-like clips and absolute values at this step size.
 */
interface Case {
  name: string;
  cls: string;
  config: Record<string, unknown>;
  /** per-sample input shapes (batch 2 is added) */
  inputs: number[][];
  /** a positive input (a divisor, a log) */
  positive?: boolean;
  /** the output does not depend on the input's values (only on the batch size) */
  constantInput?: boolean;
  /** the finite-difference step (smaller where a max or min of two inputs may be close) */
  step?: number;
}

const cases: Case[] = [
  { name: 'grouped, dilated, strided convolution', cls: 'GroupConv2D', config: { filters: 6, kernel_size: [3, 3], strides: [2, 2], dilation_rate: [2, 2], group: 2, use_bias: true }, inputs: [[9, 9, 4]] },
  { name: 'grouped convolution with one channel per group (depthwise form)', cls: 'GroupConv2D', config: { filters: 8, kernel_size: [3, 2], strides: [1, 2], group: 4, use_bias: false }, inputs: [[6, 7, 4]] },
  { name: 'grouped convolution, group 3', cls: 'GroupConv2D', config: { filters: 3, kernel_size: [1, 1], group: 3 }, inputs: [[4, 4, 6]] },
  { name: 'max pooling with padding and ceil_mode', cls: 'Pool2D', config: { mode: 'max', pool_size: [3, 3], strides: [2, 2], pads: [[1, 0], [0, 1]], ceil_extra: [1, 1] }, inputs: [[7, 8, 2]] },
  { name: 'average pooling, ceil_mode, padding not counted', cls: 'Pool2D', config: { mode: 'avg', pool_size: [3, 3], strides: [2, 2], pads: [[1, 1], [1, 1]], ceil_extra: [1, 0] }, inputs: [[6, 7, 2]] },
  { name: 'average pooling, padding counted, dilated', cls: 'Pool2D', config: { mode: 'avg', pool_size: [2, 2], strides: [2, 1], dilation_rate: [2, 2], pads: [[1, 1], [0, 0]], count_include_pad: true }, inputs: [[6, 6, 3]] },
  ...(['add', 'sub', 'mul', 'max', 'min', 'prelu'] as const).map((op) => ({ name: `${op} of two tensors, broadcast`, cls: 'Arithmetic', config: { op }, inputs: [[4, 4, 3], [1, 4, 1]], step: op === 'max' || op === 'min' ? 1e-3 : undefined })),
  { name: 'div of two tensors, broadcast', cls: 'Arithmetic', config: { op: 'div' }, inputs: [[3, 5], [1, 5]], positive: true },
  { name: 'a trained weight times an image (layer scale, NHWC perm)', cls: 'ArithmeticWith', config: { op: 'mul', operand_shape: [3, 1, 1], broadcast_shape: [1, 1, 3], perm: [1, 2, 0] }, inputs: [[4, 5, 3]] },
  { name: 'PRelu slope per channel', cls: 'ArithmeticWith', config: { op: 'prelu', operand_shape: [3], broadcast_shape: [1, 1, 3] }, inputs: [[4, 5, 3]] },
  { name: 'a constant minus a tensor (reverse, fixed values)', cls: 'ArithmeticWith', config: { op: 'sub', operand_shape: [2], broadcast_shape: [1, 2], reverse: true, values: [0.5, -1] }, inputs: [[3, 2]] },
  ...['hard_sigmoid', 'hard_swish', 'softplus', 'selu', 'mish', 'exp', 'abs', 'neg', 'softsign', 'erf', 'square'].map((fn) => ({ name: `Pointwise ${fn}`, cls: 'Pointwise', config: { fn, alpha: fn === 'selu' ? 1.6732632 : 0.2, beta: 0.5, gamma: 1.0507009 }, inputs: [[3, 4]] })),
  ...['log', 'sqrt', 'reciprocal'].map((fn) => ({ name: `Pointwise ${fn}`, cls: 'Pointwise', config: { fn }, inputs: [[3, 4]], positive: true })),
  { name: 'Slice with a step', cls: 'Slice', config: { axis: 2, begin: 1, end: 7, step: 2 }, inputs: [[3, 8, 2]] },
  { name: 'Slice counting down', cls: 'Slice', config: { axis: 1, begin: 4, end: -1, step: -2 }, inputs: [[5, 3]] },
  { name: 'Slice of channels (a contiguous split)', cls: 'Slice', config: { axis: 3, begin: 2, end: 6, step: 1 }, inputs: [[3, 3, 6]] },
  { name: 'Gather of a token (one index, the axis dropped)', cls: 'Gather', config: { axis: 1, indices: [0], indices_shape: [] }, inputs: [[5, 4]] },
  { name: 'Gather of several, repeated', cls: 'Gather', config: { axis: 2, indices: [3, 0, 3, 1], indices_shape: [2, 2] }, inputs: [[2, 4, 3]] },
  ...(['mean', 'sum', 'max', 'min'] as const).map((op) => ({ name: `Reduce ${op}`, cls: 'Reduce', config: { op, axes: [1, 3], keepdims: op !== 'sum' }, inputs: [[3, 2, 4]] })),
  { name: 'Softmax on a middle axis', cls: 'Softmax', config: { axis: 2, log: false }, inputs: [[3, 4, 2]] },
  { name: 'LogSoftmax on the last axis', cls: 'Softmax', config: { axis: -1, log: true }, inputs: [[3, 5]] },
  { name: 'MatMul of two activations (q·kᵀ)', cls: 'MatMul', config: {}, inputs: [[2, 3, 4], [2, 4, 5]] },
  { name: 'MatMul with broadcast leading axes', cls: 'MatMul', config: {}, inputs: [[1, 3, 4], [2, 4, 2]] },
  { name: 'BroadcastTo (Expand of an activation)', cls: 'BroadcastTo', config: { shape: [3, 4] }, inputs: [[1, 4]] },
  { name: 'BroadcastWeight (a class token over the batch)', cls: 'BroadcastWeight', config: { shape: [1, 4], weight_shape: [1, 1, 4] }, inputs: [[5]], constantInput: true },
];

/** Inputs away from 0 (|x| ≥ 0.2) and weights that are not initial values: no kink within the step. */
function draw(shape: number[], seed: number, positive: boolean): tf.Tensor {
  const u = tf.randomUniform(shape, 0.2, 1.2, 'float32', seed);
  if (positive) return u;
  const sign = tf.sign(tf.randomUniform(shape, -1, 1, 'float32', seed + 1000));
  return tf.mul(u, tf.where(tf.equal(sign, 0), tf.onesLike(sign), sign));
}

describe('finite differences agree with the gradients of the ONNX layer classes', () => {
  for (const c of cases) {
    it(c.name, () => {
      const kind = layerKinds[c.cls];
      const cfg = kind.config.parse(c.config);
      const shapes = c.inputs;
      const out = kind.outShape(cfg, shapes, c.name);
      const weights = kind.weights(cfg, shapes);
      const xs = shapes.map((s, i) => draw([2, ...s], 11 + i, c.positive === true));
      const ps = weights.map((w, i) => draw(w.shape, 31 + i, false));
      // a max (pooling, Max, Reduce max) with ties has no derivative: distinct values
      const r = tf.randomNormal([2, ...out], 0, 1, 'float32', 5);
      const loss = (...ts: tf.Tensor[]) => tf.sum(tf.mul(kind.forward(cfg, ts.slice(0, xs.length), ts.slice(xs.length), {}), r)) as tf.Scalar;
      expect(kind.forward(cfg, xs, ps, {}).shape).toEqual([2, ...out]);
      const all = c.constantInput ? ps : [...xs, ...ps];
      const lossOf = c.constantInput ? (...ts: tf.Tensor[]) => loss(...xs, ...ts) : loss;
      const grads = tf.grads(lossOf)(all);
      const h = c.step ?? 1e-2;
      let checked = 0;
      all.forEach((t, k) => {
        const data = t.dataSync();
        const g = grads[k].dataSync();
        for (let q = 0; q < Math.min(6, data.length); q++) {
          const i = (q * 7919 + k * 31) % data.length;
          const at = (d: number) => {
            const v = Float32Array.from(data);
            v[i] += d;
            const moved = all.map((u, j) => (j === k ? tf.tensor(v, u.shape) : u));
            return lossOf(...moved).dataSync()[0];
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          expect(Math.abs(fd - g[i]), `${c.name}: input ${k} [${i}] fd ${fd} vs ${g[i]}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(g[i])));
          checked++;
        }
      });
      expect(checked).toBeGreaterThan(0);
    });
  }
});
