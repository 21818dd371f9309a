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

interface ObjectiveBase {
  name: string;
  description: string;
  /** documented hyper-parameters and their defaults */
  defaults: Record<string, number>;
}

/** A method that needs only the losses: the trainer back-propagates Σ w_k L_k in one pass. */
export interface LossObjective extends ObjectiveBase {
  needsGradients: false;
  aggregate(input: AggregationInput, options?: Record<string, number>): AggregationResult;
}

/** A method that needs the per-task gradients of the shared parameters (the trainer supplies them). */
export interface GradientObjective extends ObjectiveBase {
  needsGradients: true;
  aggregate(input: AggregationInput & { grads: Float64Array[] }, options?: Record<string, number>): AggregationResult;
}

export type Objective = LossObjective | GradientObjective;
