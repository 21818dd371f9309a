export type CurveKind = 'nurbs' | 'bezier' | 'polychain' | 'line';
export const curveKinds: readonly CurveKind[] = ['nurbs', 'bezier', 'polychain', 'line'];

/** The geometry of a curve, stored in curve.json. Control point values live in controls.safetensors. */
export interface CurveGeometry {
  kind: CurveKind;
  degree: number;
  knots: number[];
  /** current weights ω_i > 0 (all 1 for the non-rational kinds) */
  weights: number[];
  nControls: number;
  /** whether the weights are trained (NURBS only) */
  trainWeights: boolean;
}

/** Which task (or group) is best at t = 0 (a) and at t = 1 (b). */
export interface CurveOrientation {
  taskA: number;
  taskB: number;
}
