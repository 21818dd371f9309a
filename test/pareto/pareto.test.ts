import { describe, it, expect } from 'vitest';
import { hypervolume, hypervolume2d, hypervolume3d, hypervolumeWfg, nonDominated, dominates, spearman, pearson, ranks, deltaM, preferenceAlignmentAngle } from '../../src/pareto/index.js';
import { DomainError } from '../../src/errors.js';
import { makeRng } from '../../src/util/rng.js';

/** Independent oracle: inclusion–exclusion over all non-empty subsets (volume of the union of boxes). */
function inclusionExclusion(points: number[][], ref: number[]): number {
  const pts = points.filter((p) => p.every((v, k) => v < ref[k]));
  const n = pts.length;
  let hv = 0;
  for (let mask = 1; mask < 1 << n; mask++) {
    const corner = ref.map(() => -Infinity);
    let bits = 0;
    for (let i = 0; i < n; i++) {
      if (mask & (1 << i)) {
        bits++;
        pts[i].forEach((v, k) => (corner[k] = Math.max(corner[k], v)));
      }
    }
    const vol = corner.reduce((a, c, k) => a * (ref[k] - c), 1);
    hv += (bits % 2 === 1 ? 1 : -1) * vol;
  }
  return hv;
}

function randomSet(rng: ReturnType<typeof makeRng>, n: number, d: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.next()));
}

describe('hypervolume', () => {
  // an earlier design reference and issue #2 quoted 2.75 for this set (docs/design.md §3); the union of the three boxes is
  // 2·1 + 1.5·0.5 + 1·0.5 = 3.25 (inclusion–exclusion: 6.25 − 4 + 1), so 3.25 is the textbook value.
  it('{(0,1),(0.5,0.5),(1,0)} with reference (2,2) is 3.25 (hand computation)', () => {
    expect(hypervolume([[0, 1], [0.5, 0.5], [1, 0]], [2, 2])).toBeCloseTo(3.25, 14);
    expect(hypervolumeWfg([[0, 1], [0.5, 0.5], [1, 0]], [2, 2])).toBeCloseTo(3.25, 14);
    expect(inclusionExclusion([[0, 1], [0.5, 0.5], [1, 0]], [2, 2])).toBeCloseTo(3.25, 14);
    // with reference (1,1) only (0.5,0.5) strictly dominates it: a 0.5 × 0.5 box
    expect(hypervolume([[0, 1], [0.5, 0.5], [1, 0]], [1, 1])).toBeCloseTo(0.25, 14);
  });

  it('single box, dominated and out-of-reference points', () => {
    expect(hypervolume([[0.5, 0.5, 0.5]], [1, 1, 1])).toBeCloseTo(0.125, 14);
    expect(hypervolume([[0.5, 0.5], [0.6, 0.6], [3, 0]], [1, 1])).toBeCloseTo(0.25, 14);
  });

  it('agrees with inclusion–exclusion on small random sets, d = 2..5', () => {
    const rng = makeRng(11);
    for (let d = 2; d <= 5; d++) {
      for (let trial = 0; trial < 8; trial++) {
        const pts = randomSet(rng, 1 + rng.int(8), d);
        const ref = Array(d).fill(1.1);
        expect(hypervolume(pts, ref)).toBeCloseTo(inclusionExclusion(pts, ref), 12);
        expect(hypervolumeWfg(pts, ref)).toBeCloseTo(inclusionExclusion(pts, ref), 12);
      }
    }
  });

  it('the 2-D and 3-D sweeps agree with WFG on larger random sets', () => {
    const rng = makeRng(12);
    for (let trial = 0; trial < 5; trial++) {
      const p2 = randomSet(rng, 60, 2);
      expect(hypervolume2d(p2, [1, 1])).toBeCloseTo(hypervolumeWfg(p2, [1, 1]), 12);
      // points near a sphere: many non-dominated
      const p3 = randomSet(rng, 40, 3).map((p) => {
        const s = Math.hypot(...p);
        return p.map((v) => v / s);
      });
      expect(hypervolume3d(p3, [1.2, 1.2, 1.2])).toBeCloseTo(hypervolumeWfg(p3, [1.2, 1.2, 1.2]), 12);
    }
  });

  it('1-D is the distance from the best point to the reference', () => {
    expect(hypervolume([[0.3], [0.7], [1.5]], [1])).toBeCloseTo(0.7, 15);
    expect(hypervolume([[1.5]], [1])).toBe(0);
    expect(hypervolume([], [1, 1, 1, 1])).toBe(0);
  });

  it('points on the reference boundary add nothing; duplicates count once', () => {
    expect(hypervolume([[0.5, 1], [1, 0.2]], [1, 1])).toBe(0);
    expect(hypervolume([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.2, 1, 0.1]], [1, 1, 1])).toBeCloseTo(0.125, 14);
    expect(hypervolumeWfg([[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5], [1, 0, 0, 0]], [1, 1, 1, 1])).toBeCloseTo(0.0625, 14);
  });

  it('agrees with inclusion–exclusion on integer grids (many ties and duplicates), d = 2..5, n ≤ 10', () => {
    const rng = makeRng(13);
    for (let d = 2; d <= 5; d++) {
      for (let trial = 0; trial < 10; trial++) {
        const pts = Array.from({ length: 1 + rng.int(10) }, () => Array.from({ length: d }, () => rng.int(4)));
        const ref = Array(d).fill(4);
        const oracle = inclusionExclusion(pts, ref);
        expect(hypervolume(pts, ref)).toBeCloseTo(oracle, 10);
        expect(hypervolumeWfg(pts, ref)).toBeCloseTo(oracle, 10);
        if (d === 2) expect(hypervolume2d(pts, ref)).toBeCloseTo(oracle, 10);
        if (d === 3) expect(hypervolume3d(pts, ref)).toBeCloseTo(oracle, 10);
      }
    }
  });

  it('rejects a bad reference point or points of the wrong dimension', () => {
    expect(() => hypervolume([[0, 1]], [2, NaN])).toThrow(DomainError);
    expect(() => hypervolume([[0, 1, 2]], [2, 2])).toThrow(/3 objectives/);
    expect(() => hypervolume([[0, 1]], [])).toThrow(/empty/);
    expect(() => hypervolume([[0, 1]], [Infinity, 2])).toThrow(/reference point entry 0/);
    expect(() => hypervolume3d([[0, NaN, 1]], [2, 2, 2])).toThrow(/point 0 objective 1/);
    expect(() => hypervolumeWfg([[0, 1, 1, 1]], [2, 2, 2])).toThrow(DomainError);
  });
});

describe('non-dominated filter', () => {
  it('keeps exactly the Pareto points', () => {
    const pts = [[1, 5], [2, 2], [3, 3], [5, 1], [2, 2], [0.5, 6]];
    expect(nonDominated(pts)).toEqual([0, 1, 3, 5]);
  });

  it('on random grids with duplicates: kept points are distinct and mutually non-dominated; each dropped point is dominated or repeated', () => {
    const rng = makeRng(21);
    for (let trial = 0; trial < 20; trial++) {
      const d = 2 + rng.int(3);
      const pts = Array.from({ length: 30 }, () => Array.from({ length: d }, () => rng.int(5)));
      const kept = nonDominated(pts);
      const same = (a: number[], b: number[]): boolean => a.every((v, k) => v === b[k]);
      for (const i of kept) for (const j of kept) if (i !== j) expect(dominates(pts[j], pts[i]) || same(pts[i], pts[j])).toBe(false);
      for (let i = 0; i < pts.length; i++) {
        if (kept.includes(i)) continue;
        expect(kept.some((j) => dominates(pts[j], pts[i]) || same(pts[i], pts[j]))).toBe(true);
      }
    }
  });
});

describe('statistics', () => {
  it('Pearson: Anscombe quartet set I has r = 0.816', () => {
    const x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
    const y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68];
    expect(pearson(x, y)).toBeCloseTo(0.816, 3);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it('ranks average ties', () => {
    expect(ranks([10, 20, 10, 30, 20, 20])).toEqual([1.5, 4, 1.5, 6, 4, 4]);
  });

  it('Spearman propagates NaN and rejects mismatched lengths', () => {
    expect(spearman([1, NaN, 3], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1, 2], [1, 2, 3])).toThrow(DomainError);
  });

  it('Spearman: textbook example (Wikipedia, IQ vs hours of TV) ρ = −29/165', () => {
    const iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110];
    const tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17];
    expect(spearman(iq, tv)).toBeCloseTo(-29 / 165, 12);
  });

  it('Spearman of monotone sequences is ±1, ties use average ranks', () => {
    expect(spearman([0, 0.25, 0.5, 1], [1, 4, 9, 100])).toBeCloseTo(1, 14);
    expect(spearman([0, 0.25, 0.5, 1], [5, 3, 2, 1])).toBeCloseTo(-1, 14);
    // x ranks 1,2,3,4; y ranks 1.5,1.5,3,4 → Pearson of those
    expect(spearman([1, 2, 3, 4], [7, 7, 8, 9])).toBeCloseTo(0.9486832980505138, 12);
  });

  it('Δm% and preference alignment', () => {
    expect(deltaM([0.9, 0.2], [1.0, 0.25], [true, false])).toBeCloseTo(100 * (0.1 + -0.2) / 2, 12);
    expect(preferenceAlignmentAngle([1, 1], [0.5, 0.5])).toBeCloseTo(0, 7);
    expect(preferenceAlignmentAngle([1, 3], [0.75, 0.25])).toBeCloseTo(0, 7);
    expect(preferenceAlignmentAngle([1, 0], [0.5, 0.5])).toBeCloseTo(Math.PI / 4, 12);
  });
});

describe('bad input to the measures', () => {
  it('Δm% rejects a zero baseline; the alignment angle rejects negative or all-zero preferences and a zero loss', () => {
    expect(() => deltaM([1, 2], [0, 1], [true, true])).toThrow(/baseline 0/);
    expect(() => preferenceAlignmentAngle([1, 2], [-0.5, 1.5])).toThrow(/preference entry 0/);
    expect(() => preferenceAlignmentAngle([1, 2], [0, 0])).toThrow(/all zeros/);
    expect(() => preferenceAlignmentAngle([0, 0], [0.5, 0.5])).toThrow(/zero/);
  });

  it('alignment: a preference with a zero entry points along the other axis', () => {
    // r = (1, 0) asks only for task 0; the matching direction is the task-1 axis (task 0 at its best)
    expect(preferenceAlignmentAngle([0, 2], [1, 0])).toBeCloseTo(0, 12);
    expect(preferenceAlignmentAngle([2, 0], [1, 0])).toBeCloseTo(Math.PI / 2, 12);
  });
});
