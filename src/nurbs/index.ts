/** NURBS mathematics: pure TypeScript in float64, no tfjs. */
export { NurbsError } from './errors.js';
export { clampedUniformKnots, validateKnots, findSpan } from './knots.js';
export {
  nonZeroBasis,
  nonZeroBasisDerivatives,
  basisFunctions,
  basisFunctionDerivatives,
  bsplineBasis,
  bsplineBasisDerivative,
  rationalBasis,
  rationalBasisDerivative,
  rationalBasisWeightJacobian,
  validateWeights,
} from './basis.js';
export { curvePoint, curveDerivative, lineSpec, bezierSpec, polychainSpec, nurbsSpec } from './curve.js';
export type { NurbsSpec, NurbsKind } from './curve.js';
