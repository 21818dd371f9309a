import * as tf from '@tensorflow/tfjs';
import type { FunctionalModel, LenetSpec, ParamSpec } from './types.js';

/**
 * `lenet-mtl` (the Pareto HyperNetworks layout for 36×36 inputs):
 * conv 9×9×10 → max-pool 2 → ReLU → conv 5×5×20 → max-pool 2 → ReLU → fc →50 → ReLU → one
 * 50→C head per task. Layouts are tfjs/Keras ones (conv kernel [kh,kw,in,out], dense [in,out])
 * so that a parameter list maps one-to-one onto a tfjs LayersModel.
 */
export function lenetShapes(spec: LenetSpec): { conv1Out: number[]; conv2Out: number[]; flat: number } {
  const [h, w] = spec.inputShape;
  const h1 = Math.floor((h - 9 + 1) / 2);
  const w1 = Math.floor((w - 9 + 1) / 2);
  const h2 = Math.floor((h1 - 5 + 1) / 2);
  const w2 = Math.floor((w1 - 5 + 1) / 2);
  return { conv1Out: [h1, w1, 10], conv2Out: [h2, w2, 20], flat: h2 * w2 * 20 };
}

export function lenetParams(spec: LenetSpec): ParamSpec[] {
  const inC = spec.inputShape[2];
  const { flat } = lenetShapes(spec);
  const params: ParamSpec[] = [
    { name: 'conv1.weight', shape: [9, 9, inC, 10], init: 'he-uniform', shared: true },
    { name: 'conv1.bias', shape: [10], init: 'zeros', shared: true },
    { name: 'conv2.weight', shape: [5, 5, 10, 20], init: 'he-uniform', shared: true },
    { name: 'conv2.bias', shape: [20], init: 'zeros', shared: true },
    { name: 'fc.weight', shape: [flat, 50], init: 'he-uniform', shared: true },
    { name: 'fc.bias', shape: [50], init: 'zeros', shared: true },
  ];
  spec.numClasses.forEach((c, k) => {
    params.push({ name: `heads.${k}.weight`, shape: [50, c], init: 'glorot-uniform', shared: false, task: k });
    params.push({ name: `heads.${k}.bias`, shape: [c], init: 'zeros', shared: false, task: k });
  });
  return params;
}

export function makeLenet(spec: LenetSpec): FunctionalModel {
  const params = lenetParams(spec);
  return {
    spec,
    params,
    forward(p, x) {
      const x4 = x.rank === 4 ? (x as tf.Tensor4D) : x.reshape([-1, ...spec.inputShape]) as tf.Tensor4D;
      let h = tf.conv2d(x4, p[0] as tf.Tensor4D, 1, 'valid');
      h = tf.add(h, p[1]);
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(h);
      h = tf.conv2d(h, p[2] as tf.Tensor4D, 1, 'valid');
      h = tf.add(h, p[3]);
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(h);
      const flat = h.reshape([h.shape[0], -1]) as tf.Tensor2D;
      const z = tf.relu(tf.add(tf.matMul(flat, p[4] as tf.Tensor2D), p[5])) as tf.Tensor2D;
      return spec.numClasses.map(
        (_, k) => tf.add(tf.matMul(z, p[6 + 2 * k] as tf.Tensor2D), p[7 + 2 * k]) as tf.Tensor2D,
      );
    },
  };
}
