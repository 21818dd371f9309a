export type { CurveGeometry, CurveOrientation, ObjectiveMap } from './types.js';
export { identityObjectives, objectiveMetrics } from './types.js';
export { curveKindTable, curveKinds, getCurveKind, curveKindDefaults, type CurveKindEntry } from './kinds/index.js';
export { makeGeometry } from './geometry.js';
export type { WeightCurve } from './curve.js';
export {
  trainableNames,
  trainableShapes,
  initTrainable,
  controlPoints,
  curvePoint,
  curveWeights,
  rationalBasisTensor,
  currentWeights,
  grevilleAbscissae,
} from './curve.js';
export { orderRegularizer, stratifiedTs } from './order.js';
export { fitCurve, curveLossFn, curveTaskLosses, curveObjective, curveL2, curveObjectiveCoefficients } from './fit.js';
export type { CurveFitConfig, CurveFitData, CurveFitResult, CurveLossConfig } from './fit.js';
export { profileCurve, profileCurveInWorkers, summarizeProfile, lossReference, evaluateAt, statisticsAt, tGrid, profileFileSchema, profileDeltaM } from './profile.js';
export type { CurveProfile, ProfilePoint, StoredProfile } from './profile.js';
export { preferenceToT, queryCriterion, lossScale, interpolateProfile, queryMethods, interpolatedOptimum, criterionOnSweep } from './query.js';
export type { QueryMethod, QueryAnswer, LossScale } from './query.js';
export { saveCurve, loadCurve, curveFingerprint } from './store.js';
export type { CurveFile, LoadedCurve } from './store.js';
