import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadDataset, datasetNames, loadMnistPackageDigits } from '../../src/data/index.js';
import { buildDenseDigits, denseDigitsRecipe } from '../../src/data/dense-digits.js';
import { renderScene, sticker, tiltedNormal, BACKGROUND_CLASS, type Scene, type SceneArrays } from '../../src/data/scene.js';
import { ExtraInputError } from '../../src/errors.js';

const cacheDir = () => mkdtempSync(path.join(tmpdir(), 'extra-dense-'));
const small = { trainSize: 40, valSize: 10, testSize: 10 };
const same = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('dense-digits (built-in per-pixel set)', () => {
  it('is in the data-set table', () => {
    expect(datasetNames()).toContain('dense-digits');
  });

  it('has three per-pixel tasks with their kinds, label shapes and sizes', async () => {
    const ds = await loadDataset('dense-digits', { ...small, cacheDir: cacheDir(), quiet: true });
    expect(ds.inputShape).toEqual([32, 32, 1]);
    expect(ds.taskNames).toEqual(['seg', 'depth', 'normal']);
    expect(ds.taskKinds).toEqual(['seg', 'depth', 'normal']);
    expect(ds.numClasses).toEqual([11, 1, 3]);
    expect(ds.labelShapes).toEqual([[32, 32], [32, 32], [32, 32, 3]]);
    for (const [s, n] of [[ds.train, 40], [ds.val, 10], [ds.test, 10]] as const) {
      expect(s.n).toBe(n);
      expect(s.x).toBeInstanceOf(Float32Array);
      expect(s.x.length).toBe(n * 1024);
      expect(s.y[0]).toBeInstanceOf(Int32Array);
      expect(s.y[0].length).toBe(n * 1024);
      expect(s.y[1]).toBeInstanceOf(Float32Array);
      expect(s.y[1].length).toBe(n * 1024);
      expect(s.y[2]).toBeInstanceOf(Float32Array);
      expect(s.y[2].length).toBe(n * 1024 * 3);
    }
    const r16 = await loadDataset('dense-digits', { ...small, resolution: 16, cacheDir: cacheDir(), quiet: true });
    expect(r16.inputShape).toEqual([16, 16, 1]);
    expect(r16.labelShapes).toEqual([[16, 16], [16, 16], [16, 16, 3]]);
  });

  it('labels are in range: classes 0..10 (no ignored pixel), depth > 0, normals unit length facing the camera, image in [0, 1]', async () => {
    const ds = await loadDataset('dense-digits', { ...small, cacheDir: cacheDir(), quiet: true });
    for (const s of [ds.train, ds.val, ds.test]) {
      const [seg, depth, normal] = s.y;
      const seen = new Set<number>();
      let bad = 0;
      for (const c of seg) {
        if (!(Number.isInteger(c) && c >= 0 && c <= BACKGROUND_CLASS)) bad++;
        seen.add(c);
      }
      expect(bad).toBe(0);
      expect(seen.has(BACKGROUND_CLASS)).toBe(true);
      expect(seen.size).toBeGreaterThan(3);
      expect(depth.every((d) => d > 0 && Number.isFinite(d))).toBe(true);
      let worst = 0;
      let facing = true;
      for (let p = 0; p < normal.length; p += 3) {
        worst = Math.max(worst, Math.abs(Math.hypot(normal[p], normal[p + 1], normal[p + 2]) - 1));
        facing &&= normal[p + 2] < 0;
      }
      expect(worst).toBeLessThan(1e-5);
      expect(facing).toBe(true);
      expect(s.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
    // every scene shows some digit pixels and some background
    const seg = ds.train.y[0];
    for (let i = 0; i < ds.train.n; i++) {
      const px = seg.subarray(i * 1024, (i + 1) * 1024);
      const digits = px.filter((c) => c !== BACKGROUND_CLASS).length;
      expect(digits).toBeGreaterThan(20);
      expect(digits).toBeLessThan(1024);
    }
  });

  it('is deterministic from the seed, differs across seeds, and a cached load equals a fresh build', async () => {
    const dir = cacheDir();
    const a = await loadDataset('dense-digits', { ...small, seed: 1, cacheDir: dir, quiet: true });
    const b = await loadDataset('dense-digits', { ...small, seed: 1, cacheDir: cacheDir(), quiet: true });
    const cached = await loadDataset('dense-digits', { ...small, seed: 1, cacheDir: dir, quiet: true });
    const c = await loadDataset('dense-digits', { ...small, seed: 2, cacheDir: dir, quiet: true });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    for (const other of [b, cached]) {
      for (const s of ['train', 'val', 'test'] as const) {
        expect(same(a[s].x, other[s].x)).toBe(true);
        a[s].y.forEach((y, k) => expect(same(y, other[s].y[k])).toBe(true));
      }
    }
    expect(c.fingerprint).not.toBe(a.fingerprint);
    expect(same(a.train.x, c.train.x)).toBe(false);
    const sized = await loadDataset('dense-digits', { ...small, trainSize: 41, seed: 1, cacheDir: dir, quiet: true });
    expect(sized.fingerprint).not.toBe(a.fingerprint);
  });

  it('a damaged cache file is rebuilt, not trusted', async () => {
    const dir = cacheDir();
    const a = await loadDataset('dense-digits', { ...small, cacheDir: dir, quiet: true });
    const file = path.join(dir, readdirSync(dir).find((f) => f.startsWith('dense-digits-'))!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(file, bytes);
    const b = await loadDataset('dense-digits', { ...small, cacheDir: dir, quiet: true });
    expect(same(a.train.y[1], b.train.y[1])).toBe(true);
    expect(same(a.test.y[2], b.test.y[2])).toBe(true);
  });

  it('train, validation and test scenes use disjoint source digits', () => {
    const built = buildDenseDigits(denseDigitsRecipe({ trainSize: 300, valSize: 100, testSize: 100, seed: 3 }), loadMnistPackageDigits());
    const sets = (['train', 'val', 'test'] as const).map((s) => new Set(built.sourceIndices[s]));
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) for (const v of sets[i]) expect(sets[j].has(v)).toBe(false);
  });

  it('occlusion: where two digits overlap, the nearer one wins (class, depth and normal), whichever is drawn first', () => {
    const src = loadMnistPackageDigits();
    const S = 32;
    // two different classes, the same place on screen, fronto-parallel at depths 4 and 6 (both 24 px wide)
    const i0 = src.labels.indexOf(0);
    const i8 = src.labels.indexOf(8);
    const back = { normal: tiltedNormal(0, 0), point: [0, 0, 12] as [number, number, number] };
    const at = (z: number, source: number, tilt: number) => sticker(tiltedNormal(tilt, 1), [0, 0, z], (24 * z) / S, 0, source);
    const render = (scene: Scene): SceneArrays => {
      const out: SceneArrays = { x: new Float32Array(S * S), seg: new Int32Array(S * S), depth: new Float32Array(S * S), normal: new Float32Array(S * S * 3) };
      renderScene(scene, src, S, out, 0);
      return out;
    };
    const only0 = render({ background: back, digits: [at(4, i0, 0)] });
    const only8 = render({ background: back, digits: [at(6, i8, 0.3)] });
    for (const digits of [[at(4, i0, 0), at(6, i8, 0.3)], [at(6, i8, 0.3), at(4, i0, 0)]]) {
      const both = render({ background: back, digits });
      let overlap = 0;
      let behind = 0;
      for (let p = 0; p < S * S; p++) {
        if (only0.seg[p] === 0) {
          // the near 0 covers this pixel: it wins, with its depth and normal
          expect(both.seg[p]).toBe(0);
          expect(both.depth[p]).toBeCloseTo(4, 5);
          expect(both.normal[3 * p + 2]).toBeCloseTo(-1, 6);
          if (only8.seg[p] === 8) overlap++;
        } else if (only8.seg[p] === 8) {
          // only the far 8 is there: it shows, on its tilted plane
          expect(both.seg[p]).toBe(8);
          expect(both.depth[p]).toBeCloseTo(only8.depth[p], 5);
          expect(both.normal[3 * p + 2]).toBeCloseTo(-Math.cos(0.3), 5);
          behind++;
        } else {
          expect(both.seg[p]).toBe(BACKGROUND_CLASS);
          expect(both.depth[p]).toBeCloseTo(12, 4);
        }
      }
      expect(overlap).toBeGreaterThan(5);
      expect(behind).toBeGreaterThan(5);
    }
  });

  it('a tilted plane\'s depth follows the plane: every pixel of one sticker lies on it', () => {
    const src = loadMnistPackageDigits();
    const S = 32;
    const n = tiltedNormal(0.6, 2);
    const s = sticker(n, [0.5, -0.3, 5], 5, 0.2, src.labels.indexOf(3));
    const out: SceneArrays = { x: new Float32Array(S * S), seg: new Int32Array(S * S), depth: new Float32Array(S * S), normal: new Float32Array(S * S * 3) };
    renderScene({ background: { normal: tiltedNormal(0, 0), point: [0, 0, 12] }, digits: [s] }, src, S, out, 0);
    let count = 0;
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        const p = r * S + c;
        if (out.seg[p] !== 3) continue;
        const z = out.depth[p];
        const X = [((c + 0.5 - S / 2) / S) * z, ((r + 0.5 - S / 2) / S) * z, z];
        expect(n[0] * (X[0] - 0.5) + n[1] * (X[1] + 0.3) + n[2] * (X[2] - 5)).toBeCloseTo(0, 4);
        count++;
      }
    }
    expect(count).toBeGreaterThan(20);
  });

  it('refuses sizes that would not fit in memory, and options it does not use, before building anything', async () => {
    await expect(loadDataset('dense-digits', { trainSize: 1e9, cacheDir: cacheDir(), quiet: true })).rejects.toThrow(/dense-digits: .* scenes at 32×32 need .* GiB, more than half/);
    await expect(loadDataset('dense-digits', { resolution: 8, cacheDir: cacheDir(), quiet: true })).rejects.toThrow(ExtraInputError);
    await expect(loadDataset('dense-digits', { dataDir: '/tmp', cacheDir: cacheDir(), quiet: true })).rejects.toThrow(/--data-dir is not used by dense-digits/);
    await expect(loadDataset('dense-digits', { valFraction: 0.1, cacheDir: cacheDir(), quiet: true })).rejects.toThrow(/--val-fraction/);
  });
});
