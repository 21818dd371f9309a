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

interface LabelRules {
  numClasses?: number;
  ignoreLabel?: number;
}

/**
 * The index of the first value that breaks its kind's rules (checkDenseLabels), or −1. The loops only
 * compare: V8 runs a loop holding a (never taken) call with a template string argument ~100× slower.
 */
function firstBad(kind: DenseKind, data: ArrayLike<number>, { numClasses, ignoreLabel }: LabelRules): number {
  const n = data.length;
  if (kind === 'seg') {
    const top = numClasses ?? Infinity;
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (v !== ignoreLabel && !(Number.isInteger(v) && v >= -1 && v < top)) return i;
    }
  } else if (kind === 'depth') {
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (!(v >= 0 && v <= Number.MAX_VALUE)) return i;
    }
  } else {
    const [lo, hi] = NORMAL_LENGTH_BAND;
    for (let i = 0; i < n; i += 3) {
      const x = data[i];
      const y = data[i + 1];
      const z = data[i + 2];
      if (x === 0 && y === 0 && z === 0) continue;
      const sq = x * x + y * y + z * z;
      if (!(sq >= lo * lo && sq <= hi * hi)) return i;
    }
  }
  return -1;
}

/** What is wrong with the value at i (found by firstBad). */
function problem(kind: DenseKind, data: ArrayLike<number>, i: number, { numClasses, ignoreLabel }: LabelRules): string {
  const ignore = ignoreLabel === undefined ? 'the ignore label −1; --ignore-label L where another value marks ignored pixels' : `the ignore label ${ignoreLabel} (--ignore-label)`;
  const v = data[i];
  if (kind === 'seg') {
    if (!Number.isInteger(v) || v < -1) return `holds ${v}; seg labels are class indices 0, 1, ... or ${ignore}`;
    return `holds class ${v}, out of range for ${numClasses} classes (0..${(numClasses ?? 0) - 1}, or ${ignore})`;
  }
  if (kind === 'depth') return Number.isFinite(v) ? `holds depth ${v}; depths are ≥ 0 (0 where there is no measurement)` : `holds depth ${v}; depths are finite, 0 where there is no measurement`;
  const [x, y, z] = [data[i], data[i + 1], data[i + 2]];
  if (![x, y, z].every(Number.isFinite)) return `holds the normal (${x}, ${y}, ${z}); normals are finite, (0, 0, 0) where there is no measurement`;
  return `holds the normal (${x}, ${y}, ${z}) of length ${Math.hypot(x, y, z).toPrecision(3)}; normals are unit vectors, or (0, 0, 0) where there is no measurement`;
}

/**
 * Check dense labels of N samples of H×W (seg: integers from −1, below `numClasses` when given, with
 * `ignoreLabel` standing for −1; depth: finite and ≥ 0; normal: finite, zero or of a length inside
 * NORMAL_LENGTH_BAND). Throws a FileFormatError naming `file`, the sample and the pixel.
 */
export function checkDenseLabels(kind: DenseKind, data: ArrayLike<number>, h: number, w: number, file: string, rules: LabelRules = {}): void {
  const i = firstBad(kind, data, rules);
  if (i >= 0) throw new FileFormatError(`${file}: ${where(i, h, w, channelsOf(kind))} ${problem(kind, data, i, rules)}`);
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

