import * as tf from '@tensorflow/tfjs';
import { bsplineBasis } from '../nurbs/index.js';
import { makeRng, deriveSeed } from '../util/rng.js';
import type { CurveGeometry } from './types.js';

/**
 * A curve in weight space: control points P_0..P_n, each a complete parameter list of the model.
 * P_0 and P_n are the (frozen) endpoint models; P_1..P_{n-1} and, for NURBS, the log-weights ρ
 * (ω = exp ρ > 0 by construction) are the trainable tensors, kept in one flat list so tfjs can
 * differentiate C(t) with respect to them.
 */
export interface WeightCurve {
  geometry: CurveGeometry;
  paramNames: string[];
  ends: [tf.Tensor[], tf.Tensor[]];
  /**
   * the endpoints' own BatchNormalization statistics (models with BatchNormalization): exact at
   * t = 0 and t = 1, where C(t) is the endpoint itself; in between they are recomputed
   */
  endStatistics?: [tf.Tensor[], tf.Tensor[]];
}

/** Names of the trainable tensors: interior control points, then 'curve.log_weights' (NURBS). */
export function trainableNames(curve: WeightCurve): string[] {
  const names: string[] = [];
  for (let i = 1; i < curve.geometry.nControls - 1; i++) for (const n of curve.paramNames) names.push(`cp${i}/${n}`);
  if (curve.geometry.trainWeights) names.push('curve.log_weights');
  return names;
}

export function trainableShapes(curve: WeightCurve): number[][] {
  const shapes: number[][] = [];
  for (let i = 1; i < curve.geometry.nControls - 1; i++) for (const t of curve.ends[0]) shapes.push(t.shape);
  if (curve.geometry.trainWeights) shapes.push([curve.geometry.nControls]);
  return shapes;
}

/** Greville abscissae: placing P_i at E0 + ξ_i (E1 − E0) makes C(t) exactly the straight line. */
export function grevilleAbscissae(g: CurveGeometry): number[] {
  const out: number[] = [];
  for (let i = 0; i < g.nControls; i++) {
    let s = 0;
    for (let j = 1; j <= g.degree; j++) s += g.knots[i + j];
    out.push(s / g.degree);
  }
  return out;
}

/**
 * Initial trainable tensors: interior control points on the segment between the endpoints (at the
 * Greville abscissae, so the initial curve is the line itself), plus optional Gaussian noise scaled by
 * each tensor's endpoint difference; log-weights log ω.
 */
export function initTrainable(curve: WeightCurve, noise = 0, seed = 0, weightInit: 'ones' | 'random' = 'ones'): tf.Tensor[] {
  const g = curve.geometry;
  const xi = grevilleAbscissae(g);
  const out: tf.Tensor[] = [];
  for (let i = 1; i < g.nControls - 1; i++) {
    curve.ends[0].forEach((e0, j) => {
      const e1 = curve.ends[1][j];
      out.push(
        tf.tidy(() => {
          const diff = tf.sub(e1, e0);
          let p = tf.add(e0, tf.mul(diff, xi[i]));
          if (noise > 0) {
            const rng = makeRng(deriveSeed(seed, `curve-noise/${i}/${j}`));
            const z = new Float32Array(e0.size);
            for (let q = 0; q < z.length; q++) z[q] = rng.normal();
            const scale = tf.sqrt(tf.mean(tf.square(diff)));
            p = tf.add(p, tf.mul(tf.tensor(z, e0.shape), tf.mul(scale, noise)));
          }
          return p;
        }),
      );
    });
  }
  if (g.trainWeights) {
    // 'random': the EXTRA authors' ω ~ U(0, 1) (torch.rand), kept ≥ 1e-3 so log ω stays finite
    const rng = makeRng(deriveSeed(seed, 'curve-weights'));
    const w = weightInit === 'random' ? g.weights.map(() => Math.max(1e-3, rng.next())) : g.weights;
    out.push(tf.tensor1d(w.map((v) => Math.log(v))));
  }
  return out;
}

/** All n+1 control points (param lists) given the trainable list. */
export function controlPoints(curve: WeightCurve, trainable: readonly tf.Tensor[]): tf.Tensor[][] {
  const P = curve.paramNames.length;
  const pts: tf.Tensor[][] = [curve.ends[0]];
  for (let i = 1; i < curve.geometry.nControls - 1; i++) pts.push(trainable.slice((i - 1) * P, i * P) as tf.Tensor[]);
  pts.push(curve.ends[1]);
  return pts;
}

/** The weights ω (as a tensor, differentiable w.r.t. ρ for NURBS). */
export function curveWeights(curve: WeightCurve, trainable: readonly tf.Tensor[]): tf.Tensor1D {
  if (curve.geometry.trainWeights) return tf.exp(trainable[trainable.length - 1]) as tf.Tensor1D;
  return tf.tensor1d(curve.geometry.weights);
}

/**
 * Rational basis R(t) as a tensor: R_i = ω_i N_i(t) / Σ_j ω_j N_j(t), with N from src/nurbs
 * (constants) and ω possibly trainable. Differentiable w.r.t. ω.
 */
export function rationalBasisTensor(curve: WeightCurve, trainable: readonly tf.Tensor[], t: number): tf.Tensor1D {
  const g = curve.geometry;
  const N = bsplineBasis(t, g.knots, g.degree, g.nControls);
  return tf.tidy(() => {
    const wN = tf.mul(curveWeights(curve, trainable), tf.tensor1d(Float32Array.from(N)));
    return tf.div(wN, tf.sum(wN)) as tf.Tensor1D;
  });
}

/** C(t): the model's parameter list at t. Only control points with non-zero basis are touched. */
export function curvePoint(curve: WeightCurve, trainable: readonly tf.Tensor[], t: number): tf.Tensor[] {
  const g = curve.geometry;
  const N = bsplineBasis(t, g.knots, g.degree, g.nControls);
  const active: number[] = [];
  for (let i = 0; i < N.length; i++) if (N[i] > 0) active.push(i);
  const pts = controlPoints(curve, trainable);
  return tf.tidy(() => {
    const R = rationalBasisTensor(curve, trainable, t);
    const r = active.map((i) => tf.slice(R, [i], [1]).reshape([]));
    return curve.paramNames.map((_, j) => {
      if (active.length === 1) {
        // C(t) = P_i exactly (t = 0, t = 1 on a clamped curve, or a knot of a polychain)
        return tf.mul(pts[active[0]][j], r[0]);
      }
      return tf.addN(active.map((i, q) => tf.mul(pts[i][j], r[q])));
    });
  });
}

/** Plain-number ω (current weights) for storing in curve.json. */
export function currentWeights(curve: WeightCurve, trainable: readonly tf.Tensor[]): number[] {
  return Array.from(tf.tidy(() => curveWeights(curve, trainable).dataSync()));
}
