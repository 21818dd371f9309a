import type { Architecture, ModelSpec } from './types.js';
import { taskKind } from '../tasks/index.js';
import { chain, conv2d, maxPool, pixelHeads, upSample } from './builtin-graph.js';

/**
 * `segnet-mtl`: a small SegNet-style encoder-decoder for per-pixel tasks (segmentation, depth,
 * normals). Encoder: 3×3 'same' conv 16 + ReLU → max-pool 2 → conv 32 + ReLU → max-pool 2 → conv 32 +
 * ReLU; decoder: nearest ×2 → conv 16 + ReLU → nearest ×2 → conv 16 + ReLU, back at the input's H×W;
 * then one 3×3 'same' conv head per task with that task's channels (classes; 1 for depth; 3 for
 * normals), output [H,W,C]. No BatchNorm (the per-point statistics stay out of the small default).
 */
const segnetTrunk = [
  conv2d('enc.0', 16, 3, { padding: 'same', activation: 'relu' }),
  maxPool('pool1', 2),
  conv2d('enc.1', 32, 3, { padding: 'same', activation: 'relu' }),
  maxPool('pool2', 2),
  conv2d('enc.2', 32, 3, { padding: 'same', activation: 'relu' }),
  upSample('up1', 2),
  conv2d('dec.0', 16, 3, { padding: 'same', activation: 'relu' }),
  upSample('up2', 2),
  conv2d('dec.1', 16, 3, { padding: 'same', activation: 'relu' }),
];

export const segnetArch: Architecture = {
  name: 'segnet-mtl',
  kerasName: 'segnet_mtl',
  description: 'small SegNet-style encoder-decoder (2 max-pools, nearest upsampling) with one 3×3 per-pixel conv head per task, for dense prediction',
  spec: (inputShape, numClasses, taskNames, options) => ({ arch: 'segnet-mtl', inputShape, numClasses, taskNames, ...(options.hidden ? { hidden: options.hidden } : {}) }),
  checkSpec(spec: ModelSpec) {
    const [h, w] = spec.inputShape;
    if (spec.inputShape.length !== 3) return `segnet-mtl needs image input [H,W,C], got [${spec.inputShape.join(',')}]`;
    if (h % 4 !== 0 || w % 4 !== 0 || h < 8 || w < 8) return `segnet-mtl needs an H×W that are multiples of 4 and at least 8 (two 2×2 pools and back), got ${h}×${w}`;
    if (spec.hidden !== undefined) return 'segnet-mtl has no hidden widths (--hidden is for mlp-mtl)';
    const perSample = spec.taskNames.filter((_, k) => !spec.losses || !taskKind(spec.losses[k]).perPixel);
    if (perSample.length) return `segnet-mtl predicts per pixel; task(s) ${perSample.join(', ')} have one label per sample (use lenet-mtl or mlp-mtl, or a data set with per-pixel labels)`;
    return null;
  },
  graph: (spec) => {
    const trunk = chain('input', segnetTrunk);
    const heads = pixelHeads(spec, trunk[trunk.length - 1].name, 3);
    return { input: 'input', layers: [...trunk, ...heads], outputs: heads.map((h) => h.name) };
  },
};
