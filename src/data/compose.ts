import { makeRng, permutation, type Rng } from '../util/rng.js';
import type { ImageSource } from './sources.js';

export const CANVAS = 36;
export const MAX_SHIFT = 4;

/** One composed sample: which source images, and their shifts. */
export interface Composition {
  a: number;
  b: number;
  /** top-left corner of digit A (row, col) in [0, MAX_SHIFT] */
  ar: number;
  ac: number;
  /** top-left corner of digit B in [CANVAS−28−MAX_SHIFT, CANVAS−28] */
  br: number;
  bc: number;
}

/**
 * Draw `n` compositions from the index pools: A from `poolA`, B from `poolB` (different images when the
 * pools are the same), random shifts of up to 4 px.
 */
export function drawCompositions(n: number, poolA: Int32Array, poolB: Int32Array, rng: Rng, side = 28): Composition[] {
  const far = CANVAS - side;
  const out: Composition[] = [];
  for (let i = 0; i < n; i++) {
    const a = poolA[rng.int(poolA.length)];
    let b = poolB[rng.int(poolB.length)];
    if (poolA === poolB) while (b === a && poolB.length > 1) b = poolB[rng.int(poolB.length)];
    out.push({ a, b, ar: rng.int(MAX_SHIFT + 1), ac: rng.int(MAX_SHIFT + 1), br: far - rng.int(MAX_SHIFT + 1), bc: far - rng.int(MAX_SHIFT + 1) });
  }
  return out;
}

/** Render compositions into 36×36 byte images: A top-left, B bottom-right, pixel maximum on overlap. */
export function renderCompositions(comps: Composition[], srcA: ImageSource, srcB: ImageSource): { pixels: Uint8Array; labelsA: Uint8Array; labelsB: Uint8Array } {
  const D = CANVAS * CANVAS;
  const s = srcA.side;
  const pixels = new Uint8Array(comps.length * D);
  const labelsA = new Uint8Array(comps.length);
  const labelsB = new Uint8Array(comps.length);
  comps.forEach((c, i) => {
    const base = i * D;
    const pa = c.a * s * s;
    const pb = c.b * s * s;
    for (let r = 0; r < s; r++) {
      for (let q = 0; q < s; q++) {
        const ia = base + (c.ar + r) * CANVAS + (c.ac + q);
        pixels[ia] = Math.max(pixels[ia], srcA.images[pa + r * s + q]);
        const ib = base + (c.br + r) * CANVAS + (c.bc + q);
        pixels[ib] = Math.max(pixels[ib], srcB.images[pb + r * s + q]);
      }
    }
    labelsA[i] = srcA.labels[c.a];
    labelsB[i] = srcB.labels[c.b];
  });
  return { pixels, labelsA, labelsB };
}

/** Split 0..n-1 into disjoint shuffled pools with the given fractions (the last takes the rest). */
export function splitPool(n: number, fractions: number[], seed: number): Int32Array[] {
  const perm = permutation(n, makeRng(seed));
  const out: Int32Array[] = [];
  let start = 0;
  fractions.forEach((f, i) => {
    const end = i === fractions.length - 1 ? n : start + Math.round(f * n);
    out.push(perm.slice(start, end));
    start = end;
  });
  return out;
}
