import { createRequire } from 'node:module';

// mathjs takes ~0.8 s to load; only task grouping needs it, so it is loaded on first use rather than
// by every command (an interactive `extra query` starts in ~0.4 s instead of ~1.2 s)
let mathjsEigs: ((m: number[][]) => unknown) | null = null;
function eigs(m: number[][]): unknown {
  mathjsEigs ??= (createRequire(import.meta.url)('mathjs') as { eigs: (m: number[][]) => unknown }).eigs;
  return mathjsEigs(m);
}
import { ExtraInputError } from '../errors.js';
import { makeRng } from '../util/rng.js';

/**
 * Turn an averaged gradient cosine-similarity matrix A (entries in [−1, 1]) into a non-negative
 * affinity: W = max(A, 0) off the diagonal, 1 on it. Conflicting tasks (negative cosine) get no
 * edge at all, which is what should separate them; (A + 1)/2 would keep every pair connected.
 */
export function cosineToAffinity(A: number[][]): number[][] {
  return A.map((row, i) => row.map((v, j) => (i === j ? 1 : Math.max(0, v))));
}

/** Symmetric normalized Laplacian L = I − D^{-1/2} W D^{-1/2}. */
export function normalizedLaplacian(W: number[][]): number[][] {
  const d = W.map((row) => row.reduce((a, b) => a + b, 0));
  const s = d.map((v) => (v > 0 ? 1 / Math.sqrt(v) : 0));
  return W.map((row, i) => row.map((w, j) => (i === j ? 1 : 0) - s[i] * w * s[j]));
}

/** Eigenpairs of a symmetric matrix, ascending by eigenvalue (mathjs does the decomposition). */
export function symmetricEigen(M: number[][]): { values: number[]; vectors: number[][] } {
  const r = eigs(M) as unknown as { values: number[]; eigenvectors: { value: number; vector: number[] }[] };
  const pairs = r.eigenvectors.map((e) => ({ value: Number(e.value), vector: (e.vector as unknown as number[]).map(Number) }));
  pairs.sort((a, b) => a.value - b.value);
  return { values: pairs.map((p) => p.value), vectors: pairs.map((p) => p.vector) };
}

/** k-means++ seeding and Lloyd iterations on the rows of X, deterministic from the seed. */
export function kMeans(X: number[][], k: number, seed = 0, restarts = 10, iterations = 100): number[] {
  const n = X.length;
  const dist2 = (a: number[], b: number[]) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
  let best: { labels: number[]; inertia: number } | null = null;
  for (let r = 0; r < restarts; r++) {
    const rng = makeRng(seed * 1000 + r);
    const centers: number[][] = [X[rng.int(n)]];
    while (centers.length < k) {
      const d = X.map((x) => Math.min(...centers.map((c) => dist2(x, c))));
      const total = d.reduce((a, b) => a + b, 0);
      let u = rng.next() * total;
      let pick = 0;
      for (; pick < n - 1; pick++) {
        u -= d[pick];
        if (u <= 0) break;
      }
      centers.push(total > 0 ? X[pick] : X[rng.int(n)]);
    }
    let labels = new Array<number>(n).fill(0);
    for (let it = 0; it < iterations; it++) {
      const next = X.map((x) => {
        let bi = 0;
        centers.forEach((c, ci) => {
          if (dist2(x, c) < dist2(x, centers[bi])) bi = ci;
        });
        return bi;
      });
      const changed = next.some((l, i) => l !== labels[i]);
      labels = next;
      for (let ci = 0; ci < k; ci++) {
        const members = X.filter((_, i) => labels[i] === ci);
        if (members.length) centers[ci] = members[0].map((_, q) => members.reduce((s, m) => s + m[q], 0) / members.length);
      }
      if (!changed && it > 0) break;
    }
    const inertia = X.reduce((s, x, i) => s + dist2(x, centers[labels[i]]), 0);
    if (!best || inertia < best.inertia - 1e-12) best = { labels, inertia };
  }
  return canonicalLabels(best!.labels);
}

/** Relabel so that groups are numbered by first appearance (stable output). */
export function canonicalLabels(labels: number[]): number[] {
  const map = new Map<number, number>();
  return labels.map((l) => {
    if (!map.has(l)) map.set(l, map.size);
    return map.get(l)!;
  });
}

export interface SpectralResult {
  labels: number[];
  k: number;
  eigenvalues: number[];
  /** true when every off-diagonal affinity was equal, so no structure could be found */
  degenerate: boolean;
}

/**
 * Spectral clustering (Ng, Jordan & Weiss): the k eigenvectors of the normalized Laplacian with the
 * smallest eigenvalues, rows normalized to unit length, then seeded k-means++. k = 'eigengap' picks
 * the k (2..n−1) with the largest gap λ_{k+1} − λ_k.
 */
export function spectralClustering(W: number[][], k: number | 'eigengap' = 3, seed = 0): SpectralResult {
  const n = W.length;
  if (n === 0) throw new ExtraInputError('cannot group zero tasks');
  W.forEach((row, i) => {
    if (row.length !== n) throw new ExtraInputError(`affinity matrix is not square (row ${i} has ${row.length} entries, expected ${n})`);
    row.forEach((v, j) => {
      if (!Number.isFinite(v) || v < 0) throw new ExtraInputError(`affinity[${i}][${j}] = ${v} is not a finite non-negative number`);
    });
  });
  if (typeof k === 'number' && (!Number.isInteger(k) || k < 1 || k > n)) {
    throw new ExtraInputError(`number of groups k = ${k} must be an integer between 1 and the number of tasks (${n})`);
  }
  const off = W.flatMap((row, i) => row.filter((_, j) => j !== i));
  const degenerate = off.length > 0 && off.every((v) => Math.abs(v - off[0]) < 1e-12);
  const { values, vectors } = symmetricEigen(normalizedLaplacian(W));
  let kk: number;
  if (k === 'eigengap') {
    kk = 2;
    let gap = -Infinity;
    for (let c = 2; c < n; c++) {
      const g = values[c] - values[c - 1];
      if (g > gap) {
        gap = g;
        kk = c;
      }
    }
  } else kk = k;
  if (degenerate) {
    // documented fallback: no structure, so split the tasks into k contiguous, equally sized groups
    return { labels: Array.from({ length: n }, (_, i) => Math.floor((i * kk) / n)), k: kk, eigenvalues: values, degenerate };
  }
  const U = Array.from({ length: n }, (_, i) => vectors.slice(0, kk).map((v) => v[i]));
  const rows = U.map((r) => {
    const norm = Math.hypot(...r);
    return norm > 0 ? r.map((v) => v / norm) : r;
  });
  return { labels: kMeans(rows, kk, seed), k: kk, eigenvalues: values, degenerate };
}

/** Adjusted Rand index (Hubert & Arabie 1985) between two labelings. */
export function adjustedRandIndex(a: number[], b: number[]): number {
  if (a.length !== b.length) throw new ExtraInputError('labelings differ in length');
  const n = a.length;
  const c2 = (x: number) => (x * (x - 1)) / 2;
  const table = new Map<string, number>();
  const ra = new Map<number, number>();
  const rb = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    ra.set(a[i], (ra.get(a[i]) ?? 0) + 1);
    rb.set(b[i], (rb.get(b[i]) ?? 0) + 1);
  }
  const index = [...table.values()].reduce((s, v) => s + c2(v), 0);
  const sa = [...ra.values()].reduce((s, v) => s + c2(v), 0);
  const sb = [...rb.values()].reduce((s, v) => s + c2(v), 0);
  const expected = (sa * sb) / c2(n);
  const max = (sa + sb) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}
