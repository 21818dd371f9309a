/**
 * Downsampling of one H×W×C map (row-major, channels last) to h×w, the three ways dense data needs
 * (issue #40): images by area averaging (each output pixel the mean of the source area it covers,
 * fractional overlaps weighted, as OpenCV's INTER_AREA), class maps by nearest neighbour (a class is
 * never averaged into another), and measured maps (depth, normals) by area averaging over their valid
 * pixels only, so a missing measurement (0) never pulls a depth towards 0 (docs/design.md §8). Pure functions.
 */

/** Per output index along one axis: the source indices it covers and their overlap lengths. */
function areaWeights(n: number, m: number): { index: number[]; weight: number[] }[] {
  const scale = n / m;
  return Array.from({ length: m }, (_, i) => {
    const lo = i * scale;
    const hi = (i + 1) * scale;
    const index: number[] = [];
    const weight: number[] = [];
    for (let r = Math.floor(lo); r < Math.min(n, Math.ceil(hi)); r++) {
      const wgt = Math.min(hi, r + 1) - Math.max(lo, r);
      if (wgt > 1e-12) {
        index.push(r);
        weight.push(wgt);
      }
    }
    return { index, weight };
  });
}

/**
 * Area average of `src` (H×W×C) to h×w×C. With `valid` (a source pixel's index → whether it holds a
 * measurement), only valid pixels count, and an output pixel without any is 0 (no measurement).
 */
export function areaResize(src: ArrayLike<number>, H: number, W: number, C: number, h: number, w: number, valid?: (pixel: number) => boolean): Float32Array {
  const out = new Float32Array(h * w * C);
  const rows = areaWeights(H, h);
  const cols = areaWeights(W, w);
  const acc = new Float64Array(C);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      acc.fill(0);
      let total = 0;
      const ry = rows[i];
      const cx = cols[j];
      for (let a = 0; a < ry.index.length; a++) {
        for (let b = 0; b < cx.index.length; b++) {
          const p = ry.index[a] * W + cx.index[b];
          if (valid && !valid(p)) continue;
          const wgt = ry.weight[a] * cx.weight[b];
          total += wgt;
          for (let c = 0; c < C; c++) acc[c] += wgt * src[p * C + c];
        }
      }
      if (total > 0) for (let c = 0; c < C; c++) out[(i * w + j) * C + c] = acc[c] / total;
    }
  }
  return out;
}

/** Nearest-neighbour resize of `src` (H×W×C) to h×w×C: each output pixel takes the source pixel under its centre. */
export function nearestResize(src: ArrayLike<number>, H: number, W: number, C: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w * C);
  for (let i = 0; i < h; i++) {
    const r = Math.min(H - 1, Math.floor(((i + 0.5) * H) / h));
    for (let j = 0; j < w; j++) {
      const q = Math.min(W - 1, Math.floor(((j + 0.5) * W) / w));
      for (let c = 0; c < C; c++) out[(i * w + j) * C + c] = src[(r * W + q) * C + c];
    }
  }
  return out;
}

/** Depth (H×W, 0 = none) to h×w: the mean of the valid depths each output pixel covers. */
export function resizeDepth(src: ArrayLike<number>, H: number, W: number, h: number, w: number): Float32Array {
  return areaResize(src, H, W, 1, h, w, (p) => src[p] !== 0);
}

/**
 * Normals (H×W×3, (0,0,0) = none) to h×w×3: the mean of the valid normals each output pixel covers,
 * made unit length again (a mean of unit vectors is shorter); a mean of length ~0 (opposed normals) is
 * no measurement.
 */
export function resizeNormals(src: ArrayLike<number>, H: number, W: number, h: number, w: number): Float32Array {
  const out = areaResize(src, H, W, 3, h, w, (p) => src[3 * p] !== 0 || src[3 * p + 1] !== 0 || src[3 * p + 2] !== 0);
  for (let p = 0; p < h * w; p++) {
    const len = Math.hypot(out[3 * p], out[3 * p + 1], out[3 * p + 2]);
    for (let c = 0; c < 3; c++) out[3 * p + c] = len > 1e-6 ? out[3 * p + c] / len : 0;
  }
  return out;
}

/** The output width for height h keeping the aspect ratio of H×W (at least 1). */
export function resizedWidth(H: number, W: number, h: number): number {
  return Math.max(1, Math.round((W * h) / H));
}
