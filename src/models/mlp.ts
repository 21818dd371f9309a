import * as tf from '@tensorflow/tfjs';
import type { Architecture, ModelSpec, ParamSpec } from './types.js';

const hiddenOf = (spec: ModelSpec): number[] => spec.hidden ?? [];

/** `mlp-mtl`: flattened input → shared ReLU trunk (spec.hidden) → one linear head per task. */
export const mlpArch: Architecture = {
  name: 'mlp-mtl',
  description: 'ReLU MLP trunk (--hidden widths, default 256,256) with one linear head per task',
  spec: (inputShape, numClasses, taskNames, options) => ({ arch: 'mlp-mtl', inputShape, hidden: options.hidden ?? [256, 256], numClasses, taskNames }),
  checkSpec: (spec) => (spec.hidden === undefined ? 'mlp-mtl needs its hidden widths' : null),
  trunkParams(spec): ParamSpec[] {
    const params: ParamSpec[] = [];
    let prev = spec.inputShape.reduce((a, b) => a * b, 1);
    hiddenOf(spec).forEach((h, i) => {
      params.push({ name: `trunk.${i}.weight`, shape: [prev, h], init: 'he-uniform', shared: true });
      params.push({ name: `trunk.${i}.bias`, shape: [h], init: 'zeros', shared: true });
      prev = h;
    });
    return params;
  },
  features: (spec) => {
    const h = hiddenOf(spec);
    return h.length ? h[h.length - 1] : spec.inputShape.reduce((a, b) => a * b, 1);
  },
  trunk(spec, p, x) {
    let h = x.reshape([x.shape[0], -1]) as tf.Tensor2D;
    for (let i = 0; i < hiddenOf(spec).length; i++) h = tf.relu(tf.add(tf.matMul(h, p[2 * i] as tf.Tensor2D), p[2 * i + 1])) as tf.Tensor2D;
    return h;
  },
  trunkLayers: (spec) => [
    ...(spec.inputShape.length > 1 ? [tf.layers.flatten({ name: 'flatten' })] : []),
    ...hiddenOf(spec).map((units, i) => tf.layers.dense({ name: `trunk_${i}`, units, activation: 'relu' })),
  ],
};
