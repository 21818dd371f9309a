import * as tf from '@tensorflow/tfjs';

/**
 * Image resizing as ONNX's Resize defines it (opsets 11–17), axis by axis: each output row reads one
 * input row (nearest) or two with weights (linear). Source positions are rationals num/den, so the
 * rounding of a nearest index, ties included, is exact. The forward is gathers and one lerp, whose
 * gradients are tfjs' own (tfjs-core's ResizeBilinear gradient swaps H and W on non-square images).
 */

export const resizeCoordinates = ['asymmetric', 'half_pixel', 'pytorch_half_pixel', 'align_corners', 'tf_half_pixel_for_nn'] as const;
export type ResizeCoordinate = (typeof resizeCoordinates)[number];
export const nearestModes = ['floor', 'ceil', 'round_prefer_floor', 'round_prefer_ceil'] as const;
export type NearestMode = (typeof nearestModes)[number];

export interface ResizeSpec {
  interpolation: 'nearest' | 'bilinear';
  coordinate: ResizeCoordinate;
  nearestMode: NearestMode;
}

/** One axis: the rows read for each output row and the weight of the second (0 for nearest). */
export interface AxisPlan {
  lo: number[];
  hi: number[];
  w: number[];
}

/** The source position of output index o as num/den (den > 0), with the scale out/in. */
function source(o: number, n: number, m: number, c: ResizeCoordinate): [number, number] {
  switch (c) {
    case 'asymmetric':
      return [o * n, m];
    case 'half_pixel':
      return [(2 * o + 1) * n - m, 2 * m];
    case 'pytorch_half_pixel':
      return m > 1 ? [(2 * o + 1) * n - m, 2 * m] : [0, 1];
    case 'align_corners':
      return m > 1 ? [o * (n - 1), m - 1] : [0, 1];
    case 'tf_half_pixel_for_nn':
      return [(2 * o + 1) * n, 2 * m];
  }
}

/** The plan of one axis from n rows to m rows. */
export function axisPlan(n: number, m: number, s: ResizeSpec): AxisPlan {
  const lo: number[] = [];
  const hi: number[] = [];
  const w: number[] = [];
  const clamp = (i: number) => Math.min(Math.max(i, 0), n - 1);
  for (let o = 0; o < m; o++) {
    const [num, den] = source(o, n, m, s.coordinate);
    const q = Math.floor(num / den);
    const r = num - q * den; // 0 ≤ r < den, exact in integers
    if (s.interpolation === 'nearest') {
      const i =
        s.nearestMode === 'floor' ? q
        : s.nearestMode === 'ceil' ? (r > 0 ? q + 1 : q)
        : 2 * r < den ? q
        : 2 * r > den ? q + 1
        : s.nearestMode === 'round_prefer_floor' ? q : q + 1;
      lo.push(clamp(i));
      hi.push(clamp(i));
      w.push(0);
    } else {
      // the position clamped to [0, n−1], then its two neighbours
      const x = Math.min(Math.max(num / den, 0), n - 1);
      const f = Math.floor(x);
      lo.push(f);
      hi.push(Math.min(f + 1, n - 1));
      w.push(x - f);
    }
  }
  return { lo, hi, w };
}

/** Resize axis `axis` (1: rows, 2: columns) of an NHWC batch by a plan. */
function resizeAxis(x: tf.Tensor, axis: 1 | 2, p: AxisPlan): tf.Tensor {
  const n = x.shape[axis];
  if (p.lo.length === n && p.lo.every((v, i) => v === i && p.w[i] === 0)) return x;
  const a = tf.gather(x, tf.tensor1d(p.lo, 'int32'), axis);
  if (p.w.every((v) => v === 0)) return a;
  const b = tf.gather(x, tf.tensor1d(p.hi, 'int32'), axis);
  const shape = axis === 1 ? [1, p.w.length, 1, 1] : [1, 1, p.w.length, 1];
  return tf.add(a, tf.mul(tf.sub(b, a), tf.tensor(p.w, shape)));
}

/** An NHWC batch resized to [oh, ow]. */
export function resize2d(x: tf.Tensor, size: [number, number], s: ResizeSpec): tf.Tensor {
  const [, h, w] = x.shape;
  return resizeAxis(resizeAxis(x, 1, axisPlan(h, size[0], s)), 2, axisPlan(w, size[1], s));
}
