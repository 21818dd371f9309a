import { FileFormatError } from '../errors.js';
import type { Labels } from './types.js';

/**
 * Per-pixel (dense) labels as the data sets deliver them (src/data/types.ts): seg Int32 class indices
 * with −1 = ignored pixel, depth Float32 with 0 = no measurement, normal Float32 xyz with (0,0,0) = no
 * measurement. Here: which kinds are per-pixel, the kind a label array's shape and dtype imply, the
 * checks every loader runs on the values (naming the file, sample and pixel of the first bad value),
 * and the count of valid pixels (a split with none cannot be trained or measured on).
 */
export type DenseKind = 'seg' | 'depth' | 'normal';
export const denseKinds: readonly DenseKind[] = ['seg', 'depth', 'normal'];

export function isDenseKind(k: string): k is DenseKind {
  return (denseKinds as readonly string[]).includes(k);
}

/** The label values per pixel of a kind: three for a normal, one otherwise. */
export function channelsOf(kind: DenseKind): number {
  return kind === 'normal' ? 3 : 1;
}

/** A label shape per sample for a kind at H×W: [H,W] or [H,W,3]. */
export function labelShapeOf(kind: DenseKind, h: number, w: number): number[] {
  return kind === 'normal' ? [h, w, 3] : [h, w];
}

/**
 * The kind a per-sample label shape (without N) and dtype imply: H×W integers → seg, H×W (or H×W×1)
 * floats → depth, H×W×3 floats → normal; null for anything else (a per-sample label, or no dense kind).
 */
export function impliedDenseKind(shape: readonly number[], float: boolean): DenseKind | null {
  if (shape.length === 2) return float ? 'depth' : 'seg';
  // MTAN/LibMTL write depth as H×W×1
  if (shape.length === 3 && shape[2] === 1 && float) return 'depth';
  if (shape.length === 3 && shape[2] === 3 && float) return 'normal';
  return null;
}

/**
 * Length band of a measured normal: unit vectors, with room for targets resampled by their makers
 * (the MTAN/LibMTL NYUv2 normals were rescaled, which shortens them at creases). Outside it the values
 * are not normals: an image encoding (0–255), garbage, or a zero vector written as noise.
 */
export const NORMAL_LENGTH_BAND: readonly [number, number] = [0.5, 1.5];

/** Where a flat index of sample-major N×H×W(×C) data lies, for messages. */
function where(i: number, h: number, w: number, c: number): string {
  const p = Math.floor(i / c);
  const n = Math.floor(p / (h * w));
  const r = Math.floor((p % (h * w)) / w);
  return `sample ${n} pixel (${r}, ${p % w})`;
}

/**
 * Check dense labels of N samples of H×W (seg: integers from −1, below `numClasses` when given, with
 * `ignoreLabel` standing for −1; depth: finite and ≥ 0; normal: finite, zero or of a length inside
 * NORMAL_LENGTH_BAND). Throws a FileFormatError naming `file`, the sample and the pixel.
 */
export function checkDenseLabels(kind: DenseKind, data: ArrayLike<number>, h: number, w: number, file: string, opts: { numClasses?: number; ignoreLabel?: number } = {}): void {
  const bad = (i: number, what: string): never => {
    throw new FileFormatError(`${file}: ${where(i, h, w, channelsOf(kind))} ${what}`);
  };
  const ignore = opts.ignoreLabel === undefined ? 'the ignore label −1' : `the ignore label ${opts.ignoreLabel} (--ignore-label)`;
  if (kind === 'seg') {
    const { numClasses, ignoreLabel } = opts;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v === ignoreLabel) continue;
      if (!Number.isInteger(v) || v < -1) bad(i, `holds ${v}; seg labels are class indices 0, 1, ... or ${ignore}`);
      if (numClasses !== undefined && v >= numClasses) bad(i, `holds class ${v}, out of range for ${numClasses} classes (0..${numClasses - 1}, or ${ignore})`);
    }
  } else if (kind === 'depth') {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!Number.isFinite(v)) bad(i, `holds depth ${v}; depths are finite, 0 where there is no measurement`);
      if (v < 0) bad(i, `holds depth ${v}; depths are ≥ 0 (0 where there is no measurement)`);
    }
  } else {
    const [lo, hi] = NORMAL_LENGTH_BAND;
    for (let i = 0; i < data.length; i += 3) {
      const x = data[i];
      const y = data[i + 1];
      const z = data[i + 2];
      if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) bad(i, `holds the normal (${x}, ${y}, ${z}); normals are finite, (0, 0, 0) where there is no measurement`);
      if (x === 0 && y === 0 && z === 0) continue;
      const len = Math.hypot(x, y, z);
      if (len < lo || len > hi) bad(i, `holds the normal (${x}, ${y}, ${z}) of length ${len.toPrecision(3)}; normals are unit vectors, or (0, 0, 0) where there is no measurement`);
    }
  }
}

/** Seg labels as Int32 class indices, the ignore label mapped to −1 (after checkDenseLabels). */
export function segLabels(data: ArrayLike<number>, ignoreLabel: number | undefined): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] === ignoreLabel ? -1 : data[i];
  return out;
}

/** Pixels with a label: seg ≠ −1, depth ≠ 0, normal ≠ (0,0,0). */
export function validPixels(kind: DenseKind, data: Labels): number {
  let count = 0;
  if (kind === 'normal') {
    for (let i = 0; i < data.length; i += 3) if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 0) count++;
  } else {
    const none = kind === 'seg' ? -1 : 0;
    for (let i = 0; i < data.length; i++) if (data[i] !== none) count++;
  }
  return count;
}

