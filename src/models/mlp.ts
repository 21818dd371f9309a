import type { Architecture } from './types.js';
import { dense, flatten, trunkAndHeads } from './builtin-graph.js';

/** `mlp-mtl`: flattened input → shared ReLU trunk (spec.hidden) → one linear head per task. */
export const mlpArch: Architecture = {
  name: 'mlp-mtl',
  kerasName: 'mlp_mtl',
  description: 'ReLU MLP trunk (--hidden widths, default 256,256) with one linear head per task',
  spec: (inputShape, numClasses, taskNames, options) => ({ arch: 'mlp-mtl', inputShape, hidden: options.hidden ?? [256, 256], numClasses, taskNames }),
  checkSpec: (spec) => (spec.hidden === undefined ? 'mlp-mtl needs its hidden widths' : null),
  graph: (spec) =>
    trunkAndHeads(spec, [...(spec.inputShape.length > 1 ? [flatten('flatten')] : []), ...(spec.hidden ?? []).map((units, i) => dense(`trunk.${i}`, units, 'relu'))]),
};
