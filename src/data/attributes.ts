import { createHash } from 'node:crypto';
import type { DatasetEntry, MultiTaskDataset, Split } from './types.js';
import { loadMultiDataset } from './multi-load.js';

/**
 * Binary digit attributes: a many-task problem (6 attributes × 2 positions = 12 tasks) built from a
 * two-digit data set. Attributes of the same position share the digit's features; across positions
 * they share nothing — a structure the task grouping should find.
 */
export const digitAttributes: Record<string, (d: number) => boolean> = {
  even: (d) => d % 2 === 0,
  large: (d) => d >= 5,
  prime: (d) => d === 2 || d === 3 || d === 5 || d === 7,
  loop: (d) => d === 0 || d === 6 || d === 8 || d === 9,
  straight: (d) => d === 1 || d === 4 || d === 7,
  square: (d) => d === 0 || d === 1 || d === 4 || d === 9,
};

const positionShort = ['tl', 'br'];

export function attributeTaskNames(): string[] {
  return positionShort.flatMap((p) => Object.keys(digitAttributes).map((a) => `${p}-${a}`));
}

function deriveSplit(s: Split): Split {
  const attrs = Object.values(digitAttributes);
  const y = s.y.flatMap((labels) => attrs.map((f) => Int32Array.from(labels, (d) => (f(d) ? 1 : 0))));
  return { x: s.x, y, n: s.n };
}

export function toAttributeDataset(base: MultiTaskDataset, name: string): MultiTaskDataset {
  const names = attributeTaskNames();
  return {
    name,
    fingerprint: createHash('sha256').update(`${base.fingerprint}/attributes-v1`).digest('hex'),
    inputShape: base.inputShape,
    taskNames: names,
    numClasses: names.map(() => 2),
    train: deriveSplit(base.train),
    val: deriveSplit(base.val),
    test: deriveSplit(base.test),
  };
}

/** multi-mnist-attributes: 12 binary tasks (6 attributes × 2 positions) on the multi-mnist images. */
export const multiMnistAttributes: DatasetEntry = {
  name: 'multi-mnist-attributes',
  description: 'binary digit attributes (even, large, prime, loop, straight, square) of both multi-mnist digits: 12 tasks',
  load: async (opts) => toAttributeDataset(await loadMultiDataset('multi-mnist', opts), 'multi-mnist-attributes'),
};
