import * as tf from '@tensorflow/tfjs';
import type { FunctionalModel, MlpSpec, ParamSpec } from './types.js';

/** `mlp-mtl`: flattened input → shared ReLU trunk (spec.hidden) → one linear head per task. */
export function mlpParams(spec: MlpSpec): ParamSpec[] {
  const inDim = spec.inputShape.reduce((a, b) => a * b, 1);
  const params: ParamSpec[] = [];
  let prev = inDim;
  spec.hidden.forEach((h, i) => {
    params.push({ name: `trunk.${i}.weight`, shape: [prev, h], init: 'he-uniform', shared: true });
    params.push({ name: `trunk.${i}.bias`, shape: [h], init: 'zeros', shared: true });
    prev = h;
  });
  spec.numClasses.forEach((c, k) => {
    params.push({ name: `heads.${k}.weight`, shape: [prev, c], init: 'glorot-uniform', shared: false, task: k });
    params.push({ name: `heads.${k}.bias`, shape: [c], init: 'zeros', shared: false, task: k });
  });
  return params;
}

export function makeMlp(spec: MlpSpec): FunctionalModel {
  const params = mlpParams(spec);
  const nHidden = spec.hidden.length;
  return {
    spec,
    params,
    forward(p, x) {
      let h = x.reshape([x.shape[0], -1]) as tf.Tensor2D;
      for (let i = 0; i < nHidden; i++) {
        h = tf.relu(tf.add(tf.matMul(h, p[2 * i] as tf.Tensor2D), p[2 * i + 1])) as tf.Tensor2D;
      }
      const base = 2 * nHidden;
      return spec.numClasses.map(
        (_, k) => tf.add(tf.matMul(h, p[base + 2 * k] as tf.Tensor2D), p[base + 2 * k + 1]) as tf.Tensor2D,
      );
    },
  };
}
