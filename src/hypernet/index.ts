export { hyperParamSpecs, initHyperNet, hyperForward, hyperNetDefaults, type HyperNetSpec } from './hypernet.js';
export { dirichletRay, evaluationRays, gammaSample } from './rays.js';
export { fitHyperNet, evaluateHyperNetAt, type HyperNetFitConfig, type HyperNetFitData } from './fit.js';
