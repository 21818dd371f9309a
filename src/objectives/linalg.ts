/** Small dense helpers on Gram matrices (K×K, K = number of tasks); plain loops are enough here. */
export function gram(grads: Float64Array[]): number[][] {
  const K = grads.length;
  const M = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < K; i++) {
    for (let j = i; j < K; j++) {
      let s = 0;
      const a = grads[i];
      const b = grads[j];
      for (let q = 0; q < a.length; q++) s += a[q] * b[q];
      M[i][j] = s;
      M[j][i] = s;
    }
  }
  return M;
}

export function matVec(M: number[][], w: number[]): number[] {
  return M.map((row) => row.reduce((a, v, j) => a + v * w[j], 0));
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function combine(grads: Float64Array[], w: number[]): Float64Array {
  const d = new Float64Array(grads[0].length);
  grads.forEach((g, k) => {
    const wk = w[k];
    if (wk === 0) return;
    for (let i = 0; i < d.length; i++) d[i] += wk * g[i];
  });
  return d;
}

/** Euclidean projection onto the probability simplex (Duchi et al. 2008). */
export function projectSimplex(v: number[]): number[] {
  const u = [...v].sort((a, b) => b - a);
  let css = 0;
  let theta = 0;
  for (let i = 0; i < u.length; i++) {
    css += u[i];
    const th = (css - 1) / (i + 1);
    if (u[i] - th > 0) theta = th;
  }
  return v.map((x) => Math.max(x - theta, 0));
}

/**
 * Solve the symmetric positive-definite system A x = b by Gaussian elimination with partial
 * pivoting (K ≤ a few dozen).
 */
export function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    const piv = M[c][c] || 1e-300;
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / piv;
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / (M[r][r] || 1e-300);
  }
  return x;
}

/** Scale d in place so that ‖d‖ ≤ maxNorm (as torch's clip_grad_norm_ on the shared parameters); 0 turns it off. */
export function clipNorm(d: Float64Array, maxNorm: number): Float64Array {
  if (!(maxNorm > 0)) return d;
  let n2 = 0;
  for (let i = 0; i < d.length; i++) n2 += d[i] * d[i];
  const n = Math.sqrt(n2);
  if (n > maxNorm) for (let i = 0; i < d.length; i++) d[i] *= maxNorm / n;
  return d;
}
