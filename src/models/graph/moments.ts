import * as tf from '@tensorflow/tfjs';

/**
 * Mean and (biased) variance over `axes`, as tf.moments computes them, with the gradient written out:
 *   ∂L/∂x = (∂L/∂mean + 2 (x − mean) ∂L/∂variance) / n
 * (the variance's dependence through the mean cancels, since Σ (x − mean) = 0). tf.moments' own
 * gradient goes through Mean's, which builds a tensor of ones the size of x on the host and uploads
 * it, for both moments of every normalisation layer of every step: it dominated BatchNormalization's
 * training step on wasm. This one takes only broadcasts of per-channel vectors.
 */
export function momentsWithGradient(x: tf.Tensor, axes: number[], keepDims: boolean): { mean: tf.Tensor; variance: tf.Tensor } {
  const rank = x.rank;
  const reduced = axes.map((a) => (a < 0 ? a + rank : a));
  const keptShape = x.shape.map((d, i) => (reduced.includes(i) ? 1 : d));
  const n = reduced.reduce((p, a) => p * x.shape[a], 1);
  // customGrad hands over the inputs and then its save function in one list
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args;
    if (!(input instanceof tf.Tensor) || typeof save !== 'function') throw new Error('momentsWithGradient: customGrad called without (x, save)');
    const mean = tf.mean(input, reduced, keepDims);
    const centred = tf.sub(input, tf.reshape(mean, keptShape));
    const variance = tf.mean(tf.square(centred), reduced, keepDims);
    save([centred]);
    // customGrad takes one output tensor: both moments stacked
    return {
      value: tf.stack([mean, variance]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dMean, dVariance] = tf.unstack(dy);
        const [c] = saved;
        const perChannel = (t: tf.Tensor) => tf.reshape(t, keptShape);
        return [tf.div(tf.add(tf.mul(c, perChannel(tf.mul(dVariance, 2))), perChannel(dMean)), n)];
      },
    };
  });
  const [mean, variance] = tf.unstack(f(x));
  return { mean, variance };
}
