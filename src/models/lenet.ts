import type { Architecture, ModelSpec } from './types.js';
import { conv2d, dense, flatten, maxPool, relu, trunkAndHeads } from './builtin-graph.js';

/**
 * `lenet-mtl` (the Pareto HyperNetworks layout for 36×36 inputs): conv 9×9×10 → max-pool 2 → ReLU →
 * conv 5×5×20 → max-pool 2 → ReLU → fc →50 → ReLU, then one 50→C head per task.
 */
const lenetTrunk = [conv2d('conv1', 10, 9), maxPool('pool1', 2), relu('relu1'), conv2d('conv2', 20, 5), maxPool('pool2', 2), relu('relu2'), flatten('flatten'), dense('fc', 50, 'relu')];

export const lenetArch: Architecture = {
  name: 'lenet-mtl',
  kerasName: 'lenet_mtl',
  description: 'LeNet trunk (2 conv + fc 50) with one linear head per task, for images',
  spec: (inputShape, numClasses, taskNames, options) => ({ arch: 'lenet-mtl', inputShape, numClasses, taskNames, ...(options.hidden ? { hidden: options.hidden } : {}) }),
  checkSpec(spec: ModelSpec) {
    if (spec.inputShape.length !== 3) return `lenet-mtl needs image input [H,W,C], got [${spec.inputShape.join(',')}]`;
    if (spec.inputShape[0] < 20 || spec.inputShape[1] < 20) return `lenet-mtl needs images of at least 20×20, got ${spec.inputShape.slice(0, 2).join('×')}`;
    if (spec.hidden !== undefined) return 'lenet-mtl has no hidden widths (--hidden is for mlp-mtl)';
    return null;
  },
  graph: (spec) => trunkAndHeads(spec, lenetTrunk),
};
