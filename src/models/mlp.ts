import type { Architecture } from './types.js';
import type { TrunkLayer } from './sequential.js';

/** `mlp-mtl`: flattened input → shared ReLU trunk (spec.hidden) → one linear head per task. */
export const mlpArch: Architecture = {
  name: 'mlp-mtl',
  description: 'ReLU MLP trunk (--hidden widths, default 256,256) with one linear head per task',
  spec: (inputShape, numClasses, taskNames, options) => ({ arch: 'mlp-mtl', inputShape, hidden: options.hidden ?? [256, 256], numClasses, taskNames }),
  checkSpec: (spec) => (spec.hidden === undefined ? 'mlp-mtl needs its hidden widths' : null),
  trunk: (spec): TrunkLayer[] => [
    ...(spec.inputShape.length > 1 ? [{ kind: 'flatten', name: 'flatten' } as const] : []),
    ...(spec.hidden ?? []).map((units, i): TrunkLayer => ({ kind: 'dense', name: `trunk.${i}`, units, activation: 'relu' })),
  ],
};
