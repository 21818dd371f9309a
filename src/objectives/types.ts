/**
 * One contract for every scalarization and MTL aggregation method (the optax / LibMTL-weighting
 * idea): a pure function from this step's per-task losses (and, when needed, per-task gradients of
 * the shared parameters) to task weights and, optionally, a combined shared-parameter direction.
 */
export interface AggregationInput {
  /** per-task loss values of this step */
  losses: number[];
  /** per-task gradients of the shared parameters, flattened (given to, and required by, GradientObjectives) */
  grads?: Float64Array[];
  /**
   * flatness gradients h_k = ∇L_k(θ + ε_k) − ∇L_k(θ) of the shared parameters, ε_k = ρ·g_k/‖g_k‖ (only for
   * GradientObjectives with `flatness`; the trainer pays one more forward/backward per task for them)
   */
  flat?: Float64Array[];
  /** normalized preference: non-negative, sums to 1 */
  preference: number[];
  /** per-method state carried across steps; must stay JSON-serializable (it is checkpointed) */
  state: Record<string, unknown>;
  step: number;
}

export interface AggregationResult {
  /** w_k: the update is ∇ Σ_k w_k L_k unless `direction` is given */
  taskWeights: number[];
  /** combined shared-parameter direction when it is not Σ_k w_k g_k (e.g. PCGrad, CAGrad) */
  direction?: Float64Array;
}

/** What a method that learns from the step's effect sees after the parameter update (FAMO). */
export interface AfterStepInput {
  /** per-task losses on the step's batch before the update (the ones `aggregate` saw) */
  before: number[];
  /** per-task losses on the same batch after the update */
  after: number[];
  preference: number[];
  state: Record<string, unknown>;
  step: number;
}

interface ObjectiveBase {
  name: string;
  description: string;
  /** documented hyper-parameters and their defaults */
  defaults: Record<string, number>;
  /**
   * Methods with state learnt from the step's effect: the new state from the losses before and after the
   * update on the same batch (the trainer pays one more forward pass per step for them). The state is
   * checkpointed with the parameters, so --resume continues it exactly.
   */
  afterStep?(input: AfterStepInput, options?: Record<string, number>): Record<string, unknown>;
}

/** A method that needs only the losses: the trainer back-propagates Σ w_k L_k in one pass. */
export interface LossObjective extends ObjectiveBase {
  needsGradients: false;
  aggregate(input: AggregationInput, options?: Record<string, number>): AggregationResult;
}

/** A method that needs the per-task gradients of the shared parameters (the trainer supplies them). */
export interface GradientObjective extends ObjectiveBase {
  needsGradients: true;
  /** the trainer also supplies `flat` (sharpness-aware gradients at radius options.rho ?? defaults.rho) */
  flatness?: boolean;
  aggregate(input: AggregationInput & { grads: Float64Array[] }, options?: Record<string, number>): AggregationResult;
}

export type Objective = LossObjective | GradientObjective;
