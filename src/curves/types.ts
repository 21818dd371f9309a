import { meanMetrics, type TaskMetrics } from '../train/metrics.js';

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

/** Objectives of the trade-off: each is the mean loss (and fit) of its member tasks. */
export interface ObjectiveMap {
  names: string[];
  members: number[][];
}

export function identityObjectives(taskNames: string[]): ObjectiveMap {
  return { names: [...taskNames], members: taskNames.map((_, k) => [k]) };
}

/** Per-objective metrics: means over the member tasks (src/train/metrics.ts says which fits mix). */
export function objectiveMetrics(metrics: readonly TaskMetrics[], map: ObjectiveMap): TaskMetrics[] {
  return map.members.map((m) => meanMetrics(m.map((k) => metrics[k])));
}
