import { ExtraInputError } from '../errors.js';
import { nurbsSpec, bezierSpec, polychainSpec, lineSpec } from '../nurbs/index.js';
import { curveKinds, type CurveGeometry, type CurveKind } from './types.js';

/**
 * Geometry for a curve kind. Line is 2 control points; Bézier is degree n with unit weights;
 * PolyChain is degree 1 with a knot at every bend; NURBS is clamped uniform with trained weights
 * (degree lowered to nControls-1 when there are too few control points, so the basis still sums to
 * one — a defect of the paper's code we avoid).
 */
export function makeGeometry(kind: string, nControls = 4, degree = 3): CurveGeometry {
  if (!curveKinds.includes(kind as CurveKind)) {
    throw new ExtraInputError(`unknown curve kind '${kind}' (known: ${curveKinds.join(', ')})`);
  }
  if (!Number.isInteger(nControls) || nControls < 2) throw new ExtraInputError(`a curve needs at least 2 control points, got ${nControls}`);
  if (!Number.isInteger(degree) || degree < 1) throw new ExtraInputError(`curve degree must be a positive integer, got ${degree}`);
  const spec =
    kind === 'line'
      ? lineSpec()
      : kind === 'bezier'
        ? bezierSpec(nControls)
        : kind === 'polychain'
          ? polychainSpec(nControls)
          : nurbsSpec(nControls, degree);
  return {
    kind: kind as CurveKind,
    degree: spec.degree,
    knots: Array.from(spec.knots),
    weights: Array.from(spec.weights),
    nControls: spec.weights.length,
    trainWeights: kind === 'nurbs',
  };
}
