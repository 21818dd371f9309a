import type { NpyArray } from 'npyjs';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { checkDenseLabels, impliedDenseKind, isDenseKind, labelShapeOf, segLabels, validPixels, type DenseKind } from './dense-labels.js';
import type { DataTaskKind, Labels, Split } from './types.js';

/**
 * Per-pixel labels in `--data DIR` (npy.ts): a y_<split>_<task>.npy of shape N×H×W (integers: seg,
 * floats: depth; N×H×W×1 floats: depth) or N×H×W×3 (floats: normal), or the kind tasks.json gives the
 * task (e.g. "seg" for float class maps with −1 = ignore, as MTAN writes them). Reading keeps the
 * values as they are (pixelArray); once the task names and kinds are known, resolveKinds checks every
 * value for its kind and the maps' H×W against the images'.
 */

const FLOATS = ['f2', 'f4', 'f8'];
const INTS = ['i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'b1'];

/** A rank ≥ 3 label file as one flat array (Int32 from integers, Float32 from floats), its shape checked only. */
export function pixelArray(arr: NpyArray, file: string, n: number): Labels {
  if (arr.shape[0] !== n) throw new FileFormatError(`${file} has ${arr.shape[0]} rows but its inputs have ${n}`);
  if (arr.fortranOrder) throw new FileFormatError(`${file} is in Fortran order; save it with np.ascontiguousarray`);
  if (arr.shape.length > 4) throw new FileFormatError(`${file} has shape [${arr.shape.join(',')}]; per-pixel labels are N×H×W or N×H×W×3`);
  const float = FLOATS.includes(arr.dtype);
  if (!float && !INTS.includes(arr.dtype)) throw new FileFormatError(`${file} has dtype ${arr.dtype}; labels are integers (classes) or floats`);
  const raw = arr.data as unknown as ArrayLike<number | bigint>;
  if (float) return Float32Array.from(raw as ArrayLike<number>);
  const out = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = Number(raw[i]);
    if (v < -(2 ** 31) || v >= 2 ** 31) throw new FileFormatError(`${file}: value ${v} at ${i} is not a class index`);
    out[i] = v;
  }
  return out;
}

export interface ResolvedKinds {
  kinds: DataTaskKind[];
  labelShapes: number[][];
  /** the splits' label arrays, seg maps as Int32 with the ignore label mapped to −1 */
  y: Labels[][];
}

/**
 * Every task's kind and label shape: `given` (tasks.json) or what the file implies (per pixel: from its
 * shape and dtype; per sample: ce for integers, mse for floats). Per-pixel values are checked for their
 * kind, and their maps must be the images' H×W. `pixelShapes[k]` is task k's shape per sample in the
 * files (null: a per-sample task); `files[s][k]` names task k's file in split s.
 */
export function resolveKinds(req: { ys: Labels[][]; files: string[][]; pixelShapes: (number[] | null)[]; given: (DataTaskKind | undefined)[]; names: string[]; imageShape: number[]; ignoreLabel?: number }): ResolvedKinds {
  const kinds: DataTaskKind[] = [];
  const labelShapes: number[][] = [];
  const y = req.ys.map((s) => [...s]);
  req.pixelShapes.forEach((shape, k) => {
    const first = req.files[0][k];
    const float = req.ys[0][k] instanceof Float32Array;
    const given = req.given[k];
    if (!shape) {
      if (given !== undefined && isDenseKind(given)) throw new FileFormatError(`${first} holds one label per sample, but tasks.json gives task '${req.names[k]}' the per-pixel kind ${given}`);
      if (given === 'mse' && !float) throw new FileFormatError(`${first} holds integers, but tasks.json gives task '${req.names[k]}' the kind mse (float targets)`);
      if ((given === 'ce' || given === 'bce') && float) throw new FileFormatError(`${first} holds floats, but tasks.json gives task '${req.names[k]}' the kind ${given} (integer classes)`);
      if (given === 'bce') {
        req.ys.forEach((s, i) => {
          const bad = s[k].findIndex((v: number) => v !== 0 && v !== 1);
          if (bad >= 0) throw new FileFormatError(`${req.files[i][k]}: row ${bad} holds ${s[k][bad]}; a bce task's labels are 0 or 1`);
        });
      }
      kinds.push(given ?? (float ? 'mse' : 'ce'));
      labelShapes.push([]);
      return;
    }
    if (given !== undefined && !isDenseKind(given)) throw new FileFormatError(`${first} holds per-pixel labels [${shape.join(',')}], but tasks.json gives task '${req.names[k]}' the per-sample kind ${given}`);
    const kind: DenseKind | null = given ?? impliedDenseKind(shape, float);
    if (!kind) throw new FileFormatError(`${first} has ${float ? 'float' : 'integer'} labels of shape [${shape.join(',')}] per sample; per-pixel labels are H×W (integers: seg; floats: depth) or H×W×3 (floats: normal)`);
    const fits = kind === 'normal' ? shape.length === 3 && shape[2] === 3 : shape.length === 2 || (shape.length === 3 && shape[2] === 1);
    if (!fits) throw new FileFormatError(`${first} has labels of shape [${shape.join(',')}] per sample; ${kind} labels are ${kind === 'normal' ? 'H×W×3' : 'H×W'}`);
    if (kind !== 'seg' && !float) throw new FileFormatError(`${first} holds integers; ${kind} labels are floats`);
    const [h, w] = shape;
    if (req.imageShape.length !== 3 || req.imageShape[0] !== h || req.imageShape[1] !== w) {
      throw new FileFormatError(`${first} has ${h}×${w} label maps, but the images are ${req.imageShape.length === 3 ? `${req.imageShape[0]}×${req.imageShape[1]}` : `not images (rows of shape [${req.imageShape.join(',')}])`}`);
    }
    req.ys.forEach((s, i) => {
      checkDenseLabels(kind, s[k], h, w, req.files[i][k], { ignoreLabel: kind === 'seg' ? req.ignoreLabel : undefined });
      if (kind === 'seg') y[i][k] = segLabels(s[k], req.ignoreLabel);
    });
    kinds.push(kind);
    labelShapes.push(labelShapeOf(kind, h, w));
  });
  return { kinds, labelShapes, y };
}

/** Refuse a split in which a per-pixel task has no labelled pixel: it could be neither trained nor measured on. */
export function assertValidPixels(kinds: DataTaskKind[], names: string[], splits: [string, Split][], dir: string): void {
  for (const [s, split] of splits) {
    kinds.forEach((kind, k) => {
      if (isDenseKind(kind) && validPixels(kind, split.y[k]) === 0) {
        throw new ExtraInputError(`${dir}: the ${s} split has no valid pixel for task '${names[k]}' (${kind}: every pixel is ${kind === 'seg' ? 'the ignore label' : 'zero, no measurement'})`);
      }
    });
  }
}
