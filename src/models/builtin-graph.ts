import type { GraphLayer, ModelSpec } from './types.js';

/**
 * The few Keras layers the built-in architectures are made of, as graph layers in a chain, and the
 * task heads every built-in shares. Trunk kernels start He-uniform (ReLU trunks), heads Glorot-
 * uniform. A parameter name with a dot (`trunk.0.weight`, `heads.1.bias`, the names of checkpoints
 * and of the PyTorch twins in scripts/torch_models.py) lives on a layer named with '_' instead,
 * since Keras layer names cannot hold dots.
 */

export type ChainLayer = Omit<GraphLayer, 'inputs'>;

const he = { class_name: 'HeUniform', config: {} };
const named = (param: string, keras: string): Pick<GraphLayer, 'name' | 'weightNames'> =>
  param === keras ? { name: keras } : { name: keras, weightNames: [`${param}.weight`, `${param}.bias`] };
const kerasNameOf = (param: string) => param.replace(/\./g, '_');

export const conv2d = (name: string, filters: number, kernel: number, opts: { padding?: 'same'; activation?: 'relu' } = {}): ChainLayer => ({ ...named(name, kerasNameOf(name)), class: 'Conv2D', config: { filters, kernel_size: kernel, kernel_initializer: he, ...opts } });
export const upSample = (name: string, size: number, interpolation: 'nearest' | 'bilinear' = 'nearest'): ChainLayer => ({ name, class: 'UpSampling2D', config: { size, interpolation } });
export const convTranspose = (name: string, filters: number, kernel: number, stride: number, activation: 'relu' | 'linear' = 'linear'): ChainLayer => ({ ...named(name, kerasNameOf(name)), class: 'Conv2DTranspose', config: { filters, kernel_size: kernel, strides: stride, padding: 'same', activation, kernel_initializer: he } });
export const maxPool = (name: string, pool: number): ChainLayer => ({ name, class: 'MaxPooling2D', config: { pool_size: pool } });
export const relu = (name: string): ChainLayer => ({ name, class: 'Activation', config: { activation: 'relu' } });
export const flatten = (name: string): ChainLayer => ({ name, class: 'Flatten', config: {} });
export const dense = (name: string, units: number, activation: 'relu' | 'linear' = 'linear'): ChainLayer => ({ ...named(name, kerasNameOf(name)), class: 'Dense', config: { units, activation, kernel_initializer: he } });

/** Layers in a chain: each reads the one before it, the first reads the input. */
export function chain(input: string, layers: readonly ChainLayer[]): GraphLayer[] {
  return layers.map((l, i) => ({ ...l, inputs: [i === 0 ? input : layers[i - 1].name] }));
}

/** One linear head per task on `features`: parameters heads.k.weight [features, C_k], heads.k.bias [C_k]. */
export function taskHeads(spec: ModelSpec, features: string): GraphLayer[] {
  return spec.numClasses.map((units, k) => ({
    name: `head_${k}_${(spec.taskNames[k] ?? String(k)).replace(/[^A-Za-z0-9_]/g, '_')}`,
    class: 'Dense',
    config: { units },
    inputs: [features],
    weightNames: [`heads.${k}.weight`, `heads.${k}.bias`],
  }));
}

/** One per-pixel head per task on an image `features`: a 'same' k×k conv with that task's channels (heads.k.weight [k,k,F,C_k]), output [H,W,C_k]. */
export function pixelHeads(spec: ModelSpec, features: string, kernel: number): GraphLayer[] {
  return spec.numClasses.map((filters, k) => ({
    name: `head_${k}_${(spec.taskNames[k] ?? String(k)).replace(/[^A-Za-z0-9_]/g, '_')}`,
    class: 'Conv2D',
    config: { filters, kernel_size: kernel, padding: 'same' },
    inputs: [features],
    weightNames: [`heads.${k}.weight`, `heads.${k}.bias`],
  }));
}

/** A built-in model: a chain trunk on the input, then the task heads on its last layer. */
export function trunkAndHeads(spec: ModelSpec, trunk: readonly ChainLayer[]): { input: string; layers: GraphLayer[]; outputs: string[] } {
  const layers = chain('input', trunk);
  const heads = taskHeads(spec, layers.length ? layers[layers.length - 1].name : 'input');
  return { input: 'input', layers: [...layers, ...heads], outputs: heads.map((h) => h.name) };
}
