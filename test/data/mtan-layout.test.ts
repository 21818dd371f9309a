import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync, readdirSync, utimesSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { loadDataset, datasetNames } from '../../src/data/index.js';
import { ExtraInputError, FileFormatError } from '../../src/errors.js';
import { trainEndpoints, loadRunDataset } from '../../src/app/index.js';
import { readRun } from '../../src/run/index.js';
import { npy } from '../npy-writer.js';
import { writeLayout, type Sample } from '../nyu-layout.js';

const H = 6;
const W = 8;
/** Find which written sample a loaded row is (by its image). */
const rowOf = (samples: Sample[], x: Float32Array, i: number) => samples.findIndex((s) => s.image.every((v, j) => v === x[i * s.image.length + j]));

describe('nyuv2 and cityscapes: the MTAN/LibMTL per-sample layout', () => {
  let dir: string;
  let cacheDir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'extra-nyu-'));
    cacheDir = path.join(dir, 'cache');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });
  const load = (extra: object = {}, name = 'nyuv2') => loadDataset(name, { dataDir: dir, cacheDir, quiet: true, ...extra });

  it('is in the data-set table', () => {
    expect(datasetNames()).toEqual(expect.arrayContaining(['nyuv2', 'cityscapes', 'cityscapes-19']));
  });

  it('reads the three tasks at full resolution: val/ is the test split, validation is held out of train/', async () => {
    const written = writeLayout(dir, H, W, { train: 10, val: 4 });
    const ds = await load({ valFraction: 0.2, seed: 3 });
    expect(ds.inputShape).toEqual([H, W, 3]);
    expect(ds.taskNames).toEqual(['segmentation', 'depth', 'normal']);
    expect(ds.taskKinds).toEqual(['seg', 'depth', 'normal']);
    expect(ds.numClasses).toEqual([13, 1, 3]);
    expect(ds.labelShapes).toEqual([[H, W], [H, W], [H, W, 3]]);
    expect([ds.train.n, ds.val.n, ds.test.n]).toEqual([8, 2, 4]);
    // the test split is val/ in order; train and validation are disjoint rows of train/
    for (let i = 0; i < 4; i++) expect(rowOf(written.val, ds.test.x, i)).toBe(i);
    const trainRows = Array.from({ length: 8 }, (_, i) => rowOf(written.train, ds.train.x, i));
    const valRows = Array.from({ length: 2 }, (_, i) => rowOf(written.train, ds.val.x, i));
    expect(new Set([...trainRows, ...valRows]).size).toBe(10);
    // labels: seg as Int32 with −1 kept, depth from H×W×1, normals as written
    const P = H * W;
    const r = trainRows[5];
    expect(ds.train.y[0]).toBeInstanceOf(Int32Array);
    expect([...ds.train.y[0].subarray(5 * P, 6 * P)]).toEqual([...written.train[r].label]);
    expect([...ds.train.y[1].subarray(5 * P, 6 * P)]).toEqual([...written.train[r].depth]);
    expect([...ds.train.y[2].subarray(15 * P, 18 * P)]).toEqual([...written.train[r].normal]);
    // sizes take the first rows of each split
    const small = await load({ valFraction: 0.2, seed: 3, trainSize: 3, testSize: 2 });
    expect([small.train.n, small.val.n, small.test.n]).toEqual([3, 2, 2]);
    expect(small.fingerprint).not.toBe(ds.fingerprint);
    await expect(load({ trainSize: 20 })).rejects.toThrow(/--train-size 20 is more than the 9 train samples/);
  });

  it('--resolution downsamples: images by area, classes by nearest neighbour, depth and normals over valid pixels', async () => {
    const written = writeLayout(dir, H, W, { train: 5, val: 2 });
    const ds = await load({ resolution: 3 });
    expect(ds.inputShape).toEqual([3, 4, 3]);
    expect(ds.labelShapes).toEqual([[3, 4], [3, 4], [3, 4, 3]]);
    const s = written.val[1];
    // output pixel (1, 2) covers source rows 2..3, columns 4..5
    const src = [[2, 4], [2, 5], [3, 4], [3, 5]].map(([r, c]) => r * W + c);
    const o = 1 * 4 + 2;
    for (let c = 0; c < 3; c++) expect(ds.test.x[(12 + o) * 3 + c]).toBeCloseTo(src.reduce((a, p) => a + s.image[p * 3 + c], 0) / 4, 6);
    // nearest: the source pixel under the output centre (row 1.5·2 = 3, column 2.5·2 = 5)
    expect(ds.test.y[0][12 + o]).toBe(s.label[3 * W + 5]);
    const valid = src.filter((p) => s.depth[p] !== 0);
    expect(ds.test.y[1][12 + o]).toBeCloseTo(valid.length ? valid.reduce((a, p) => a + s.depth[p], 0) / valid.length : 0, 5);
    const vn = src.filter((p) => s.normal[3 * p] !== 0 || s.normal[3 * p + 1] !== 0 || s.normal[3 * p + 2] !== 0);
    const mean = [0, 1, 2].map((c) => vn.reduce((a, p) => a + s.normal[3 * p + c], 0));
    const len = Math.hypot(...mean);
    for (let c = 0; c < 3; c++) expect(ds.test.y[2][(12 + o) * 3 + c]).toBeCloseTo(mean[c] / len, 5);
    // every valid normal stays unit length, every depth ≥ 0
    const n = ds.train.y[2];
    for (let p = 0; p < n.length; p += 3) {
      const l = Math.hypot(n[p], n[p + 1], n[p + 2]);
      expect(l === 0 || Math.abs(l - 1) < 1e-5).toBe(true);
    }
    await expect(load({ resolution: 7 })).rejects.toThrow(/--resolution must be an integer from 2 to the images' height 6, got 7/);
  });

  it('caches the built arrays; a copy of the same files keeps the fingerprint, other content changes it', async () => {
    writeLayout(dir, H, W, { train: 5, val: 2 });
    const a = await load();
    const cached = readdirSync(cacheDir).filter((f) => f.startsWith('nyuv2-'));
    expect(cached.length).toBe(1);
    const b = await load();
    expect(b.fingerprint).toBe(a.fingerprint);
    expect([...b.train.y[2]]).toEqual([...a.train.y[2]]);
    // same content, new modification time: rebuilt under a new cache key, same fingerprint
    const f = path.join(dir, 'train', 'depth', '0.npy');
    utimesSync(f, new Date(), new Date(Date.now() + 5000));
    const c = await load();
    expect(readdirSync(cacheDir).filter((x) => x.startsWith('nyuv2-')).length).toBe(2);
    expect(c.fingerprint).toBe(a.fingerprint);
    writeFileSync(f, npy('<f4', [H, W, 1], new Float32Array(H * W).fill(2)));
    const d = await load();
    expect(d.fingerprint).not.toBe(a.fingerprint);
  });

  it('uint8 images are scaled to [0, 1]; integer class maps, H×W×1 class maps and H×W depths are read too', async () => {
    const written = writeLayout(dir, H, W, { train: 4, val: 2 });
    const img = Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 7) % 256);
    writeFileSync(path.join(dir, 'val', 'image', '1.npy'), npy('|u1', [H, W, 3], img));
    const lab = BigInt64Array.from(written.val[0].label, (v) => BigInt(v));
    writeFileSync(path.join(dir, 'val', 'label', '0.npy'), npy('<i8', [H, W], lab));
    writeFileSync(path.join(dir, 'val', 'label', '1.npy'), npy('<f4', [H, W, 1], written.val[1].label));
    writeFileSync(path.join(dir, 'val', 'depth', '1.npy'), npy('<f4', [H, W], written.val[1].depth));
    const ds = await load();
    const P = H * W;
    expect(ds.test.x[P * 3 + 5]).toBeCloseTo(35 / 255, 6);
    expect([...ds.test.y[0].subarray(0, P)]).toEqual([...written.val[0].label]);
    expect([...ds.test.y[0].subarray(P, 2 * P)]).toEqual([...written.val[1].label]);
    expect([...ds.test.y[1].subarray(P, 2 * P)]).toEqual([...written.val[1].depth]);
  });

  it('a run keeps the recipe (resolution, validation fraction, ignore label) and reopens with the same data', async () => {
    const written = writeLayout(dir, 16, 24, { train: 6, val: 2 });
    // this copy marks ignored pixels with 255
    for (const s of ['train', 'val'] as const) written[s].forEach((smp, i) => writeFileSync(path.join(dir, s, 'label', `${i}.npy`), npy('<f4', [16, 24], smp.label.map((v) => (v < 0 ? 255 : v)))));
    const run = path.join(dir, 'run');
    const before = process.env.EXTRA_CACHE_DIR;
    process.env.EXTRA_CACHE_DIR = cacheDir;
    try {
      await trainEndpoints({ run, dataset: { name: 'nyuv2', dataDir: dir, resolution: 8, valFraction: 0.34, ignoreLabel: 255 }, arch: 'segnet-mtl', prefs: ['1,1,1'], epochs: 1, batchSize: 4, workers: 1, threads: 1, quiet: true, backend: 'cpu' });
      const info = (await readRun(run))!;
      expect(info.dataset).toMatchObject({ name: 'nyuv2', dataDir: dir, resolution: 8, valFraction: 0.34, ignoreLabel: 255 });
      const again = await loadRunDataset(info);
      expect(again.fingerprint).toBe(info.dataset.fingerprint);
      expect(again.inputShape).toEqual([8, 12, 3]);
      expect([again.train.n, again.val.n, again.test.n]).toEqual([4, 2, 2]);
      expect(again.test.y[0]).toContain(-1);
      expect(again.test.y[0]).not.toContain(255);
      // the run's data options are its own: another resolution for it is refused, not ignored
      await expect(trainEndpoints({ run, dataset: { name: 'nyuv2', dataDir: dir, resolution: 16, ignoreLabel: 255 }, prefs: ['1,1,1'], epochs: 1, workers: 1, threads: 1, quiet: true, backend: 'cpu' })).rejects.toThrow(/was made with --resolution 8, not --resolution 16/);
    } finally {
      if (before === undefined) delete process.env.EXTRA_CACHE_DIR;
      else process.env.EXTRA_CACHE_DIR = before;
    }
  });

  it('cityscapes reads label_7 with depth; cityscapes-19 reads label_19', async () => {
    writeLayout(dir, H, W, { train: 4, val: 2 }, 5, 7, { label: 'label_7', normal: null });
    const ds = await load({}, 'cityscapes');
    expect(ds.taskNames).toEqual(['segmentation', 'depth']);
    expect(ds.numClasses).toEqual([7, 1]);
    await expect(load({}, 'cityscapes-19')).rejects.toThrow(/missing folder .*label_19/);
    // LibMTL's copy: label/ instead of label_7/
    for (const s of ['train', 'val']) renameSync(path.join(dir, s, 'label_7'), path.join(dir, s, 'label'));
    const libmtl = await load({}, 'cityscapes');
    expect(libmtl.fingerprint).toBe(ds.fingerprint);
    expect([...libmtl.test.y[0]]).toEqual([...ds.test.y[0]]);
  });

  describe('bad input: one line naming the file', () => {
    const refuses = async (what: RegExp, opts: object = {}, cls: typeof ExtraInputError = FileFormatError) => {
      const e = await load(opts).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(cls);
      expect((e as Error).message).toMatch(what);
      expect((e as Error).message).not.toContain('\n');
    };
    const put = (rel: string, descr: string, shape: number[], data: ArrayBufferView) => writeFileSync(path.join(dir, rel), npy(descr, shape, data));

    it('a missing index or an extra file', async () => {
      writeLayout(dir, H, W, { train: 5, val: 2 });
      rmSync(path.join(dir, 'train', 'depth', '3.npy'));
      await refuses(/missing .*train\/depth\/3\.npy/);
      put('train/depth/3.npy', '<f4', [H, W, 1], new Float32Array(H * W).fill(1));
      put('val/normal/2.npy', '<f4', [H, W, 3], new Float32Array(H * W * 3));
      await refuses(/val\/normal has 3 files, .*val\/image 2: no image for .*val\/normal\/2\.npy/);
    });

    it('label maps of another H×W than the image, and images of another shape', async () => {
      writeLayout(dir, H, W, { train: 5, val: 2 });
      put('train/label/2.npy', '<f4', [H, W + 2], new Float32Array(H * (W + 2)));
      await refuses(/train\/label\/2\.npy has shape \[6,10\], expected \[6,8\] like .*train\/label\/0\.npy/);
      put('train/label/2.npy', '<f4', [H, W], new Float32Array(H * W));
      put('val/image/1.npy', '<f4', [H + 1, W, 3], new Float32Array((H + 1) * W * 3));
      await refuses(/val\/image\/1\.npy has shape \[7,8,3\], expected \[6,8,3\]/);
      const img = new Float32Array(H * W * 3);
      img[(2 * W + 5) * 3 + 1] = NaN;
      put('val/image/1.npy', '<f4', [H, W, 3], img);
      await refuses(/val\/image\/1\.npy: pixel \(2, 5\) holds NaN; images are finite numbers/);
    });

    it('class indices out of range, and --ignore-label', async () => {
      writeLayout(dir, H, W, { train: 5, val: 2 });
      const lab = new Float32Array(H * W).fill(2);
      lab[W + 3] = 13;
      put('val/label/0.npy', '<f4', [H, W], lab);
      await refuses(/val\/label\/0\.npy: sample 0 pixel \(1, 3\) holds class 13, out of range for 13 classes \(0\.\.12, or the ignore label −1; --ignore-label L where another value marks ignored pixels\)/);
      lab[W + 3] = 255;
      put('val/label/0.npy', '<f4', [H, W], lab);
      await refuses(/holds class 255, out of range/);
      const ds = await load({ ignoreLabel: 255 });
      expect(ds.test.y[0][W + 3]).toBe(-1);
      lab[W + 3] = 2.5;
      put('val/label/0.npy', '<f4', [H, W], lab);
      await refuses(/holds 2\.5; seg labels are class indices/);
    });

    it('depth NaN or negative, normals neither zero nor unit', async () => {
      writeLayout(dir, H, W, { train: 5, val: 2 });
      const d = new Float32Array(H * W).fill(3);
      d[7] = NaN;
      put('train/depth/1.npy', '<f4', [H, W, 1], d);
      await refuses(/train\/depth\/1\.npy: sample 0 pixel \(0, 7\) holds depth NaN/);
      d[7] = -1;
      put('train/depth/1.npy', '<f4', [H, W, 1], d);
      await refuses(/holds depth -1; depths are ≥ 0/);
      d[7] = 1;
      put('train/depth/1.npy', '<f4', [H, W, 1], d);
      const n = new Float32Array(H * W * 3);
      n[3 * 9] = 127;
      put('train/normal/4.npy', '<f4', [H, W, 3], n);
      await refuses(/train\/normal\/4\.npy: sample 0 pixel \(1, 1\) holds the normal \(127, 0, 0\) of length 127; normals are unit vectors/);
    });

    it('a split with no valid pixel for a task', async () => {
      writeLayout(dir, H, W, { train: 5, val: 2 });
      for (const i of [0, 1]) put(`val/depth/${i}.npy`, '<f4', [H, W, 1], new Float32Array(H * W));
      await refuses(/the test split has no valid pixel for task 'depth'/, {}, ExtraInputError);
    });

    it('a set that would not fit in memory at the requested resolution, before reading it', async () => {
      writeLayout(dir, H, W, { train: 5, val: 2 });
      vi.spyOn(os, 'totalmem').mockReturnValue(20_000);
      await refuses(/nyuv2 in .*: 7 samples at 6×8 need .* GiB, more than half of this machine's .*use a smaller --resolution/, {}, ExtraInputError);
      await expect(load({ resolution: 4 })).resolves.toBeDefined();
    });

    it('training on a bad set writes nothing: no run directory is left', async () => {
      writeLayout(dir, H, W, { train: 5, val: 2 });
      const d = new Float32Array(H * W).fill(3);
      d[0] = -2;
      put('val/depth/1.npy', '<f4', [H, W, 1], d);
      const run = path.join(dir, 'run');
      const e = await trainEndpoints({ run, dataset: { name: 'nyuv2', dataDir: dir }, arch: 'segnet-mtl', prefs: ['1,1,1'], epochs: 1, workers: 1, threads: 1, quiet: true, backend: 'cpu' }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(FileFormatError);
      expect((e as Error).message).toMatch(/val\/depth\/1\.npy: sample 0 pixel \(0, 0\) holds depth -2/);
      expect(existsSync(run)).toBe(false);
    });

    it('no folder, or options it does not use', async () => {
      await refuses(/missing folder .*train\/image/, {}, ExtraInputError);
      await expect(loadDataset('nyuv2', { quiet: true, cacheDir })).rejects.toThrow(/nyuv2 needs --data-dir DIR/);
      await expect(load({ attributes: ['Smiling'] })).rejects.toThrow(/--attributes is for celeba/);
    });
  });

  it('reads a layout written by NumPy (float64 images, float32 labels) and downsamples as NumPy block means do', async () => {
    const script = `
import numpy as np, os, sys, json
d = sys.argv[1]
rs = np.random.RandomState(0)
out = {}
for s, n in (('train', 4), ('val', 2)):
    for f in ('image', 'label', 'depth', 'normal'):
        os.makedirs(os.path.join(d, s, f), exist_ok=True)
    for i in range(n):
        img = rs.rand(8, 12, 3)
        lab = rs.randint(-1, 13, size=(8, 12)).astype(np.float32)
        dep = (rs.rand(8, 12, 1) * 5).astype(np.float32)
        nrm = rs.randn(8, 12, 3).astype(np.float32)
        nrm /= np.linalg.norm(nrm, axis=2, keepdims=True)
        np.save(os.path.join(d, s, 'image', '%d.npy' % i), img)
        np.save(os.path.join(d, s, 'label', '%d.npy' % i), lab)
        np.save(os.path.join(d, s, 'depth', '%d.npy' % i), dep)
        np.save(os.path.join(d, s, 'normal', '%d.npy' % i), nrm)
        if s == 'val' and i == 1:
            out['image_mean'] = img.reshape(4, 2, 6, 2, 3).mean(axis=(1, 3)).ravel().tolist()
            out['depth_mean'] = dep[:, :, 0].reshape(4, 2, 6, 2).mean(axis=(1, 3)).ravel().tolist()
            out['label_nearest'] = lab[1::2, 1::2].ravel().tolist()
print(json.dumps(out))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' });
    if (r.status !== 0) {
      // without NumPy there is nothing to compare against
      expect(r.stderr).toMatch(/numpy|No such file/);
      return;
    }
    const ref = JSON.parse(r.stdout) as { image_mean: number[]; depth_mean: number[]; label_nearest: number[] };
    const ds = await load({ resolution: 4 });
    expect(ds.inputShape).toEqual([4, 6, 3]);
    const D = 4 * 6;
    const x = ds.test.x.subarray(D * 3, 2 * D * 3);
    ref.image_mean.forEach((v, i) => expect(x[i]).toBeCloseTo(v, 6));
    ref.depth_mean.forEach((v, i) => expect(ds.test.y[1][D + i]).toBeCloseTo(v, 5));
    expect([...ds.test.y[0].subarray(D, 2 * D)]).toEqual(ref.label_nearest);
  });
});
