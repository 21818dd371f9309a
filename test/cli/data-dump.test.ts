import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'npyjs';
import { loadDataset } from '../../src/data/index.js';
import { chromiumPath } from '../../src/report/index.js';
import { extra, cacheDir, makeTinyRun, refused } from '../fixtures.js';

const npyFile = (file: string) => {
  const b = readFileSync(file);
  return parse(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('data dump, curve bn and report --screenshots on a tiny run', () => {
  let run: string;
  beforeAll(() => {
    run = makeTinyRun('extra-data-dump-');
  }, 120_000);

  it('data dump --split test writes x_test.npy / y_test.npy that read back (npyjs) as the run\'s test split', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'extra-dump-out-')), 'npy');
    const r = extra(['data', 'dump', '--run', run, '--out', out, '--split', 'test', '--json']);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out) as { files: string[]; rows: Record<string, number> };
    expect(res.files.map((f) => path.basename(f))).toEqual(['x_test.npy', 'y_test.npy', 'tasks.json']);
    expect(res.rows).toEqual({ test: 128 });
    const ds = await loadDataset('multi-mnist', { trainSize: 512, valSize: 128, testSize: 128, cacheDir, quiet: true });
    const x = npyFile(path.join(out, 'x_test.npy'));
    expect(x.dtype).toBe('f4');
    expect(x.shape).toEqual([128, 36, 36, 1]);
    expect(x.data).toEqual(ds.test.x);
    const y = npyFile(path.join(out, 'y_test.npy'));
    expect(y.dtype).toBe('i4');
    expect(y.shape).toEqual([128, 2]);
    const labels = Array.from({ length: 128 }, (_, i) => [ds.test.y[0][i], ds.test.y[1][i]]).flat();
    expect(Array.from(y.data as Int32Array)).toEqual(labels);
    expect(JSON.parse(readFileSync(path.join(out, 'tasks.json'), 'utf8'))).toEqual(ds.taskNames);
  });

  it('data dump refuses bad input with one line and exit 2', () => {
    const out = path.join(tmpdir(), 'extra-never-written');
    refused(['data', 'dump', '--run', run, '--out', out, '--split', 'tset'], /^extra data dump: --split must be train, val or test .*'tset'/);
    refused(['data', 'dump', '--run', run, '--out', out, '--split', 'test,test'], /--split names test twice/);
    refused(['data', 'dump', '--run', run], /--out is required/);
    refused(['data', 'dump', '--run', run, '--out', out, '--colour', 'red'], /Unknown option '--colour'/);
    refused(['data', 'dump', '--run', path.join(run, 'nothing'), '--out', out], /no run\.json/);
    refused(['data', 'frob'], /unknown sub-command 'frob' \(known: dump\)/);
  });

  it('curve bn refuses a model without BatchNormalization, and --t outside [0, 1]', () => {
    refused(['curve', 'bn', '--run', run], /has no BatchNormalization layers/);
    refused(['curve', 'bn', '--run', run, '--t', '0.5,1.5'], /--t must be in \[0, 1\], got 1\.5/);
    refused(['curve', 'bn', '--run', run, '--points', '3'], /Unknown option '--points'/);
  });

  it.skipIf(!chromiumPath())('report --screenshots DIR: the report page and the explorer after an evaluation at t = 0.4, as PNG files', () => {
    const shots = path.join(mkdtempSync(path.join(tmpdir(), 'extra-shots-')), 'pictures');
    const r = extra(['report', '--run', run, '--no-png', '--screenshots', shots, '--json']);
    expect(r.code, r.err).toBe(0);
    const files = (JSON.parse(r.out) as { screenshots: string[] }).screenshots;
    expect(files.map((f) => path.basename(f))).toEqual(['report-page.png', 'explorer-page.png']);
    for (const f of files) {
      const b = readFileSync(f);
      expect(b.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
      // the IHDR chunk: width 1250 (the viewport); the report page is one screen, the explorer the whole page
      expect(b.readUInt32BE(16)).toBe(1250);
    }
    expect(readFileSync(files[0]).readUInt32BE(20)).toBe(1000);
    expect(readFileSync(files[1]).readUInt32BE(20)).toBeGreaterThan(1000);
  }, 60_000);

  it('report --screenshots under a file is refused before the report is written', () => {
    refused(['report', '--run', run, '--screenshots', path.join(run, 'run.json', 'x')], /--screenshots .* is not a directory/);
  });
});
