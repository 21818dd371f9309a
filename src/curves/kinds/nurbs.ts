import { nurbsSpec } from '../../nurbs/index.js';
import type { CurveKindEntry } from './types.js';

/**
 * NURBS with clamped uniform knots and trained weights (the paper's curve). The degree is lowered to
 * nControls−1 when there are too few control points, so the basis still sums to one — a defect of
 * the paper's code we avoid.
 */
export const nurbsKind: CurveKindEntry = {
  name: 'nurbs',
  description: 'rational B-spline, clamped uniform knots, trained weights',
  defaultControls: 4,
  trainWeights: true,
  spec: (n, degree) => nurbsSpec(n, degree),
};
