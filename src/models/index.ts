export type { FunctionalModel, ModelSpec, ParamSpec, InitKind, Architecture, ArchOptions } from './types.js';
export { initParams, initParamValues } from './init.js';
export { trunkShapes, trunkParamSpecs, trunkForward, trunkTfjsLayers, type TrunkLayer, type TrunkActivation } from './sequential.js';
export { architectures, modelArchs, getArchitecture, buildModel, defaultModelSpec, headParams } from './registry.js';
export { toLayersModel, saveLayersModel, loadLayersModelFromDir, paramsToPytorchStateDict } from './layers.js';
