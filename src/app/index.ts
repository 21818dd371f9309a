/**
 * The application layer: everything that works on a run directory, as plain typed functions with no
 * printing and no argv. The CLI, the explorer server, the benchmarks and the report call these.
 */
export { useBackend, loadRunDataset, openRun, createOrOpenRun, pickEndpoints, loadEndpointParams, curveDirOf, silent } from './run.js';
export type { Log, OpenedRun, CreateRunRequest, PreparedRun } from './run.js';
export { trainEndpoints, trainDefaults, optionalRecipe } from './train.js';
export type { TrainRequest, TrainedEndpoint } from './train.js';
export { orientationFrom, fitRunCurve, evaluateRunCurve, openCurve, closeCurve, profilePath, readProfile, curveFitDefaults } from './curve.js';
export type { CurveFitRequest, CurveFitOutcome, CurveEvalRequest, StoredProfile, OpenedCurve } from './curve.js';
export { query, exportAt, exportModel, queryMethodOf, preferenceOf, exportFormats } from './query.js';
export type { QueryRequest, QueryResult, ExportRequest, ExportFormat } from './query.js';
export { fitRunSurface, evaluateRunSurface, querySurface, surfaceDir, surfaceFitDefaults } from './surface.js';
export type { SurfaceFitRequest } from './surface.js';
export { groupTasks, groupDefaults } from './group.js';
export type { GroupRequest } from './group.js';
export { computePlane, readPlane, planePath, planeDefaults } from './plane.js';
export type { PlaneRequest } from './plane.js';
export { importEndpoints, paramsFromSafetensors } from './import.js';
export type { ImportRequest, ImportedEndpoint } from './import.js';
export { tuneAt, exportTuned, tuneDefaults, trainAtPreference } from './tune.js';
export type { TuneRequest, TuneResult, TunedNumbers } from './tune.js';
export { predictionsAt, disagreementExamples, exampleImage } from './predictions.js';
export type { ExamplePrediction } from './predictions.js';
export { compareCurveStatistics, statisticsComparisonDefaults } from './curve-statistics.js';
export type { StatisticsComparisonRequest, StatisticsComparisonRow, StatisticsComparison } from './curve-statistics.js';
export { dumpRunData, parseSplits } from './data.js';
export type { DataDumpRequest, DataDumpResult } from './data.js';
export * as runLayout from '../run/layout.js';
