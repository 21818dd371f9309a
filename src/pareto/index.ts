/** Pareto quality measures: non-dominated sets, exact hypervolume, rank correlation, Δm%. */
export { nonDominated, dominates, hypervolume, hypervolume2d, hypervolume3d, hypervolumeWfg } from './hypervolume.js';
export { spearman, pearson, ranks, preferenceAlignmentAngle, deltaM } from './stats.js';
