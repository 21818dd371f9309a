/**
 * The two-objective toy problem of Lin et al. 2019 (Pareto MTL):
 *   f1(x) = 1 − exp(−‖x − 1/√d‖²),  f2(x) = 1 − exp(−‖x + 1/√d‖²).
 * Its Pareto set is the segment between x = −1/√d·1 and x = +1/√d·1.
 */
/** ‖x − c‖² and ‖x + c‖² with c = 1/√d. */
function squaredDistances(x: ArrayLike<number>): [number, number, number] {
  const c = 1 / Math.sqrt(x.length);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    s1 += (x[i] - c) ** 2;
    s2 += (x[i] + c) ** 2;
  }
  return [s1, s2, c];
}

export function toyObjectives(x: ArrayLike<number>): [number, number] {
  const [s1, s2] = squaredDistances(x);
  return [1 - Math.exp(-s1), 1 - Math.exp(-s2)];
}

/** Analytic gradients: ∇f1 = 2 (x − c) exp(−‖x − c‖²), likewise f2. */
export function toyGradients(x: ArrayLike<number>): [Float64Array, Float64Array] {
  const d = x.length;
  const [s1, s2, c] = squaredDistances(x);
  const e1 = Math.exp(-s1);
  const e2 = Math.exp(-s2);
  const g1 = new Float64Array(d);
  const g2 = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    g1[i] = 2 * (x[i] - c) * e1;
    g2[i] = 2 * (x[i] + c) * e2;
  }
  return [g1, g2];
}

export const TOY_DEFAULT_DIM = 20;
