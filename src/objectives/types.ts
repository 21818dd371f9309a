/**
 * One contract for every scalarization and MTL aggregation method (the optax / LibMTL-weighting
 * idea): a pure function from this step's per-task losses (and, when needed, per-task gradients of
 * the shared parameters) to task weights and, optionally, a combined shared-parameter direction.
 */
export interface AggregationInput {
  /** per-task loss values of this step */
  losses: number[];
  /** per-task gradients of the shared parameters, flattened (only for needsGradients methods) */
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

export interface Objective {
  name: string;
  description: string;
  /** false: the trainer back-propagates Σ w_k L_k in one pass; true: it supplies per-task gradients */
  needsGradients: boolean;
  /** documented hyper-parameters and their defaults */
  defaults: Record<string, number>;
  aggregate(input: AggregationInput, options?: Record<string, number>): AggregationResult;
}
