import type { ModelSpec } from '../models/index.js';
import { programModule, type ShardProgramSpec } from '../parallel/program.js';
import type { CurveGeometry, CurveOrientation, ObjectiveMap } from './types.js';
import type { WeightCurve } from './curve.js';

/** What the curve objective needs of a fit's configuration (src/curves/fit.ts). */
export interface CurveLossConfig {
  alpha: number;
  l2: number;
  orientation: CurveOrientation;
  taskWeights?: number[];
  objectives?: ObjectiveMap;
  beta?: number;
  splitBatch?: boolean;
}

/** The pool program of a curve (src/curves/program.ts): its spec, as plain data. */
export interface CurveProgramSpec extends ShardProgramSpec {
  kind: 'curve';
  spec: ModelSpec;
  geometry: CurveGeometry;
  paramNames: string[];
  /** endpoint parameter values (the frozen control points P_0 and P_n) */
  ends: [Float32Array[], Float32Array[]];
  /** the endpoints' own BatchNormalization statistics, when known (exact at t = 0 and 1) */
  endStatistics?: [Float32Array[], Float32Array[]];
  loss: CurveLossConfig;
}

/** A curve's program spec; evaluation-only users pass no loss (the training objective is then unused). */
export function curveProgramSpec(spec: ModelSpec, curve: WeightCurve, loss: CurveLossConfig = { alpha: 0, l2: 0, orientation: { taskA: 0, taskB: 1 } }): CurveProgramSpec {
  const values = (ts: WeightCurve['ends'][0]) => ts.map((t) => t.dataSync() as Float32Array);
  return {
    kind: 'curve',
    // the module that registers the program (a leaf here, so that fit and profile can name it without a circle)
    module: programModule(new URL('./program.js', import.meta.url)),
    spec,
    geometry: curve.geometry,
    paramNames: curve.paramNames,
    ends: [values(curve.ends[0]), values(curve.ends[1])],
    ...(curve.endStatistics ? { endStatistics: [values(curve.endStatistics[0]), values(curve.endStatistics[1])] as [Float32Array[], Float32Array[]] } : {}),
    loss,
  };
}
