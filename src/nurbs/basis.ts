import { NurbsError } from './errors.js';
import { findSpan, validateKnots } from './knots.js';

/**
 * Non-zero B-spline basis functions N_{span-p..span, p}(t) (The NURBS Book A2.2, the triangular
 * Cox–de Boor scheme with 0/0 := 0 built in).
 */
export function nonZeroBasis(span: number, t: number, knots: ArrayLike<number>, degree: number): Float64Array {
  const N = new Float64Array(degree + 1);
  const left = new Float64Array(degree + 1);
  const right = new Float64Array(degree + 1);
  N[0] = 1;
  for (let j = 1; j <= degree; j++) {
    left[j] = t - knots[span + 1 - j];
    right[j] = knots[span + j] - t;
    let saved = 0;
    for (let r = 0; r < j; r++) {
      const denom = right[r + 1] + left[j - r];
      const temp = denom === 0 ? 0 : N[r] / denom;
      N[r] = saved + right[r + 1] * temp;
      saved = left[j - r] * temp;
    }
    N[j] = saved;
  }
  return N;
}

/**
 * Non-zero basis functions and their derivatives up to order `nd` (A2.3): ders[k][j] is the k-th
 * derivative of N_{span-p+j, p} at t.
 */
export function nonZeroBasisDerivatives(span: number, t: number, knots: ArrayLike<number>, degree: number, nd: number): Float64Array[] {
  const p = degree;
  const ndu: Float64Array[] = Array.from({ length: p + 1 }, () => new Float64Array(p + 1));
  const left = new Float64Array(p + 1);
  const right = new Float64Array(p + 1);
  ndu[0][0] = 1;
  for (let j = 1; j <= p; j++) {
    left[j] = t - knots[span + 1 - j];
    right[j] = knots[span + j] - t;
    let saved = 0;
    for (let r = 0; r < j; r++) {
      ndu[j][r] = right[r + 1] + left[j - r];
      const temp = ndu[j][r] === 0 ? 0 : ndu[r][j - 1] / ndu[j][r];
      ndu[r][j] = saved + right[r + 1] * temp;
      saved = left[j - r] * temp;
    }
    ndu[j][j] = saved;
  }
  const ders: Float64Array[] = Array.from({ length: nd + 1 }, () => new Float64Array(p + 1));
  for (let j = 0; j <= p; j++) ders[0][j] = ndu[j][p];
  const a: Float64Array[] = [new Float64Array(p + 1), new Float64Array(p + 1)];
  for (let r = 0; r <= p; r++) {
    let s1 = 0;
    let s2 = 1;
    a[0].fill(0);
    a[1].fill(0);
    a[0][0] = 1;
    for (let k = 1; k <= nd; k++) {
      let d = 0;
      const rk = r - k;
      const pk = p - k;
      if (r >= k) {
        a[s2][0] = ndu[pk + 1][rk] === 0 ? 0 : a[s1][0] / ndu[pk + 1][rk];
        d = a[s2][0] * ndu[rk][pk];
      }
      const j1 = rk >= -1 ? 1 : -rk;
      const j2 = r - 1 <= pk ? k - 1 : p - r;
      for (let j = j1; j <= j2; j++) {
        const den = ndu[pk + 1][rk + j];
        a[s2][j] = den === 0 ? 0 : (a[s1][j] - a[s1][j - 1]) / den;
        d += a[s2][j] * ndu[rk + j][pk];
      }
      if (r <= pk) {
        const den = ndu[pk + 1][r];
        a[s2][k] = den === 0 ? 0 : -a[s1][k - 1] / den;
        d += a[s2][k] * ndu[r][pk];
      }
      ders[k][r] = d;
      const tmp = s1;
      s1 = s2;
      s2 = tmp;
    }
  }
  let r = p;
  for (let k = 1; k <= nd; k++) {
    for (let j = 0; j <= p; j++) ders[k][j] *= r;
    r *= p - k;
  }
  return ders;
}

/** The NURBS Book name for {@link nonZeroBasis} (A2.2). */
export const basisFunctions = nonZeroBasis;

/** The NURBS Book name for {@link nonZeroBasisDerivatives} (A2.3). */
export const basisFunctionDerivatives = nonZeroBasisDerivatives;

/** All nControl values N_{i,p}(t) (zeros outside the support). */
export function bsplineBasis(t: number, knots: ArrayLike<number>, degree: number, nControl: number): Float64Array {
  validateKnots(knots, nControl, degree);
  const span = findSpan(t, knots, degree, nControl);
  const nz = nonZeroBasis(span, t, knots, degree);
  const out = new Float64Array(nControl);
  for (let j = 0; j <= degree; j++) out[span - degree + j] = nz[j];
  return out;
}

/** All nControl values dN_{i,p}/dt at t. */
export function bsplineBasisDerivative(t: number, knots: ArrayLike<number>, degree: number, nControl: number): Float64Array {
  validateKnots(knots, nControl, degree);
  const span = findSpan(t, knots, degree, nControl);
  const ders = nonZeroBasisDerivatives(span, t, knots, degree, 1);
  const out = new Float64Array(nControl);
  for (let j = 0; j <= degree; j++) out[span - degree + j] = ders[1][j];
  return out;
}

export function validateWeights(weights: ArrayLike<number>, nControl: number): void {
  if (weights.length !== nControl) throw new NurbsError(`need ${nControl} weights (one per control point), got ${weights.length}`);
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i]) || !(weights[i] > 0)) throw new NurbsError(`weight ${i} must be a finite positive number, got ${weights[i]}`);
  }
}

/** Rational basis R_i(t) = ω_i N_i(t) / Σ_j ω_j N_j(t). */
export function rationalBasis(t: number, knots: ArrayLike<number>, degree: number, weights: ArrayLike<number>): Float64Array {
  validateWeights(weights, weights.length);
  const N = bsplineBasis(t, knots, degree, weights.length);
  let W = 0;
  for (let i = 0; i < N.length; i++) W += weights[i] * N[i];
  const R = new Float64Array(N.length);
  for (let i = 0; i < N.length; i++) R[i] = (weights[i] * N[i]) / W;
  return R;
}

/** dR_i/dt = (ω_i N_i' W − ω_i N_i W') / W², W = Σ ω_j N_j. */
export function rationalBasisDerivative(t: number, knots: ArrayLike<number>, degree: number, weights: ArrayLike<number>): Float64Array {
  validateWeights(weights, weights.length);
  const n = weights.length;
  const N = bsplineBasis(t, knots, degree, n);
  const dN = bsplineBasisDerivative(t, knots, degree, n);
  let W = 0;
  let dW = 0;
  for (let i = 0; i < n; i++) {
    W += weights[i] * N[i];
    dW += weights[i] * dN[i];
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (weights[i] * dN[i] * W - weights[i] * N[i] * dW) / (W * W);
  return out;
}

/**
 * Jacobian J[i][j] = ∂R_i/∂ω_j = (δ_ij N_i W − ω_i N_i N_j) / W². Lets callers train the weights
 * without automatic differentiation (and is the oracle for the autodiff path).
 */
export function rationalBasisWeightJacobian(t: number, knots: ArrayLike<number>, degree: number, weights: ArrayLike<number>): Float64Array[] {
  validateWeights(weights, weights.length);
  const n = weights.length;
  const N = bsplineBasis(t, knots, degree, n);
  let W = 0;
  for (let i = 0; i < n; i++) W += weights[i] * N[i];
  return Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    for (let j = 0; j < n; j++) row[j] = ((i === j ? N[i] * W : 0) - weights[i] * N[i] * N[j]) / (W * W);
    return row;
  });
}
