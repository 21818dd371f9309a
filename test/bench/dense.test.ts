import { describe, it, expect } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { benchCommand } from '../../src/cli/bench/index.js';
import { main } from '../../src/cli/main.js';
import { isExtraInputError } from '../../src/errors.js';
import { endpointPrefs } from '../../src/bench/dense.js';
import { writeLayout } from '../nyu-layout.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

const rowNames = ['Independent (single-task)', 'LS (balanced)', 'FairGrad (balanced)', 'EXTRA-L (t=½)', 'EXTRA-L (best Δm)', 'EXTRA-F (t=½)', 'EXTRA-F (best Δm)'];
const metricHeads = ['mIoU', 'PixAcc', 'AbsErr', 'RelErr', 'Mean°', 'Median°', '<11.25', '<22.5', '<30', 'Δm%', 'MR'];

describe('extra bench dense', () => {
  it('bad flags are one-line refusals before any work', async () => {
    await expect(benchCommand(['dense'], capture().io)).rejects.toThrow(/bench dense: --out is required/);
    await expect(benchCommand(['dense', '--out', '/tmp/x', '--seeds', '0'], capture().io)).rejects.toThrow(/bench dense: --seeds must be positive/);
    await expect(benchCommand(['dense', '--out', '/tmp/x', '--epochs', 'two'], capture().io)).rejects.toSatisfy(isExtraInputError);
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'bench-dense-'));
    await expect(benchCommand(['dense', '--out', dir, '--methods', 'ls,nope'], capture().io)).rejects.toThrow(/unknown method 'nope'/);
    await expect(benchCommand(['dense', '--out', dir, '--dataset', 'nyuv2'], capture().io)).rejects.toThrow(/--dataset nyuv2 reads its files from --data-dir DIR/);
    await expect(benchCommand(['dense', '--out', dir, '--resolution', '16'], capture().io)).rejects.toThrow(/--data-dir and --resolution are for a data set from files/);
    await fsp.writeFile(path.join(dir, 'mine.txt'), 'x');
    await expect(benchCommand(['dense', '--out', dir], capture().io)).rejects.toThrow(/was not made by 'extra bench dense'/);
    // one line and nothing else: no machine line before the refusal
    const c = capture();
    expect(await main(['bench', 'dense', '--out', dir, '--dataset', 'nyuv2'], c.io)).toBe(2);
    expect(c.out).toEqual([]);
    expect(c.err).toHaveLength(1);
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('at tiny size: the table has the paper\'s columns and one row per method and curve reading; Δm of the single-task row is 0', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'bench-dense-'));
    try {
      const c = capture();
      expect(await benchCommand(['dense', '--out', dir, '--seeds', '1', '--train-size', '64', '--epochs', '1', '--curve-epochs', '1', '--points', '3'], c.io)).toBe(0);
      const machine = JSON.parse(c.out[0]) as Record<string, unknown>;
      expect(machine.cores).toBeGreaterThan(0);
      const headAt = c.out.findIndex((l) => l.trim().startsWith('mIoU'));
      expect(headAt).toBeGreaterThan(0);
      expect(c.out[headAt].trim().split(/\s+/)).toEqual(metricHeads);
      const body = c.out.slice(headAt + 1, headAt + 1 + rowNames.length);
      body.forEach((l, i) => {
        expect(l.trim().startsWith(rowNames[i])).toBe(true);
        expect(l.trim().slice(rowNames[i].length).trim().split(/\s+/)).toHaveLength(metricHeads.length);
      });
      expect(body[0].trim().split(/\s+/).at(-2)).toBe('+0.00');
      // everything, per seed too, is also in OUT/bench-dense.json (what --json prints, without the machine)
      const r = JSON.parse(await fsp.readFile(path.join(dir, 'bench-dense.json'), 'utf8')) as { rows: { name: string; deltaM: { perSeed: (number | null)[] } }[]; taskNames: string[]; perSeed: { run: string }[] };
      expect(r.taskNames).toEqual(['seg', 'depth', 'normal']);
      expect(r.rows.map((x) => x.name)).toEqual(rowNames);
      expect(r.rows[0].deltaM.perSeed).toEqual([0]);
      expect(r.perSeed[0].run).toBe(path.join(dir, 'seed-0'));
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }, 900_000);

  it('the endpoint preferences: 0.7 on the first (second) task, the rest shared', () => {
    expect(endpointPrefs(3)).toEqual(['0.7,0.15,0.15', '0.15,0.7,0.15']);
    expect(endpointPrefs(2)).toEqual(['0.7,0.3', '0.3,0.7']);
  });

  it('--dataset nyuv2 --data-dir: the same rows on a set in the MTAN layout (its own task names)', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'bench-dense-nyu-'));
    try {
      writeLayout(path.join(dir, 'data'), 16, 16, { train: 10, val: 4 });
      const c = capture();
      expect(await benchCommand(['dense', '--out', path.join(dir, 'out'), '--dataset', 'nyuv2', '--data-dir', path.join(dir, 'data'), '--epochs', '1', '--curve-epochs', '1', '--points', '3'], c.io)).toBe(0);
      expect(c.out[1]).toMatch(/^nyuv2 \(segmentation, depth, normal\) with segnet-mtl: 1 seed\(s\), all train images/);
      const r = JSON.parse(await fsp.readFile(path.join(dir, 'out', 'bench-dense.json'), 'utf8')) as { rows: { name: string; deltaM: { perSeed: (number | null)[] } }[]; recipe: { prefs: string[] } };
      expect(r.rows.map((x) => x.name)).toEqual(rowNames);
      expect(r.rows[0].deltaM.perSeed).toEqual([0]);
      expect(r.recipe.prefs).toEqual(['0.7,0.15,0.15', '0.15,0.7,0.15']);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
