import * as tf from '@tensorflow/tfjs';
import { initParamValues, type FunctionalModel, type ParamSpec } from '../models/index.js';

/**
 * A Pareto hypernetwork (PHN, Navon et al., ICLR 2021) for a functional model: a preference ray
 * r (K entries) goes through an MLP (K → h → h → h, ReLU between, as their LeNet hypernetwork with
 * ray_hidden_dim 100) and one linear head per target parameter maps the last hidden layer to that
 * parameter's values, so θ(r) feeds the same `forward(params, x)` a curve's C(t) does. Its own
 * parameters are a plain tensor list (ParamSpec shapes below).
 *
 * Initialisation: the MLP and the heads' matrices Glorot-uniform; each head's bias is the target
 * model's own initial value of that parameter, so θ(r) starts near a well-scaled model for every r
 * (the authors' code starts from PyTorch's default init instead; ours keeps LeNet's He scaling).
 */
export interface HyperNetSpec {
  hidden: number;
}

export const hyperNetDefaults: HyperNetSpec = { hidden: 100 };

export function hyperParamSpecs(model: FunctionalModel, spec: HyperNetSpec = hyperNetDefaults): ParamSpec[] {
  const K = model.spec.numClasses.length;
  const h = spec.hidden;
  const mlp: ParamSpec[] = [
    [K, h],
    [h, h],
    [h, h],
  ].flatMap(([a, b], i): ParamSpec[] => [
    { name: `ray.${i}.weight`, shape: [a, b], init: 'glorot-uniform', shared: true },
    { name: `ray.${i}.bias`, shape: [b], init: 'zeros', shared: true },
  ]);
  const heads = model.params.flatMap((p): ParamSpec[] => {
    const size = p.shape.reduce((a, b) => a * b, 1);
    return [
      { name: `head.${p.name}.weight`, shape: [h, size], init: 'glorot-uniform', shared: true },
      { name: `head.${p.name}.bias`, shape: [size], init: 'zeros', shared: true },
    ];
  });
  return [...mlp, ...heads];
}

/** Initial values (see above): seeded, identical on every backend. */
export function initHyperNet(model: FunctionalModel, seed: number, spec: HyperNetSpec = hyperNetDefaults): Float32Array[] {
  const specs = hyperParamSpecs(model, spec);
  const values = initParamValues(specs, seed);
  const target = initParamValues(model.params, seed);
  model.params.forEach((_, i) => (values[6 + 2 * i + 1] = target[i]));
  return values;
}

/** θ(r): the target model's parameters for ray r (a plain array of K numbers). */
export function hyperForward(model: FunctionalModel, hyper: readonly tf.Tensor[], ray: readonly number[]): tf.Tensor[] {
  let z: tf.Tensor = tf.tensor2d([ray as number[]]);
  for (let i = 0; i < 3; i++) {
    z = tf.add(tf.matMul(z as tf.Tensor2D, hyper[2 * i] as tf.Tensor2D), hyper[2 * i + 1]);
    if (i < 2) z = tf.relu(z);
  }
  return model.params.map((p, i) => tf.add(tf.matMul(z as tf.Tensor2D, hyper[6 + 2 * i] as tf.Tensor2D), hyper[6 + 2 * i + 1]).reshape(p.shape));
}
