import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset } from '../../src/data/index.js';
import { FileFormatError, ExtraInputError } from '../../src/errors.js';
import { npy } from '../npy-writer.js';

const H = 4;
const W = 5;

/** A split of n H×W×3 images with seg (int, −1 ignored), depth (float, 0 = none) and normal (unit or zero) maps. */
function writeSplit(dir: string, split: string, n: number, seed: number, opts: { segDescr?: string; segValue?: (i: number) => number } = {}): { seg: Int32Array; depth: Float32Array; normal: Float32Array } {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const P = n * H * W;
  const x = Float32Array.from({ length: P * 3 }, rnd);
  const seg = Int32Array.from({ length: P }, (_, i) => opts.segValue?.(i) ?? (rnd() < 0.2 ? -1 : Math.floor(rnd() * 4)));
  const depth = Float32Array.from({ length: P }, () => (rnd() < 0.2 ? 0 : 0.5 + 5 * rnd()));
  const normal = new Float32Array(P * 3);
  for (let p = 0; p < P; p++) {
    if (rnd() < 0.2) continue;
    const v = [rnd() - 0.5, rnd() - 0.5, -0.5 - rnd()];
    const l = Math.hypot(...v);
    v.forEach((c, j) => (normal[3 * p + j] = c / l));
  }
  writeFileSync(path.join(dir, `x_${split}.npy`), npy('<f4', [n, H, W, 3], x));
  const segData = opts.segDescr === '<f4' ? Float32Array.from(seg) : opts.segDescr === '|u1' ? Uint8Array.from(seg, (v) => (v < 0 ? 255 : v)) : seg;
  writeFileSync(path.join(dir, `y_${split}_seg.npy`), npy(opts.segDescr ?? '<i4', [n, H, W], segData));
  writeFileSync(path.join(dir, `y_${split}_depth.npy`), npy('<f4', [n, H, W], depth));
  writeFileSync(path.join(dir, `y_${split}_normal.npy`), npy('<f4', [n, H, W, 3], normal));
  return { seg, depth, normal };
}

describe('--data DIR with per-pixel labels', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'extra-npy-dense-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const load = (extra: object = {}) => loadDataset('npy', { dataDir: dir, quiet: true, ...extra });

  it('reads seg, depth and normal maps with their kinds and label shapes', async () => {
    const tr = writeSplit(dir, 'train', 6, 1);
    writeSplit(dir, 'val', 3, 2);
    const te = writeSplit(dir, 'test', 3, 3);
    const ds = await load();
    expect(ds.inputShape).toEqual([H, W, 3]);
    // per-task files sort by name: depth, normal, seg
    expect(ds.taskNames).toEqual(['depth', 'normal', 'seg']);
    expect(ds.taskKinds).toEqual(['depth', 'normal', 'seg']);
    expect(ds.labelShapes).toEqual([[H, W], [H, W, 3], [H, W]]);
    expect(ds.numClasses[0]).toBe(1);
    expect(ds.numClasses[1]).toBe(3);
    expect(ds.numClasses[2]).toBeGreaterThanOrEqual(2);
    expect(ds.train.y[2]).toBeInstanceOf(Int32Array);
    expect([...ds.train.y[2]]).toEqual([...tr.seg]);
    expect([...ds.train.y[0]]).toEqual([...tr.depth]);
    expect([...ds.test.y[1]]).toEqual([...te.normal]);
  });

  it('a held-out validation split takes whole label maps with its rows', async () => {
    const tr = writeSplit(dir, 'train', 10, 4);
    writeSplit(dir, 'test', 3, 5);
    const ds = await load({ valFraction: 0.3, seed: 2 });
    expect(ds.val.n).toBe(3);
    expect(ds.train.n).toBe(7);
    // each validation row's maps are one of the training file's rows, whole
    const P = H * W;
    for (let i = 0; i < ds.val.n; i++) {
      const x = ds.val.y[0].subarray(i * P, (i + 1) * P);
      const row = Array.from({ length: 10 }, (_, r) => r).find((r) => tr.depth.subarray(r * P, (r + 1) * P).every((v, j) => v === x[j]));
      expect(row).toBeDefined();
      expect([...ds.val.y[1].subarray(i * 3 * P, (i + 1) * 3 * P)]).toEqual([...tr.normal.subarray(row! * 3 * P, (row! + 1) * 3 * P)]);
      expect([...ds.val.y[2].subarray(i * P, (i + 1) * P)]).toEqual([...tr.seg.subarray(row! * P, (row! + 1) * P)]);
    }
  });

  it('tasks.json gives kinds: float class maps with −1 read as seg; --ignore-label maps 255 to −1', async () => {
    writeSplit(dir, 'train', 4, 6, { segDescr: '<f4' });
    writeSplit(dir, 'test', 2, 7, { segDescr: '<f4' });
    writeFileSync(path.join(dir, 'tasks.json'), JSON.stringify([{ name: 'depth', kind: 'depth' }, { name: 'normal', kind: 'normal' }, { name: 'seg', kind: 'seg' }]));
    const ds = await load();
    expect(ds.taskKinds).toEqual(['depth', 'normal', 'seg']);
    expect(ds.train.y[2]).toBeInstanceOf(Int32Array);
    expect(ds.train.y[2]).toContain(-1);
    // without the kind the float class maps are depths, and −1 is a negative depth
    writeFileSync(path.join(dir, 'tasks.json'), JSON.stringify(['depth', 'normal', 'seg']));
    await expect(load()).rejects.toThrow(/y_train_seg\.npy: sample \d+ pixel \(\d+, \d+\) holds depth -1; depths are ≥ 0/);

    const d2 = mkdtempSync(path.join(os.tmpdir(), 'extra-npy-dense-'));
    const tr = writeSplit(d2, 'train', 4, 8, { segDescr: '|u1' });
    writeSplit(d2, 'val', 2, 12, { segDescr: '|u1' });
    writeSplit(d2, 'test', 2, 9, { segDescr: '|u1' });
    const plain = await loadDataset('npy', { dataDir: d2, quiet: true });
    expect(plain.numClasses[2]).toBe(256);
    const ignored = await loadDataset('npy', { dataDir: d2, quiet: true, ignoreLabel: 255 });
    expect([...ignored.train.y[2]]).toEqual([...tr.seg]);
    expect(ignored.numClasses[2]).toBe(4);
    expect(ignored.fingerprint).not.toBe(plain.fingerprint);
    rmSync(d2, { recursive: true, force: true });
  });

  it('refuses bad per-pixel labels with one line naming the file', async () => {
    writeSplit(dir, 'train', 4, 10);
    writeSplit(dir, 'test', 2, 11);
    const put = (split: string, task: string, descr: string, shape: number[], data: ArrayBufferView) => writeFileSync(path.join(dir, `y_${split}_${task}.npy`), npy(descr, shape, data));
    const refuses = async (what: RegExp, cls: typeof ExtraInputError = FileFormatError) => {
      const e = await load().catch((err: unknown) => err);
      expect(e).toBeInstanceOf(cls);
      expect((e as Error).message).toMatch(what);
      expect((e as Error).message).not.toContain('\n');
    };
    const P = 4 * H * W;
    // maps of another H×W than the images
    put('train', 'depth', '<f4', [4, H, W + 1], new Float32Array(P + 4 * H).fill(1));
    put('test', 'depth', '<f4', [2, H, W + 1], new Float32Array(2 * H * (W + 1)).fill(1));
    await refuses(/y_train_depth\.npy has 4×6 label maps, but the images are 4×5/);
    // another per-sample shape in one split than in train
    put('train', 'depth', '<f4', [4, H, W], new Float32Array(P).fill(1));
    put('test', 'depth', '<f4', [2, H, W, 3], new Float32Array(2 * H * W * 3).fill(1));
    await refuses(/y_test_depth\.npy has labels of shape \[4,5,3\] per sample, .*y_train_depth\.npy \[4,5\]/);
    put('test', 'depth', '<f4', [2, H, W], new Float32Array(2 * H * W).fill(1));
    // depth NaN and negative
    const nan = new Float32Array(P).fill(1);
    nan[2 * H * W + 7] = NaN;
    put('train', 'depth', '<f4', [4, H, W], nan);
    await refuses(/y_train_depth\.npy: sample 2 pixel \(1, 2\) holds depth NaN/);
    nan[2 * H * W + 7] = -0.5;
    put('train', 'depth', '<f4', [4, H, W], nan);
    await refuses(/y_train_depth\.npy: sample 2 pixel \(1, 2\) holds depth -0\.5; depths are ≥ 0/);
    put('train', 'depth', '<f4', [4, H, W], new Float32Array(P).fill(1));
    // a normal that is neither zero nor of unit length
    const normals = new Float32Array(P * 3);
    for (let p = 0; p < P; p++) normals[3 * p + 2] = -1;
    normals[3 * 5] = 0.1;
    normals[3 * 5 + 2] = -0.05;
    put('train', 'normal', '<f4', [4, H, W, 3], normals);
    await refuses(/y_train_normal\.npy: sample 0 pixel \(1, 0\) holds the normal \(0\.1.*of length 0\.112; normals are unit vectors/);
    normals[3 * 5 + 2] = -1;
    put('train', 'normal', '<f4', [4, H, W, 3], normals);
    // class indices below the ignore label
    const seg = new Int32Array(P).fill(1);
    seg[3] = -2;
    put('train', 'seg', '<i4', [4, H, W], seg);
    await refuses(/y_train_seg\.npy: sample 0 pixel \(0, 3\) holds -2; seg labels are class indices/);
    seg[3] = 0;
    put('train', 'seg', '<i4', [4, H, W], seg);
    // a split with no valid pixel for a task
    put('test', 'depth', '<f4', [2, H, W], new Float32Array(2 * H * W));
    await refuses(/the test split has no valid pixel for task 'depth'/, ExtraInputError);
    put('test', 'depth', '<f4', [2, H, W], new Float32Array(2 * H * W).fill(2));
    // tasks.json kinds that do not fit the files
    writeFileSync(path.join(dir, 'tasks.json'), JSON.stringify([{ name: 'depth', kind: 'normal' }, 'normal', 'seg']));
    await refuses(/y_train_depth\.npy has labels of shape \[4,5\] per sample; normal labels are H×W×3/);
    writeFileSync(path.join(dir, 'tasks.json'), JSON.stringify([{ name: 'depth', kind: 'ce' }, 'normal', 'seg']));
    await refuses(/y_train_depth\.npy holds per-pixel labels \[4,5\], but tasks.json gives task 'depth' the per-sample kind ce/);
    writeFileSync(path.join(dir, 'tasks.json'), JSON.stringify([{ name: 'depth', kind: 'planar' }, 'normal', 'seg']));
    await refuses(/tasks\.json/);
    writeFileSync(path.join(dir, 'tasks.json'), JSON.stringify(['depth', 'normal', 'seg']));
    await expect(load()).resolves.toBeDefined();
    await expect(load({ ignoreLabel: 255 })).resolves.toBeDefined();
  });

  it('maps on feature rows (no H×W) are refused', async () => {
    writeFileSync(path.join(dir, 'x_train.npy'), npy('<f4', [3, 7], new Float32Array(21)));
    writeFileSync(path.join(dir, 'x_test.npy'), npy('<f4', [3, 7], new Float32Array(21)));
    for (const s of ['train', 'test']) writeFileSync(path.join(dir, `y_${s}_seg.npy`), npy('<i4', [3, 2, 2], new Int32Array(12)));
    await expect(load()).rejects.toThrow(/y_train_seg\.npy has 2×2 label maps, but the images are not images \(rows of shape \[7\]\)/);
  });
});
