import { ExtraInputError } from '../errors.js';

/** Learning-rate schedules as pure functions of progress through training. */
export type ScheduleName = 'constant' | 'cosine' | 'step';

export interface ScheduleConfig {
  name: ScheduleName;
  /** for 'step': multiply by gamma every `stepEpochs` epochs, or at each of `milestones` (PyTorch's MultiStepLR) */
  gamma?: number;
  stepEpochs?: number;
  milestones?: number[];
  /** linear warm-up over this many optimizer steps */
  warmupSteps?: number;
}

export function learningRateAt(
  baseLr: number,
  cfg: ScheduleConfig,
  epoch: number,
  stepInEpoch: number,
  stepsPerEpoch: number,
  totalEpochs: number,
): number {
  const globalStep = epoch * stepsPerEpoch + stepInEpoch;
  const warm = cfg.warmupSteps && globalStep < cfg.warmupSteps ? (globalStep + 1) / cfg.warmupSteps : 1;
  switch (cfg.name) {
    case 'constant':
      return baseLr * warm;
    case 'cosine': {
      const progress = globalStep / Math.max(1, totalEpochs * stepsPerEpoch);
      return baseLr * warm * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
    }
    case 'step': {
      // MultiStepLR: after epoch m of each milestone m (0-based epoch ≥ m), one more factor gamma
      const drops = cfg.milestones ? cfg.milestones.filter((m) => epoch >= m).length : Math.floor(epoch / (cfg.stepEpochs ?? 10));
      return baseLr * warm * Math.pow(cfg.gamma ?? 0.1, drops);
    }
    default:
      throw new ExtraInputError(`unknown learning-rate schedule '${(cfg as { name: string }).name}' (known: constant, cosine, step)`);
  }
}
