import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset } from '../../src/data/index.js';
import { npy } from '../npy-writer.js';
import { trainEndpoints } from '../../src/app/index.js';

/** n images 6×6 (uint8) whose two labels are readable from the pixels: mean brightness and left/right. */
function makeSplit(dir: string, split: string, n: number, seed: number, perTask = false): void {
  const x = new Uint8Array(n * 36);
  const y = new BigInt64Array(n * 2);
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < n; i++) {
    const a = rnd() < 0.5 ? 0 : 1;
    const b = Math.floor(rnd() * 3);
    for (let p = 0; p < 36; p++) {
      const col = p % 6;
      x[i * 36 + p] = Math.min(255, Math.round(20 + 50 * b + (a === (col < 3 ? 0 : 1) ? 80 : 0) + 20 * rnd()));
    }
    y[i * 2] = BigInt(a);
    y[i * 2 + 1] = BigInt(b);
  }
  writeFileSync(path.join(dir, `x_${split}.npy`), npy('|u1', [n, 6, 6], x));
  if (perTask) {
    writeFileSync(path.join(dir, `y_${split}_side.npy`), npy('<i8', [n], BigInt64Array.from({ length: n }, (_, i) => y[i * 2])));
    writeFileSync(path.join(dir, `y_${split}_level.npy`), npy('<i8', [n], BigInt64Array.from({ length: n }, (_, i) => y[i * 2 + 1])));
  } else writeFileSync(path.join(dir, `y_${split}.npy`), npy('<i8', [n, 2], y));
}

describe('--data DIR: your own NumPy arrays', () => {
  let root: string;
  const dirOf = (name: string) => path.join(root, name);
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'extra-npy-'));
    for (const name of ['plain', 'pertask', 'bad']) mkdirSync(dirOf(name));
    makeSplit(dirOf('plain'), 'train', 300, 1);
    makeSplit(dirOf('plain'), 'test', 80, 2);
    writeFileSync(path.join(dirOf('plain'), 'tasks.json'), JSON.stringify(['side', 'level']));
    makeSplit(dirOf('pertask'), 'train', 120, 3, true);
    makeSplit(dirOf('pertask'), 'val', 30, 4, true);
    makeSplit(dirOf('pertask'), 'test', 30, 5, true);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads images, labels and task names; holds out a seeded validation fraction', async () => {
    const ds = await loadDataset('npy', { dataDir: dirOf('plain'), seed: 7, valFraction: 0.2 });
    expect(ds.inputShape).toEqual([6, 6, 1]);
    expect(ds.taskNames).toEqual(['side', 'level']);
    expect(ds.numClasses).toEqual([2, 3]);
    expect([ds.train.n, ds.val.n, ds.test.n]).toEqual([240, 60, 80]);
    expect(Math.max(...ds.test.x)).toBeLessThanOrEqual(1);
    // the held-out rows are a permutation's share: train ∪ val is the file's rows, each once
    const again = await loadDataset('npy', { dataDir: dirOf('plain'), seed: 7, valFraction: 0.2 });
    expect(again.fingerprint).toBe(ds.fingerprint);
    expect(Array.from(again.val.y[1])).toEqual(Array.from(ds.val.y[1]));
    const other = await loadDataset('npy', { dataDir: dirOf('plain'), seed: 8, valFraction: 0.2 });
    expect(other.fingerprint).not.toBe(ds.fingerprint);
    const sum = (a: ArrayLike<number>) => Array.from(a).reduce((p, q) => p + q, 0);
    expect(sum(ds.train.y[1]) + sum(ds.val.y[1])).toBe(sum(other.train.y[1]) + sum(other.val.y[1]));
  });

  it('per-task label files name the tasks; val files are used as given', async () => {
    const ds = await loadDataset('npy', { dataDir: dirOf('pertask') });
    expect(ds.taskNames).toEqual(['level', 'side']);
    expect([ds.train.n, ds.val.n, ds.test.n]).toEqual([120, 30, 30]);
    await expect(loadDataset('npy', { dataDir: dirOf('pertask'), valFraction: 0.1 })).rejects.toThrow(/--val-fraction is for data without val files/);
  });

  it('names the file and the row of what is wrong', async () => {
    const d = dirOf('bad');
    const x = new Float32Array(4 * 4).fill(0.5);
    x[9] = NaN;
    writeFileSync(path.join(d, 'x_train.npy'), npy('<f4', [4, 4], x));
    writeFileSync(path.join(d, 'y_train.npy'), npy('<i4', [4], Int32Array.from([0, 1, 0, 1])));
    writeFileSync(path.join(d, 'x_test.npy'), npy('<f4', [2, 4], new Float32Array(8)));
    writeFileSync(path.join(d, 'y_test.npy'), npy('<i4', [2], Int32Array.from([0, 1])));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/x_train\.npy: row 2 holds a non-finite value \(NaN\)/);
    x[9] = 0;
    writeFileSync(path.join(d, 'x_train.npy'), npy('<f4', [4, 4], x));
    writeFileSync(path.join(d, 'y_test.npy'), npy('<i4', [2], Int32Array.from([0, -1])));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/y_test\.npy: row 1 holds -1; labels are class indices/);
    writeFileSync(path.join(d, 'y_test.npy'), npy('<i4', [3], Int32Array.from([0, 1, 1])));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/y_test\.npy has 3 rows but its inputs have 2/);
    writeFileSync(path.join(d, 'y_test.npy'), npy('<i4', [2], Int32Array.from([0, 1])));
    writeFileSync(path.join(d, 'x_test.npy'), npy('<f4', [2, 4], new Float32Array(8), true));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/x_test\.npy is in Fortran order/);
    writeFileSync(path.join(d, 'x_test.npy'), Buffer.from('not numpy at all'));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/x_test\.npy is not a valid \.npy file/);
    rmSync(path.join(d, 'x_test.npy'));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/has labels for test but no x_test\.npy/);
    await expect(loadDataset('npy', { dataDir: path.join(d, 'x_train.npy') })).rejects.toThrow(/is a file; it must be a directory/);
    await expect(loadDataset('npy', { dataDir: path.join(d, 'nope') })).rejects.toThrow(/does not exist/);
  });

  it('says what is wrong with a .npy header: rows it does not declare, an unsupported dtype, a truncated header', async () => {
    const d = path.join(root, 'headers');
    mkdirSync(d);
    writeFileSync(path.join(d, 'y_train.npy'), npy('<i4', [4], Int32Array.from([0, 1, 0, 1])));
    writeFileSync(path.join(d, 'x_test.npy'), npy('<f4', [2, 4], new Float32Array(8)));
    writeFileSync(path.join(d, 'y_test.npy'), npy('<i4', [2], Int32Array.from([0, 1])));
    const x = (b: Buffer) => writeFileSync(path.join(d, 'x_train.npy'), b);
    // the header declares 3 rows, the data holds 4
    x(npy('<f4', [3, 4], new Float32Array(16)));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/x_train\.npy is not a valid \.npy file \(it holds 64 bytes of data, but the header's shape \[3,4\] of <f4 declares 48 \(header and data disagree\)\)/);
    // the header declares 5 rows, the data holds 4
    x(npy('<f4', [5, 4], new Float32Array(16)));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/its data ends after 64 bytes, the header's shape \[5,4\] of <f4 needs 80 \(truncated\)/);
    x(npy('<c8', [4, 4], new Float32Array(32)));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/dtype '<c8' \(complex64\) is not supported/);
    x(npy('<U3', [4], new Uint8Array(48)));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/dtype '<U3' \(unicode string\) is not supported/);
    x(npy('>f4', [4, 4], new Float32Array(16)));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/dtype '>f4' is big-endian/);
    x(npy('<f4', [4, 4], new Float32Array(16)).subarray(0, 40));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/the header is truncated: it declares \d+ bytes, the file ends after 30/);
    x(npy('<f4', [4, 4], new Float32Array(16)).subarray(0, 9));
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/x_train\.npy is not a valid \.npy file \(the header is truncated \(the file has 9 bytes\)\)/);
    const noShape = npy('<f4', [4, 4], new Float32Array(16));
    noShape.write("'shapf'", noShape.indexOf("'shape'"), 'latin1');
    x(noShape);
    await expect(loadDataset('npy', { dataDir: d })).rejects.toThrow(/its header has no descr or shape/);
  });

  it('trains endpoints on it like on a built-in set', async () => {
    const run = path.join(root, 'run');
    const r = await trainEndpoints({ run, dataset: { name: 'npy', dataDir: dirOf('plain'), valFraction: 0.2 }, arch: 'mlp-mtl', hidden: [16], prefs: ['0.5,0.5'], epochs: 8, batchSize: 32, lr: 0.01, workers: 1, threads: 1, quiet: true, backend: 'cpu' });
    const test = r.endpoints[0].test;
    // both tasks are learnable from the pixels: well above chance (1/2 and 1/3)
    expect(test.side.accuracy).toBeGreaterThan(0.8);
    expect(test.level.accuracy).toBeGreaterThan(0.6);
  }, 60_000);
});
