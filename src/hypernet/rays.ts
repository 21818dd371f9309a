import type { Rng } from '../util/rng.js';

/**
 * Preference rays of Pareto HyperNetworks (Navon et al., ICLR 2021): training rays are drawn from a
 * Dirichlet(α) distribution (their code: α = 0.2), evaluation rays are spread evenly in angle between
 * 0.1 and π/2 − 0.1 rad (their `circle_points` with min_angle 0.1), normalized to sum 1.
 */

/** Gamma(shape, 1) by Marsaglia–Tsang; shapes below 1 through G(a) = G(a + 1)·U^(1/a). */
export function gammaSample(shape: number, rng: Rng): number {
  if (!(shape > 0)) throw new Error(`gamma shape must be positive, got ${shape}`);
  if (shape < 1) {
    let u = rng.next();
    while (u <= 1e-300) u = rng.next();
    return gammaSample(shape + 1, rng) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** One ray from Dirichlet(α, …, α) over k tasks. */
export function dirichletRay(k: number, alpha: number, rng: Rng): number[] {
  const g = Array.from({ length: k }, () => gammaSample(alpha, rng));
  const s = g.reduce((a, b) => a + b, 0);
  // all k draws underflowing to 0 (possible for tiny α): fall back to the uniform ray
  return s > 0 ? g.map((v) => v / s) : Array(k).fill(1 / k);
}

/** n two-task evaluation rays, evenly spread in angle in [0.1, π/2 − 0.1], from task-0-heavy to task-1-heavy. */
export function evaluationRays(n: number, minAngle = 0.1): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const a = n === 1 ? Math.PI / 4 : minAngle + ((Math.PI / 2 - 2 * minAngle) * i) / (n - 1);
    const r = [Math.cos(a), Math.sin(a)];
    const s = r[0] + r[1];
    return [r[0] / s, r[1] / s];
  });
}
