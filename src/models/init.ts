import * as tf from '@tensorflow/tfjs';
import { makeRng, deriveSeed } from '../util/rng.js';
import type { ParamSpec } from './types.js';

/** fan-in / fan-out for dense [in,out] and conv [kh,kw,in,out] layouts. */
function fans(shape: number[]): [number, number] {
  if (shape.length === 2) return [shape[0], shape[1]];
  if (shape.length === 4) {
    const rf = shape[0] * shape[1];
    return [rf * shape[2], rf * shape[3]];
  }
  const n = shape.reduce((a, b) => a * b, 1);
  return [n, n];
}

/** Initial values from our own seeded generator, identical on every backend. */
export function initParamValues(specs: ParamSpec[], seed: number): Float32Array[] {
  return specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    if (s.init === 'zeros') return out;
    if (s.init === 'ones') return out.fill(1);
    const rng = makeRng(deriveSeed(seed, `init/${s.name}`));
    const [fanIn, fanOut] = fans(s.shape);
    const limit = s.init === 'he-uniform' ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * limit;
    return out;
  });
}

export function initParams(specs: ParamSpec[], seed: number): tf.Tensor[] {
  return initParamValues(specs, seed).map((v, i) => tf.tensor(v, specs[i].shape));
}
