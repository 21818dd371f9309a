import { makeRng } from '../src/util/rng.js';
import type { LabelledSplit } from '../src/train/index.js';

/**
 * A small, learnable two-task image problem built in memory: task 0 is which quadrant-row holds a
 * bright blob, task 1 which column; noise on top. Used where a real data set would only slow tests.
 */
export function syntheticTwoTask(n: number, seed: number, side = 12): LabelledSplit {
  const rng = makeRng(seed);
  const d = side * side;
  const x = new Float32Array(n * d);
  const y0 = new Int32Array(n);
  const y1 = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.int(3);
    const b = rng.int(3);
    y0[i] = a;
    y1[i] = b;
    const cell = side / 3;
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const inBlob = Math.floor(r / cell) === a && Math.floor(c / cell) === b;
        x[i * d + r * side + c] = (inBlob ? 0.8 : 0) + 0.2 * rng.next();
      }
    }
  }
  return { x, y: [y0, y1], n };
}

export function syntheticData(side = 12) {
  return {
    inputShape: [side, side, 1],
    taskNames: ['row', 'col'],
    numClasses: [3, 3],
    train: syntheticTwoTask(384, 1, side),
    val: syntheticTwoTask(128, 2, side),
    test: syntheticTwoTask(128, 3, side),
  };
}
