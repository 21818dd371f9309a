/** The geometry of a curve, stored in curve.json. Control point values live in controls.safetensors. */
export interface CurveGeometry {
  /** a name of the curve-kind table (src/curves/kinds) */
  kind: string;
  degree: number;
  knots: number[];
  /** current weights ω_i > 0 (all 1 for the non-rational kinds) */
  weights: number[];
  nControls: number;
  /** whether the weights are trained (NURBS only) */
  trainWeights: boolean;
}

/**
 * Which objective (a task, or a group of tasks) is best at t = 0 (a) and at t = 1 (b); with task
 * grouping, `aligned` is the group pushed to be best at t = ½.
 */
export interface CurveOrientation {
  taskA: number;
  taskB: number;
  aligned?: number | null;
}

/** Objectives of the trade-off: each is the mean loss (and accuracy) of its member tasks. */
export interface ObjectiveMap {
  names: string[];
  members: number[][];
}

export function identityObjectives(taskNames: string[]): ObjectiveMap {
  return { names: [...taskNames], members: taskNames.map((_, k) => [k]) };
}

/** Per-objective metrics: means over the member tasks. */
export function objectiveMetrics<M extends { loss: number; accuracy: number }>(metrics: M[], map: ObjectiveMap): { loss: number; accuracy: number }[] {
  return map.members.map((m) => ({
    loss: m.reduce((s, k) => s + metrics[k].loss, 0) / m.length,
    accuracy: m.reduce((s, k) => s + metrics[k].accuracy, 0) / m.length,
  }));
}
