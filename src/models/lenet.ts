import * as tf from '@tensorflow/tfjs';
import type { Architecture, ModelSpec, ParamSpec } from './types.js';

/**
 * `lenet-mtl` (the Pareto HyperNetworks layout for 36×36 inputs):
 * conv 9×9×10 → max-pool 2 → ReLU → conv 5×5×20 → max-pool 2 → ReLU → fc →50 → ReLU, then one
 * 50→C head per task. Layouts are tfjs/Keras ones (conv kernel [kh,kw,in,out], dense [in,out]).
 */
export function lenetShapes(spec: ModelSpec): { conv1Out: number[]; conv2Out: number[]; flat: number } {
  const [h, w] = spec.inputShape;
  const h1 = Math.floor((h - 9 + 1) / 2);
  const w1 = Math.floor((w - 9 + 1) / 2);
  const h2 = Math.floor((h1 - 5 + 1) / 2);
  const w2 = Math.floor((w1 - 5 + 1) / 2);
  return { conv1Out: [h1, w1, 10], conv2Out: [h2, w2, 20], flat: h2 * w2 * 20 };
}

function checkLenet(spec: ModelSpec): string | null {
  if (spec.inputShape.length !== 3) return `lenet-mtl needs image input [H,W,C], got [${spec.inputShape.join(',')}]`;
  if (lenetShapes(spec).flat <= 0) return `lenet-mtl needs images of at least 20×20, got ${spec.inputShape.slice(0, 2).join('×')}`;
  if (spec.hidden !== undefined) return 'lenet-mtl has no hidden widths (--hidden is for mlp-mtl)';
  return null;
}

export const lenetArch: Architecture = {
  name: 'lenet-mtl',
  description: 'LeNet trunk (2 conv + fc 50) with one linear head per task, for images',
  spec(inputShape, numClasses, taskNames, options) {
    const spec: ModelSpec = { arch: 'lenet-mtl', inputShape, numClasses, taskNames, ...(options.hidden ? { hidden: options.hidden } : {}) };
    return spec;
  },
  checkSpec: checkLenet,
  trunkParams(spec): ParamSpec[] {
    const inC = spec.inputShape[2];
    const { flat } = lenetShapes(spec);
    return [
      { name: 'conv1.weight', shape: [9, 9, inC, 10], init: 'he-uniform', shared: true },
      { name: 'conv1.bias', shape: [10], init: 'zeros', shared: true },
      { name: 'conv2.weight', shape: [5, 5, 10, 20], init: 'he-uniform', shared: true },
      { name: 'conv2.bias', shape: [20], init: 'zeros', shared: true },
      { name: 'fc.weight', shape: [flat, 50], init: 'he-uniform', shared: true },
      { name: 'fc.bias', shape: [50], init: 'zeros', shared: true },
    ];
  },
  features: () => 50,
  trunk(spec, p, x) {
    const x4 = x.rank === 4 ? (x as tf.Tensor4D) : (x.reshape([-1, ...spec.inputShape]) as tf.Tensor4D);
    let h = tf.conv2d(x4, p[0] as tf.Tensor4D, 1, 'valid');
    h = tf.add(h, p[1]);
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.relu(h);
    h = tf.conv2d(h, p[2] as tf.Tensor4D, 1, 'valid');
    h = tf.add(h, p[3]);
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.relu(h);
    const flat = h.reshape([h.shape[0], -1]) as tf.Tensor2D;
    return tf.relu(tf.add(tf.matMul(flat, p[4] as tf.Tensor2D), p[5])) as tf.Tensor2D;
  },
  trunkLayers: () => [
    tf.layers.conv2d({ name: 'conv1', filters: 10, kernelSize: 9, padding: 'valid' }),
    tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2, strides: 2 }),
    tf.layers.activation({ name: 'relu1', activation: 'relu' }),
    tf.layers.conv2d({ name: 'conv2', filters: 20, kernelSize: 5, padding: 'valid' }),
    tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2, strides: 2 }),
    tf.layers.activation({ name: 'relu2', activation: 'relu' }),
    tf.layers.flatten({ name: 'flatten' }),
    tf.layers.dense({ name: 'fc', units: 50, activation: 'relu' }),
  ],
  pytorchValue(spec, name, value) {
    if (name !== 'fc.weight') return null;
    // rows are (h,w,c)-ordered features; PyTorch's x.view(B, -1) after the convs flattens (c,h,w)
    const [h, w, c] = lenetShapes(spec).conv2Out;
    return value.reshape([h, w, c, -1]).transpose([2, 0, 1, 3]).reshape([h * w * c, -1]).transpose();
  },
};
