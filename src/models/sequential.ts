import * as tf from '@tensorflow/tfjs';
import { ExtraInputError } from '../errors.js';
import type { ParamSpec, TrunkLayer } from './types.js';
import { activate, spatialOut } from './ops.js';
export type { TrunkActivation, TrunkLayer } from './types.js';

/**
 * A trunk as a list of layers — the one definition an architecture gives. Its parameters, its pure
 * forward, the same trunk as tfjs layers (checkpoints tf.loadLayersModel reads) and the PyTorch
 * layout of its parameters are all derived from this list, so they cannot disagree.
 * Layouts are tfjs/Keras ones: conv kernel [kh,kw,in,out], dense [in,out], images NHWC.
 */
/**
 * Parameter names are `${paramName}.weight` / `.bias` (the checkpoint names); the tfjs layer is named
 * `layer.name` with '.' → '_' (Keras names cannot hold dots).
 */
const paramName = (l: TrunkLayer) => l.name;
const kerasName = (l: TrunkLayer) => l.name.replace(/\./g, '_');

/** The shape after each layer (without the batch axis), starting from the input shape. */
export function trunkShapes(layers: readonly TrunkLayer[], inputShape: readonly number[]): number[][] {
  const shapes: number[][] = [[...inputShape]];
  let s = [...inputShape];
  for (const l of layers) {
    switch (l.kind) {
      case 'conv2d': {
        if (s.length !== 3) throw new ExtraInputError(`layer ${l.name}: conv2d needs [H,W,C] input, got [${s.join(',')}]`);
        const st = l.strides ?? 1;
        const p = l.padding ?? 'valid';
        s = [spatialOut(s[0], l.kernel, st, p), spatialOut(s[1], l.kernel, st, p), l.filters];
        break;
      }
      case 'maxPool': {
        if (s.length !== 3) throw new ExtraInputError(`layer ${l.name}: max-pool needs [H,W,C] input, got [${s.join(',')}]`);
        const st = l.strides ?? l.pool;
        s = [spatialOut(s[0], l.pool, st, 'valid'), spatialOut(s[1], l.pool, st, 'valid'), s[2]];
        break;
      }
      case 'flatten':
        s = [s.reduce((a, b) => a * b, 1)];
        break;
      case 'dense':
        if (s.length !== 1) throw new ExtraInputError(`layer ${l.name}: dense needs flat input, got [${s.join(',')}] (add a flatten)`);
        s = [l.units];
        break;
      case 'activation':
        break;
    }
    if (s.some((d) => !(d > 0))) throw new ExtraInputError(`layer ${l.name}: the input [${inputShape.join(',')}] is too small (output [${s.join(',')}])`);
    shapes.push(s);
  }
  return shapes;
}

/** The trunk's parameters in forward order. */
export function trunkParamSpecs(layers: readonly TrunkLayer[], inputShape: readonly number[]): ParamSpec[] {
  const shapes = trunkShapes(layers, inputShape);
  return layers.flatMap((l, i): ParamSpec[] => {
    const inS = shapes[i];
    if (l.kind === 'conv2d') {
      return [
        { name: `${paramName(l)}.weight`, shape: [l.kernel, l.kernel, inS[2], l.filters], init: 'he-uniform', shared: true },
        { name: `${paramName(l)}.bias`, shape: [l.filters], init: 'zeros', shared: true },
      ];
    }
    if (l.kind === 'dense') {
      return [
        { name: `${paramName(l)}.weight`, shape: [inS[0], l.units], init: 'he-uniform', shared: true },
        { name: `${paramName(l)}.bias`, shape: [l.units], init: 'zeros', shared: true },
      ];
    }
    return [];
  });
}


/** The trunk's forward pass: parameters (trunkParamSpecs order) and a batch → features [batch, width]. */
export function trunkForward(layers: readonly TrunkLayer[], inputShape: readonly number[], params: readonly tf.Tensor[], x: tf.Tensor): tf.Tensor2D {
  let h: tf.Tensor = x.rank === inputShape.length + 1 ? x : x.reshape([-1, ...inputShape]);
  let p = 0;
  for (const l of layers) {
    switch (l.kind) {
      case 'conv2d':
        h = activate(tf.add(tf.conv2d(h as tf.Tensor4D, params[p] as tf.Tensor4D, l.strides ?? 1, l.padding ?? 'valid'), params[p + 1]), l.activation ?? 'linear');
        p += 2;
        break;
      case 'maxPool':
        h = tf.maxPool(h as tf.Tensor4D, l.pool, l.strides ?? l.pool, 'valid');
        break;
      case 'activation':
        h = activate(h, l.fn);
        break;
      case 'flatten':
        h = h.reshape([h.shape[0], -1]);
        break;
      case 'dense':
        h = activate(tf.add(tf.matMul(h as tf.Tensor2D, params[p] as tf.Tensor2D), params[p + 1]), l.activation ?? 'linear');
        p += 2;
        break;
    }
  }
  if (h.rank !== 2) h = h.reshape([h.shape[0], -1]);
  return h as tf.Tensor2D;
}

/** The same trunk as tfjs layers, applied in order (their weights in trunkParamSpecs order). */
export function trunkTfjsLayers(layers: readonly TrunkLayer[]): tf.layers.Layer[] {
  return layers.map((l) => {
    const name = kerasName(l);
    switch (l.kind) {
      case 'conv2d':
        // the initializer is the one trunkParamSpecs uses, so the topology says how the trunk starts
        return tf.layers.conv2d({ name, kernelInitializer: 'heUniform', filters: l.filters, kernelSize: l.kernel, strides: l.strides ?? 1, padding: l.padding ?? 'valid', ...(l.activation && l.activation !== 'linear' ? { activation: l.activation } : {}) });
      case 'maxPool':
        return tf.layers.maxPooling2d({ name, poolSize: l.pool, strides: l.strides ?? l.pool });
      case 'activation':
        return tf.layers.activation({ name, activation: l.fn });
      case 'flatten':
        return tf.layers.flatten({ name });
      case 'dense':
        return tf.layers.dense({ name, kernelInitializer: 'heUniform', units: l.units, ...(l.activation && l.activation !== 'linear' ? { activation: l.activation } : {}) });
    }
  });
}

/**
 * For each trunk parameter, the [h, w, c] of the image a dense weight reads through a flatten, or
 * null: PyTorch flattens NCHW where tfjs flattens NHWC, so those rows are reordered on export.
 */
export function flattenedImageOf(layers: readonly TrunkLayer[], inputShape: readonly number[]): ([number, number, number] | null)[] {
  const shapes = trunkShapes(layers, inputShape);
  const out: ([number, number, number] | null)[] = [];
  let image: [number, number, number] | null = null;
  layers.forEach((l, i) => {
    if (l.kind === 'flatten') image = shapes[i].length === 3 ? [shapes[i][0], shapes[i][1], shapes[i][2]] : null;
    else if (l.kind === 'dense') {
      out.push(image, null);
      image = null;
    } else if (l.kind === 'conv2d') out.push(null, null);
  });
  return out;
}
