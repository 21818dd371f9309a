export type { TaskKindEntry, TaskMetrics, MetricAccumulator, TaskContext, FitMetricName } from './types.js';
export { fitMetricNames, higherIsBetter } from './types.js';
export { taskKinds, taskKindNames, taskKind, isTaskKind, type TaskKind } from './registry.js';
export { softmaxCrossEntropy, sigmoidCrossEntropy, correctCount } from './classification.js';
export { meanSquaredError, absoluteErrorSum, targetVariance } from './regression.js';
export { meanIoU, pixelCrossEntropy } from './seg.js';
export { median } from './normal.js';
export { deltaMPercent, meanRanks, baselineOf, type BaselineNumbers } from './delta-m.js';
