import { ExtraInputError } from '../errors.js';
import { getCurveKind } from './kinds/index.js';
import type { CurveGeometry } from './types.js';

/** The geometry of a curve of a kind of the table (src/curves/kinds) with nControls control points. */
export function makeGeometry(kind: string, nControls = getCurveKind(kind).defaultControls, degree = 3): CurveGeometry {
  const entry = getCurveKind(kind);
  if (!Number.isInteger(nControls) || nControls < 2) throw new ExtraInputError(`a curve needs at least 2 control points, got ${nControls}`);
  if (!Number.isInteger(degree) || degree < 1) throw new ExtraInputError(`curve degree must be a positive integer, got ${degree}`);
  const spec = entry.spec(nControls, degree);
  return {
    kind: entry.name,
    degree: spec.degree,
    knots: Array.from(spec.knots),
    weights: Array.from(spec.weights),
    nControls: spec.weights.length,
    trainWeights: entry.trainWeights,
  };
}
