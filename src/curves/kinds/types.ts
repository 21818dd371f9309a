import type { NurbsSpec } from '../../nurbs/index.js';

/**
 * One curve kind (dnn-mode-connectivity picks its curve class by name the same way): how its spec
 * (degree, knots, initial weights) follows from the control-point count, whether its weights are
 * trained, and its default control-point count.
 */
export interface CurveKindEntry {
  name: string;
  description: string;
  /** control points including the two endpoints when none are asked for */
  defaultControls: number;
  /** the NURBS weights are trainable parameters (stored as log-weights) */
  trainWeights: boolean;
  /** the geometry for nControls control points; `degree` is the requested one (kinds may ignore it) */
  spec(nControls: number, degree: number): NurbsSpec;
}
