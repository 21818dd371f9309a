import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadDataset, npyDumpFiles, splitNames, type MultiTaskDataset } from '../../src/data/index.js';

const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));

/** Write a data set's dump to a fresh directory and read it back as `--data DIR` does. */
async function roundTrip(ds: MultiTaskDataset): Promise<{ back: MultiTaskDataset; names: string[] }> {
  const dir = tmp('extra-npy-dump-');
  const names: string[] = [];
  for (const f of npyDumpFiles(ds, splitNames)) {
    writeFileSync(path.join(dir, f.name), f.bytes);
    names.push(f.name);
  }
  return { back: await loadDataset('npy', { dataDir: dir, cacheDir: tmp('extra-npy-cache-'), quiet: true }), names };
}

function expectSameData(back: MultiTaskDataset, ds: MultiTaskDataset): void {
  expect(back.taskNames).toEqual(ds.taskNames);
  expect(back.inputShape).toEqual(ds.inputShape);
  expect(back.taskKinds).toEqual(ds.taskKinds);
  for (const s of splitNames) {
    expect(back[s].n).toBe(ds[s].n);
    expect(back[s].x).toEqual(ds[s].x);
    back[s].y.forEach((y, k) => {
      expect(y.constructor).toBe(ds[s].y[k].constructor);
      expect(y).toEqual(ds[s].y[k]);
    });
  }
}

describe('npyDumpFiles: a data set as the NumPy files --data DIR reads', () => {
  it('per-sample classes: x_<split>.npy and one N × K int32 y_<split>.npy; read back, the same rows and labels', async () => {
    const ds = await loadDataset('multi-mnist', { trainSize: 64, valSize: 16, testSize: 16, cacheDir: tmp('extra-mm-'), quiet: true });
    const { back, names } = await roundTrip(ds);
    expect(names).toEqual(['x_train.npy', 'y_train.npy', 'x_val.npy', 'y_val.npy', 'x_test.npy', 'y_test.npy', 'tasks.json']);
    expectSameData(back, ds);
  });

  it('per-pixel tasks: one y_<split>_<task>.npy per task and their kinds in tasks.json; read back, the same maps', async () => {
    const ds = await loadDataset('dense-digits', { trainSize: 12, valSize: 4, testSize: 4, cacheDir: tmp('extra-dd-'), quiet: true });
    const { back, names } = await roundTrip(ds);
    expect(names).toContain(`y_test_${ds.taskNames[0]}.npy`);
    expect(names).not.toContain('y_test.npy');
    expectSameData(back, ds);
  });
});
