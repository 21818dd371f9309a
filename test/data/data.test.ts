import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  loadDataset,
  parseIdx,
  encodeIdx,
  buildMulti,
  loadSources,
  recipeOf,
  toyObjectives,
  toyGradients,
  loadMnistPackageDigits,
  loadMnistFull,
  loadFashion,
} from '../../src/data/index.js';
import { ExtraInputError, FileFormatError } from '../../src/errors.js';

const cacheDir = () => mkdtempSync(path.join(tmpdir(), 'extra-cache-'));
const small = { trainSize: 300, valSize: 60, testSize: 60 };

describe('multi-mnist (embedded)', () => {
  it('is deterministic from the seed and differs across seeds', async () => {
    const a = await loadDataset('multi-mnist', { ...small, seed: 1, cacheDir: cacheDir(), quiet: true });
    const b = await loadDataset('multi-mnist', { ...small, seed: 1, cacheDir: cacheDir(), quiet: true });
    const c = await loadDataset('multi-mnist', { ...small, seed: 2, cacheDir: cacheDir(), quiet: true });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(Buffer.from(a.train.x.buffer).equals(Buffer.from(b.train.x.buffer))).toBe(true);
    expect(a.fingerprint).not.toBe(c.fingerprint);
    expect(Buffer.from(a.train.x.buffer).equals(Buffer.from(c.train.x.buffer))).toBe(false);
    expect(a.inputShape).toEqual([36, 36, 1]);
    expect(a.train.x.length).toBe(300 * 36 * 36);
  });

  it('train, validation and test use disjoint source digits', () => {
    const r = recipeOf('multi-mnist', { ...small, seed: 3 });
    const built = buildMulti(r, loadSources('multi-mnist', {}));
    const sets = (['train', 'val', 'test'] as const).map((s) => new Set([...built.sourceIndices[s].a, ...built.sourceIndices[s].b]));
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) for (const v of sets[i]) expect(sets[j].has(v)).toBe(false);
  });

  it('a composed image is the pixel maximum of the two shifted digits, labels are the source labels', () => {
    const src = loadMnistPackageDigits();
    const r = recipeOf('multi-mnist', { ...small, seed: 4 });
    const built = buildMulti(r, loadSources('multi-mnist', {}));
    const i = 17;
    const img = built.splits.train.pixels.subarray(i * 1296, (i + 1) * 1296);
    const a = built.sourceIndices.train.a[i];
    const b = built.sourceIndices.train.b[i];
    expect(built.splits.train.labels[0][i]).toBe(src.labels[a]);
    expect(built.splits.train.labels[1][i]).toBe(src.labels[b]);
    // find the shifts by brute force: A lies in rows/cols 0..4, B in 4..8; exactly one pair of shifts reproduces the image
    let matches = 0;
    for (let ar = 0; ar <= 4; ar++) for (let ac = 0; ac <= 4; ac++) for (let br = 4; br <= 8; br++) for (let bc = 4; bc <= 8; bc++) {
      let ok = true;
      for (let y = 0; y < 36 && ok; y++) {
        for (let x = 0; x < 36 && ok; x++) {
          const va = y >= ar && y < ar + 28 && x >= ac && x < ac + 28 ? src.images[a * 784 + (y - ar) * 28 + (x - ac)] : 0;
          const vb = y >= br && y < br + 28 && x >= bc && x < bc + 28 ? src.images[b * 784 + (y - br) * 28 + (x - bc)] : 0;
          if (img[y * 36 + x] !== Math.max(va, vb)) ok = false;
        }
      }
      if (ok) matches++;
    }
    expect(matches).toBeGreaterThanOrEqual(1);
  });

  it('caches on disk; a corrupted cache file is rebuilt, not trusted', async () => {
    const dir = cacheDir();
    const a = await loadDataset('multi-mnist', { ...small, seed: 5, cacheDir: dir, quiet: true });
    const files = readdirSync(dir).filter((f) => f.endsWith('.bin'));
    expect(files.length).toBe(1);
    const file = path.join(dir, files[0]);
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] ^= 0xff; // flip a pixel byte
    writeFileSync(file, bytes);
    const b = await loadDataset('multi-mnist', { ...small, seed: 5, cacheDir: dir, quiet: true });
    expect(Array.from(b.train.x.subarray(0, 2000))).toEqual(Array.from(a.train.x.subarray(0, 2000)));
    expect(Buffer.from(b.test.x.buffer).equals(Buffer.from(a.test.x.buffer))).toBe(true);
    writeFileSync(file, bytes.subarray(0, 100)); // truncated
    const c = await loadDataset('multi-mnist', { ...small, seed: 5, cacheDir: dir, quiet: true });
    expect(Buffer.from(c.test.x.buffer).equals(Buffer.from(a.test.x.buffer))).toBe(true);
  });

  it('unknown data set names the known ones', async () => {
    await expect(loadDataset('cifar', {})).rejects.toThrow(/unknown data set 'cifar' \(known: multi-mnist, multi-fashion, multi-fashion-mnist, multi-mnist-attributes, npy, celeba, dense-digits, nyuv2, cityscapes, cityscapes-19\)/);
  });
});

describe('IDX files', () => {
  const img = encodeIdx([2, 28, 28], Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 256));
  it('parses plain and gzip IDX and refuses bad magic or truncation', () => {
    const p = parseIdx(img, 'x');
    expect(p.dims).toEqual([2, 28, 28]);
    expect(p.data[785]).toBe(785 % 256);
    expect(parseIdx(new Uint8Array(gzipSync(img)), 'x').data.length).toBe(2 * 784);
    expect(() => parseIdx(img.subarray(0, 100), 'f')).toThrow(/truncated/);
    const bad = Uint8Array.from(img);
    bad[0] = 7;
    expect(() => parseIdx(bad, 'f')).toThrow(FileFormatError);
  });

  it('a directory of tiny IDX files is a valid Fashion source; a missing directory says how to get the data', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-idx-'));
    const lbl = encodeIdx([2], Uint8Array.from([3, 9]));
    writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), img);
    writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), lbl);
    writeFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(img));
    writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(lbl));
    const f = loadFashion(dir);
    expect(f.train.n).toBe(2);
    expect(Array.from(f.test.labels)).toEqual([3, 9]);
    writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), lbl.subarray(0, 9));
    expect(() => loadFashion(dir)).toThrow(/truncated/);
    await expect(loadDataset('multi-fashion', { dataDir: '/nonexistent/dir', quiet: true })).rejects.toThrow(/apt-get install dataset-fashion-mnist/);
    await expect(loadDataset('multi-fashion', { dataDir: '/nonexistent/dir', quiet: true })).rejects.toBeInstanceOf(ExtraInputError);
  });

  const debian = '/usr/share/datasets/fashion-mnist';
  it.skipIf(!existsSync(debian))('builds a small multi-fashion and multi-fashion-mnist from the Debian package', async () => {
    const f = await loadDataset('multi-fashion', { ...small, cacheDir: cacheDir(), quiet: true });
    expect(f.train.n).toBe(300);
    expect(f.test.y[0].every((v) => v >= 0 && v < 10)).toBe(true);
    const fm = await loadDataset('multi-fashion-mnist', { ...small, cacheDir: cacheDir(), quiet: true });
    expect(fm.taskNames).toEqual(['digit', 'fashion']);
    // every class appears in 300 training samples
    expect(new Set(fm.train.y[1]).size).toBe(10);
  });

  it.skipIf(!existsSync(debian))('multi-fashion-mnist draws its digits from all of MNIST: disjoint train/val pools of the 60k, test from the 10k', () => {
    const m = loadMnistFull();
    const counts = (l: Uint8Array) => Array.from({ length: 10 }, (_, c) => l.reduce((a, v) => a + (v === c ? 1 : 0), 0));
    // oracle: the class counts LeCun publishes for MNIST's training and test sets
    expect([m.train.n, m.test.n]).toEqual([60000, 10000]);
    expect(counts(m.train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(counts(m.test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    const src = loadSources('multi-fashion-mnist', {});
    expect([src.a.n, src.aTest?.n, src.b.n, src.bTest?.n]).toEqual([60000, 10000, 60000, 10000]);
    const built = buildMulti(recipeOf('multi-fashion-mnist', { trainSize: 3000, valSize: 600, testSize: 600 }), src);
    const trainDigits = new Set(built.sourceIndices.train.a);
    expect(built.sourceIndices.val.a.some((i) => trainDigits.has(i))).toBe(false);
    // 3000 draws from a 54k pool reach far beyond the ~7k training digits of the mnist package
    expect(Math.max(...built.sourceIndices.train.a)).toBeGreaterThan(20000);
    // each composed digit label is its source digit's label
    built.sourceIndices.test.a.forEach((i, k) => expect(built.splits.test.labels[0][k]).toBe(m.test.labels[i]));
  });
});

describe('toy problem (Lin et al. 2019)', () => {
  it('known values and gradients vs finite differences', () => {
    const d = 20;
    const c = 1 / Math.sqrt(d);
    expect(toyObjectives(Array(d).fill(c))[0]).toBe(0);
    expect(toyObjectives(Array(d).fill(-c))[1]).toBe(0);
    expect(toyObjectives(Array(d).fill(0))[0]).toBeCloseTo(1 - Math.exp(-1), 14);
    const x = Array.from({ length: d }, (_, i) => Math.sin(i));
    const [g1, g2] = toyGradients(x);
    const h = 1e-6;
    for (const i of [0, 7, 19]) {
      const xp = [...x];
      const xm = [...x];
      xp[i] += h;
      xm[i] -= h;
      expect(g1[i]).toBeCloseTo((toyObjectives(xp)[0] - toyObjectives(xm)[0]) / (2 * h), 7);
      expect(g2[i]).toBeCloseTo((toyObjectives(xp)[1] - toyObjectives(xm)[1]) / (2 * h), 7);
    }
  });
});
