export { pamalParamSpecs, initPamal, pamalForward } from './ensemble.js';
export { fitPamal, evaluatePamalAt, pamalDefaults, type PamalFitConfig, type PamalFitData } from './fit.js';
