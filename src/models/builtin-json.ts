import * as tf from '@tensorflow/tfjs';
import { defaultModelSpec } from './registry.js';
import { toLayersModel } from './layers.js';
import type { ModelSpec } from './types.js';

/**
 * The built-in architectures shipped as tfjs-layers model.json topologies (examples/builtin/ARCH.model.json),
 * the format a user's own model comes in (`extra train --model-json`): each for the multi-* sets (36×36×1 inputs,
 * two 10-class tasks). test/models/builtin-json.test.ts checks the shipped files are current and compute what the
 * built-ins compute, and rewrites them with EXTRA_UPDATE_FIXTURES=1.
 */
export const shippedBuiltinModels: readonly { arch: string; hidden?: readonly number[] }[] = [{ arch: 'lenet-mtl' }, { arch: 'mlp-mtl', hidden: [256, 256] }];

/** The spec of a shipped built-in: the multi-* sets' inputs and tasks. */
export function shippedBuiltinSpec(arch: string, hidden?: readonly number[]): ModelSpec {
  return defaultModelSpec(arch, [36, 36, 1], [10, 10], ['top-left', 'bottom-right'], hidden ? [...hidden] : undefined);
}

export interface BuiltinModelJson {
  format: 'layers-model';
  generatedBy: string;
  /** tfjs-layers' own topology of the model (LayersModel.toJSON), as plain JSON */
  modelTopology: unknown;
}

/** A shipped built-in's model.json: the topology tfjs-layers writes for the architecture's layers. */
export function builtinModelJson(arch: string, hidden?: readonly number[]): BuiltinModelJson {
  const model = toLayersModel(shippedBuiltinSpec(arch, hidden));
  try {
    const topology = model.toJSON(null, false);
    // through JSON text: the plain data a file holds (no undefined fields, no class instances)
    const modelTopology: unknown = JSON.parse(typeof topology === 'string' ? topology : JSON.stringify(topology));
    return { format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`, modelTopology };
  } finally {
    model.dispose();
  }
}

/** The file text of a shipped built-in's model.json (one-space indents, a final newline). */
export function builtinModelJsonText(arch: string, hidden?: readonly number[]): string {
  return JSON.stringify(builtinModelJson(arch, hidden), null, 1) + '\n';
}
