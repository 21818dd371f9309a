/**
 * extra-mtl as a library: the application layer (runs, endpoints, curves, profiles, query, export,
 * grouping, surfaces) and the extension tables (curve kinds, architectures, data sets, methods).
 *
 *   import { trainEndpoints, fitRunCurve, evaluateRunCurve, query, exportModel } from 'extra-mtl';
 */
export * from './app/index.js';
export { ExtraInputError, FileFormatError, isExtraInputError } from './errors.js';

// extension tables: one entry per curve kind, architecture, data set and endpoint method
export { curveKindTable, curveKinds, getCurveKind, type CurveKindEntry } from './curves/index.js';
export { architectures, modelArchs, getArchitecture, buildModel, defaultModelSpec, type Architecture, type FunctionalModel, type ModelSpec, type ParamSpec } from './models/index.js';
export { datasets, datasetNames, getDataset, loadDataset, type DatasetEntry, type MultiTaskDataset, type Split } from './data/index.js';
// your own models: a tfjs-layers / Keras model.json as a functional model, one table entry per layer class
export { graphModelSpec, parseTopology, layerKinds, layerClassNames, type GraphSpec, type TaskLoss } from './models/graph/index.js';
// the Pareto HyperNetworks baseline (PHN-LS)
export { fitHyperNet, evaluateHyperNetAt, hyperForward, evaluationRays, type HyperNetFitConfig } from './hypernet/index.js';
export { getObjective, objectiveNames, registerObjective, type Objective, type LossObjective, type GradientObjective, type AggregationInput, type AggregationResult } from './objectives/index.js';

// the mathematics, for use on its own
export * as nurbs from './nurbs/index.js';
export * as pareto from './pareto/index.js';
export type { CurveProfile, ProfilePoint, StoredProfile, CurveOrientation, ObjectiveMap, QueryMethod } from './curves/index.js';
export { listEndpoints, readRun, type RunInfo, type EndpointInfo } from './run/index.js';
export { writeReport } from './report/index.js';
