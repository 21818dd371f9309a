export type { FunctionalModel, ModelSpec, ParamSpec, InitKind, Architecture, ArchOptions } from './types.js';
export { initParams, initParamValues } from './init.js';
export { architectures, modelArchs, getArchitecture, buildModel, modelGraph, defaultModelSpec, checkModelSpec, GRAPH_ARCH } from './registry.js';
export { graphModelSpec, parseTopology, taskLossKinds, type TaskLoss, type GraphSpec } from './graph/index.js';
export { toLayersModel, saveLayersModel, loadLayersModelFromDir, paramsToPytorchStateDict } from './layers.js';
export { valuesFromStateDict, type StateTensor } from './state-dict.js';
export { shippedBuiltinModels, shippedBuiltinSpec, builtinModelJson, builtinModelJsonText, type BuiltinModelJson } from './builtin-json.js';
