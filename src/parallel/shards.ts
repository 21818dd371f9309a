/** How a batch is cut into worker shards, in one place (the pool, its workers and the programs agree on it). */

/** Row range [lo, hi) of shard s when n rows are split over w workers. */
export function shardRange(n: number, w: number, s: number): [number, number] {
  return [Math.floor((s * n) / w), Math.floor(((s + 1) * n) / w)];
}

/**
 * Rows of the batch each loss is a mean over: all of them, or (a curve with a split batch) the s-th
 * of `parts` contiguous parts for the losses of the s-th value of t (`perPart` losses per part).
 */
export interface LossRows {
  parts: number;
  perPart: number;
}

/**
 * Weight of worker w's shard mean in the full-batch mean of loss j: the fraction of loss j's rows
 * that lie in the shard (0 when none do: the worker skips that loss).
 */
export function lossShardWeight(n: number, workers: number, w: number, j: number, rows: LossRows): number {
  const [lo, hi] = shardRange(n, workers, w);
  const [a, b] = rows.parts > 1 ? shardRange(n, rows.parts, Math.floor(j / rows.perPart)) : [0, n];
  const inter = Math.max(0, Math.min(hi, b) - Math.max(lo, a));
  return b > a ? inter / (b - a) : 0;
}

/** Where each task's labels start in the shared label buffer (in values), and the buffer's length. */
export function labelLayout(shape: { numTasks: number; maxBatch: number; labelShapes?: number[][] }): { offsets: number[]; sizes: number[]; total: number } {
  const sizes = Array.from({ length: shape.numTasks }, (_, k) => (shape.labelShapes?.[k] ?? []).reduce((a, b) => a * b, 1));
  const offsets: number[] = [];
  let total = 0;
  for (const s of sizes) {
    offsets.push(total);
    total += s * shape.maxBatch;
  }
  return { offsets, sizes, total };
}
