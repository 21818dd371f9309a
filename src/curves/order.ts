import * as tf from '@tensorflow/tfjs';

/**
 * Order-aware trade-off term (docs/design.md §2.2), averaged over all pairs of sampled t:
 *   R_order = ½ [exp((L_a(t1) − L_a(t2))(t2 − t1)) + exp((L_b(t1) − L_b(t2))(t1 − t2))]
 * It is small when L_a rises and L_b falls along t, so t becomes a monotone trade-off knob.
 * `losses[s][k]` is task k's loss at t = ts[s].
 */
export function orderRegularizer(ts: number[], losses: tf.Scalar[][], taskA: number, taskB: number): tf.Scalar {
  return tf.tidy(() => {
    const terms: tf.Tensor[] = [];
    for (let i = 0; i < ts.length; i++) {
      for (let j = i + 1; j < ts.length; j++) {
        const dt = ts[j] - ts[i];
        const a = tf.exp(tf.mul(tf.sub(losses[i][taskA], losses[j][taskA]), dt));
        const b = tf.exp(tf.mul(tf.sub(losses[i][taskB], losses[j][taskB]), -dt));
        terms.push(tf.mul(tf.add(a, b), 0.5));
      }
    }
    if (terms.length === 0) return tf.scalar(0);
    return tf.div(tf.addN(terms), terms.length) as tf.Scalar;
  });
}

/**
 * m values of t for one batch: stratified (one uniform draw in each of m equal strata), so every
 * batch sees both ends of the curve. `u` supplies uniforms in [0,1).
 */
export function stratifiedTs(m: number, u: () => number): number[] {
  return Array.from({ length: m }, (_, i) => (i + u()) / m);
}
