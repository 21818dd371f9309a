import * as tf from '@tensorflow/tfjs';
import { controlBary, cornerIndices, triangleBasis, triangleIndices, type Bary } from './triangle.js';

/**
 * A triangular Bézier patch in weight space: control points are complete parameter lists; the three
 * corners are endpoint models (frozen), the other control points are trained. S(b) feeds the same
 * functional forward as any model.
 */
export interface WeightSurface {
  degree: number;
  paramNames: string[];
  corners: [tf.Tensor[], tf.Tensor[], tf.Tensor[]];
}

/** Indices (in triangleIndices order) of the trainable, non-corner control points. */
export function interiorIndices(s: WeightSurface): number[] {
  const c = new Set(cornerIndices(s.degree));
  return triangleIndices(s.degree).map((_, q) => q).filter((q) => !c.has(q));
}

export function surfaceTrainableNames(s: WeightSurface): string[] {
  return interiorIndices(s).flatMap((q) => s.paramNames.map((n) => `sp${q}/${n}`));
}

/** Initial non-corner control points at their barycentric positions of the flat triangle (S is then planar). */
export function initSurfaceTrainable(s: WeightSurface): tf.Tensor[] {
  const pos = controlBary(s.degree);
  return interiorIndices(s).flatMap((q) =>
    s.paramNames.map((_, j) => tf.tidy(() => tf.addN(s.corners.map((c, ci) => tf.mul(c[j], pos[q][ci]))))),
  );
}

export function surfaceControlPoints(s: WeightSurface, trainable: readonly tf.Tensor[]): tf.Tensor[][] {
  const P = s.paramNames.length;
  const corners = cornerIndices(s.degree);
  const interior = interiorIndices(s);
  return triangleIndices(s.degree).map((_, q) => {
    const c = corners.indexOf(q);
    if (c >= 0) return s.corners[c];
    const r = interior.indexOf(q);
    return trainable.slice(r * P, (r + 1) * P) as tf.Tensor[];
  });
}

/** S(b) = Σ B_ijk(b) P_ijk, touching only control points with non-zero basis. */
export function surfacePoint(s: WeightSurface, trainable: readonly tf.Tensor[], b: Bary): tf.Tensor[] {
  const B = triangleBasis(s.degree, b);
  const pts = surfaceControlPoints(s, trainable);
  const active = Array.from(B.keys()).filter((q) => B[q] > 0);
  return tf.tidy(() => s.paramNames.map((_, j) => (active.length === 1 ? tf.mul(pts[active[0]][j], B[active[0]]) : tf.addN(active.map((q) => tf.mul(pts[q][j], B[q]))))));
}
