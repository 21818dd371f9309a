import { ExtraInputError } from '../errors.js';
import { makeLenet } from './lenet.js';
import { makeMlp } from './mlp.js';
import type { FunctionalModel, ModelSpec } from './types.js';

export type { FunctionalModel, ModelSpec, LenetSpec, MlpSpec, ParamSpec, InitKind } from './types.js';
export { initParams, initParamValues } from './init.js';
export { lenetShapes } from './lenet.js';
export { toLayersModel, saveLayersModel, loadLayersModelFromDir, paramsToPytorchStateDict } from './layers.js';

export const modelArchs = ['lenet-mtl', 'mlp-mtl'] as const;

export function buildModel(spec: ModelSpec): FunctionalModel {
  switch (spec.arch) {
    case 'lenet-mtl':
      return makeLenet(spec);
    case 'mlp-mtl':
      return makeMlp(spec);
    default:
      throw new ExtraInputError(`unknown model architecture '${(spec as { arch: string }).arch}' (known: ${modelArchs.join(', ')})`);
  }
}

/** The default spec of an architecture for a data set's input shape and classes. */
export function defaultModelSpec(
  arch: string,
  inputShape: number[],
  numClasses: number[],
  taskNames: string[],
  hidden: number[] = [256, 256],
): ModelSpec {
  if (arch === 'lenet-mtl') {
    if (inputShape.length !== 3) throw new ExtraInputError(`lenet-mtl needs image input [H,W,C], got [${inputShape.join(',')}]`);
    return { arch, inputShape: inputShape as [number, number, number], numClasses, taskNames };
  }
  if (arch === 'mlp-mtl') return { arch, inputShape, hidden, numClasses, taskNames };
  throw new ExtraInputError(`unknown model architecture '${arch}' (known: ${modelArchs.join(', ')})`);
}
