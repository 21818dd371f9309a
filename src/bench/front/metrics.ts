import { errorRates, type TaskMetrics } from '../../train/index.js';
import { hypervolume, nonDominated, preferenceAlignmentAngle, spearman } from '../../pareto/index.js';
import { lossScale, queryCriterion } from '../../curves/index.js';

/** Test error rates of a point (NaN for a regression task: its error HV is undefined). */
export const testErrors = (ms: TaskMetrics[]): number[] => errorRates(ms) ?? ms.map(() => NaN);

export interface FrontRow {
  method: string;
  testLossHV: number;
  testErrorHV: number;
  chebyshev05: number;
  alignmentDeg: number;
  spearmanA: number;
  spearmanB: number;
  seconds: number;
  budget: number;
  /** peak resident memory of the process (worker threads included) while this method ran, MiB */
  peakRssMiB: number;
  /** test losses of the method's points (for the Pareto plot) */
  testLosses: number[][];
  /** a NURBS curve's learned weights ω after the fit */
  curveWeights?: number[];
}

export interface Pt {
  order: number;
  val: number[];
  test: number[];
  testErr: number[];
}

/** The metrics of one method's set of points (curve sweep or LS models), all on test data except the choice. */
export function frontMetrics(points: Pt[]): Omit<FrontRow, 'method' | 'seconds' | 'budget' | 'peakRssMiB' | 'testLosses'> {
  const test = points.map((p) => p.test);
  const errs = points.map((p) => p.testErr);
  const cheb = Math.min(...test.map((l) => Math.max(0.5 * l[0], 0.5 * l[1])));
  // 11 preferences: choose by Chebyshev on validation, measure the angle of the chosen test losses
  const scale = lossScale(points.map((p) => p.val));
  const testScale = lossScale(test);
  const angles: number[] = [];
  for (let i = 0; i <= 10; i++) {
    const r = [Math.max(i / 10, 1e-6), Math.max(1 - i / 10, 1e-6)];
    let best = 0;
    points.forEach((p, q) => {
      if (queryCriterion('chebyshev', r, p.val, scale) < queryCriterion('chebyshev', r, points[best].val, scale)) best = q;
    });
    // the angle is measured on test losses normalized by the test sweep's own ideal point and spread
    const l = points[best].test.map((v, k) => (v - testScale.z[k]) / testScale.s[k] + 1e-6);
    angles.push((preferenceAlignmentAngle(l, r) * 180) / Math.PI);
  }
  const order = points.map((p) => p.order);
  return {
    testLossHV: hypervolume(test, [2, 2]),
    testErrorHV: hypervolume(errs, [1, 1]),
    chebyshev05: cheb,
    alignmentDeg: angles.reduce((a, b) => a + b, 0) / angles.length,
    spearmanA: spearman(order, points.map((p) => p.val[0])),
    spearmanB: spearman(order, points.map((p) => p.val[1])),
  };
}
