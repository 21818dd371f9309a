import type * as tf from '@tensorflow/tfjs';
import type { FunctionalModel } from '../models/index.js';
import { epochBatches, disposeBatch, perTaskGradients, type LabelledSplit } from '../train/index.js';

/**
 * Averaged cosine similarity of the tasks' gradients w.r.t. the shared (trunk) parameters over
 * `batches` training batches (docs/design.md §5). Entry [i][j] ∈ [−1, 1].
 */
export function taskGradientCosines(
  model: FunctionalModel,
  params: readonly tf.Tensor[],
  split: LabelledSplit,
  opts: { batches?: number; batchSize?: number; seed?: number } = {},
): number[][] {
  const K = model.spec.numClasses.length;
  const sum = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let count = 0;
  const want = opts.batches ?? 8;
  for (const batch of epochBatches(split, model.spec.inputShape, opts.batchSize ?? 256, opts.seed ?? 0, 10_000)) {
    const { perTask, shared } = perTaskGradients(model, params, batch);
    perTask.forEach((g) => g.forEach((t) => t?.dispose()));
    disposeBatch(batch);
    const norms = shared.map((g) => Math.sqrt(g.reduce((s, v) => s + v * v, 0)) || 1e-30);
    for (let i = 0; i < K; i++)
      for (let j = i; j < K; j++) {
        let dot = 0;
        const a = shared[i];
        const b = shared[j];
        for (let q = 0; q < a.length; q++) dot += a[q] * b[q];
        const c = dot / (norms[i] * norms[j]);
        sum[i][j] += c;
        if (i !== j) sum[j][i] += c;
      }
    if (++count >= want) break;
  }
  return sum.map((row) => row.map((v) => v / count));
}

/** Mean cosine between the members of two groups (how much they agree; lowest = most conflicting). */
export function groupAgreement(cosine: number[][], a: number[], b: number[]): number {
  let s = 0;
  for (const i of a) for (const j of b) s += cosine[i][j];
  return s / (a.length * b.length);
}

/**
 * The two most conflicting groups (lowest mean cross-cosine) become the curve's endpoint objectives;
 * with three or more groups, the remaining group that agrees best with both is aligned at t = ½.
 */
export function chooseRoles(cosine: number[][], groups: number[][]): { endpoints: [number, number]; aligned: number | null } {
  let best: [number, number] = [0, Math.min(1, groups.length - 1)];
  let bestV = Infinity;
  for (let a = 0; a < groups.length; a++)
    for (let b = a + 1; b < groups.length; b++) {
      const v = groupAgreement(cosine, groups[a], groups[b]);
      if (v < bestV) {
        bestV = v;
        best = [a, b];
      }
    }
  let aligned: number | null = null;
  let alignedV = -Infinity;
  for (let g = 0; g < groups.length; g++) {
    if (g === best[0] || g === best[1]) continue;
    const v = groupAgreement(cosine, groups[g], groups[best[0]]) + groupAgreement(cosine, groups[g], groups[best[1]]);
    if (v > alignedV) {
      alignedV = v;
      aligned = g;
    }
  }
  return { endpoints: best, aligned };
}
