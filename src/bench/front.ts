/**
 * Equal-budget comparison of ways to get a Pareto front (`extra bench front`), one concept per file:
 * the metrics of a set of points, the method catalogue, the runners (a grid cell here or on a queue),
 * the process-RSS monitor, the markdown tables and the plots.
 */
export { frontMetrics, type FrontRow } from './front/metrics.js';
export { frontMethods, defaultFrontMethods, curveMethods } from './front/methods.js';
export { frontPhn, frontPamal, resolveFrontOptions, frontRunDir, frontSweep, frontCurve, runFrontBenchmark, localFrontRunner, frontCell, timeReference, TIME_SUFFIX, type FrontOptions, type FrontSweep, type FrontRunner } from './front/run.js';
export { summarizeRows, curveWeightTable, pairedComparison } from './front/tables.js';
export { frontPlotFigure } from './front/plots.js';
