import { describe, it, expect } from 'vitest';
import { areaResize, nearestResize, resizeDepth, resizeNormals, resizedWidth } from '../../src/data/resample.js';

describe('downsampling of per-pixel data', () => {
  it('area averaging weighs fractional overlaps (3 → 2 pixels: 1.5 source pixels each)', () => {
    // one row of three pixels, two channels
    const src = [1, 10, 4, 40, 7, 70];
    const out = areaResize(src, 1, 3, 2, 1, 2);
    expect(out[0]).toBeCloseTo((1 * 1 + 4 * 0.5) / 1.5, 6);
    expect(out[1]).toBeCloseTo((10 * 1 + 40 * 0.5) / 1.5, 6);
    expect(out[2]).toBeCloseTo((4 * 0.5 + 7 * 1) / 1.5, 6);
    // separable in 2-D: a 3×3 → 2×2 block takes the products of the row and column overlaps
    const img = Array.from({ length: 9 }, (_, i) => i * i);
    const o = areaResize(img, 3, 3, 1, 2, 2);
    const w = [[1, 0.5, 0], [0, 0.5, 1]];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        let s = 0;
        for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) s += w[i][r] * w[j][c] * img[r * 3 + c];
        expect(o[i * 2 + j]).toBeCloseTo(s / 2.25, 5);
      }
    }
    // the same size is the identity
    expect([...areaResize(img, 3, 3, 1, 3, 3)]).toEqual(img);
  });

  it('nearest neighbour takes the pixel under each output centre, never a blend', () => {
    const src = Array.from({ length: 16 }, (_, i) => i);
    expect([...nearestResize(src, 4, 4, 1, 2, 2)]).toEqual([5, 7, 13, 15]);
    // 4 → 3: output centres at 0.67, 2 and 3.33 source pixels: rows and columns 0, 2, 3
    expect([...nearestResize(src, 4, 4, 1, 3, 3)]).toEqual([0, 2, 3, 8, 10, 11, 12, 14, 15]);
  });

  it('depth averages valid pixels only; an area without any stays 0', () => {
    const d = [2, 0, 0, 0, /* */ 4, 6, 0, 0];
    const out = resizeDepth(d, 2, 4, 1, 2);
    expect(out[0]).toBeCloseTo((2 + 4 + 6) / 3, 6);
    expect(out[1]).toBe(0);
  });

  it('normals average valid pixels and are made unit length; opposed normals become no measurement', () => {
    const s = Math.SQRT1_2;
    // the left output covers (1,0,0), (0,0,−1) and two unmeasured pixels; the right one (0,1,0) and (0,−1,0)
    const n = [1, 0, 0, 0, 0, 0, /* */ 0, 1, 0, 0, 0, 0, /* row 2 */ 0, 0, -1, 0, 0, 0, /* */ 0, -1, 0, 0, 0, 0];
    const out = resizeNormals(n, 2, 4, 1, 2);
    expect(out[0]).toBeCloseTo(s, 6);
    expect(out[1]).toBeCloseTo(0, 6);
    expect(out[2]).toBeCloseTo(-s, 6);
    expect([...out.subarray(3)]).toEqual([0, 0, 0]);
  });

  it('the width keeps the aspect ratio', () => {
    expect(resizedWidth(288, 384, 72)).toBe(96);
    expect(resizedWidth(128, 256, 64)).toBe(128);
    expect(resizedWidth(288, 384, 1)).toBe(1);
  });
});
