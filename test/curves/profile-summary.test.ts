import { describe, it, expect } from 'vitest';
import { summarizeProfile } from '../../src/curves/index.js';
import type { TaskMetrics } from '../../src/train/index.js';

const point = (t: number, a: number, b: number) => {
  const m: TaskMetrics[] = [
    { loss: a, accuracy: 0.5 },
    { loss: b, accuracy: 0.5 },
  ];
  return { t, val: m, test: m };
};

describe('profile summary: the loss hypervolume of weak models', () => {
  it('keeps the fixed reference where points beat it (textbook value)', () => {
    // {(0,1), (0.5,0.5), (1,0)} with reference (2,2): 3.25
    const s = summarizeProfile(['a', 'b'], [point(0, 0, 1), point(0.5, 0.5, 0.5), point(1, 1, 0)]);
    expect(s.hypervolume.testLoss.curve).toBeCloseTo(3.25, 12);
    expect(s.hypervolume.testLoss.refFrom).toBeUndefined();
  });
  it('takes the sweep’s worst × 1.1 as the reference where no point beats the fixed one, and says so', () => {
    const s = summarizeProfile(['a', 'b'], [point(0, 2.2, 3), point(0.5, 2.5, 2.5), point(1, 3, 2.2)]);
    expect(s.hypervolume.testLoss.refFrom).toBe('run');
    expect(s.hypervolume.testLoss.ref).toEqual([3.3000000000000003, 3.3000000000000003]);
    // by hand: rectangles to (3.3, 3.3) from (2.2,3), (2.5,2.5), (3,2.2): 0.33 + 0.8·0.5 + 0.3·0.3 … sweep:
    // x in [2.2,2.5): height 3.3−3 = 0.3 → 0.09; [2.5,3): 0.8 → 0.4; [3,3.3): 1.1 → 0.33
    expect(s.hypervolume.testLoss.curve).toBeCloseTo(0.09 + 0.4 + 0.33, 10);
    expect(s.hypervolume.testLoss.endpoints).toBeCloseTo(0.09 + 0.5 * 0.3 + 0.3 * 1.1, 10);
    expect(s.hypervolume.testLoss.curve).toBeGreaterThan(s.hypervolume.testLoss.endpoints);
  });
});
