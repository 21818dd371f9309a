/** Beyond the paper: a triangular Bézier patch in weight space for preferences over three groups. */
export { triangleIndices, triangleBasis, cornerIndices, controlBary, simplexGrid, sampleSimplex, checkBary } from './triangle.js';
export type { Bary } from './triangle.js';
export { surfacePoint, surfaceControlPoints, initSurfaceTrainable, surfaceTrainableNames, interiorIndices } from './surface.js';
export type { WeightSurface } from './surface.js';
export { fitSurface, profileSurface, simplexOrderRegularizer, surfaceProfileSchema } from './fit.js';
export type { SurfaceFitConfig, SurfaceProfile, SurfacePoint } from './fit.js';
