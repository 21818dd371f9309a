import * as tf from '@tensorflow/tfjs';

/*
 * The valid-pixel masks of the per-pixel kinds, as in the MTAN / LibMTL NYUv2 code: a class label of −1
 * is ignored; a depth or normal target of all zeros is "no measurement".
 */

/** 1 where a segmentation label is a class (≥ 0), else 0; float, shaped like the labels. */
export function classMask(labels: tf.Tensor): tf.Tensor {
  return tf.cast(tf.greaterEqual(labels, 0), 'float32');
}

/** 1 where a target [.., C] has any non-zero channel, else 0; shaped like the target without its last axis. */
export function measuredMask(target: tf.Tensor): tf.Tensor {
  return tf.cast(tf.notEqual(tf.sum(tf.abs(target), -1), 0), 'float32');
}

/** Σ values·mask / max(1, Σ mask): the mean over valid entries (0 for a batch without any). */
export function maskedMean(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.div(tf.sum(tf.mul(values, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** Check that an output is [H,W,C] with the given channels and return null, or say why not. */
export function perPixelOutputProblem(outShape: readonly number[], channels: number, what: string): string | null {
  if (outShape.length !== 3) return `a per-pixel ${what} output must be [H,W,C]; it is [${outShape.join(',')}]`;
  if (outShape[2] !== channels) return `a per-pixel ${what} output needs ${channels} channel${channels === 1 ? '' : 's'}; it has ${outShape[2]}`;
  return null;
}
