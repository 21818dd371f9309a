import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { frontMetrics, pairedComparison, type FrontRow } from '../../src/bench/front.js';
import { cacheDir } from '../fixtures.js';

describe('front benchmark', () => {
  it('metrics of a known front: HV, Chebyshev value, perfect alignment and Spearman', () => {
    // points on L_b = 1 − L_a, ordered along t; validation equals test
    const pts = Array.from({ length: 11 }, (_, i) => {
      const a = i / 10;
      return { order: i, val: [a, 1 - a], test: [a, 1 - a], testErr: [a / 2, (1 - a) / 2] };
    });
    const m = frontMetrics(pts);
    expect(m.chebyshev05).toBeCloseTo(0.25, 12); // max(0.5·0.5, 0.5·0.5)
    expect(m.spearmanA).toBeCloseTo(1, 12);
    expect(m.spearmanB).toBeCloseTo(-1, 12);
    // staircase of 11 points on the line a + b = 1 with ref (2,2): 4 − ½ − (area above the staircase)
    let hv = 0;
    let prevB = 2;
    for (const p of pts) {
      hv += (2 - p.test[0]) * (prevB - p.test[1]);
      prevB = p.test[1];
    }
    expect(m.testLossHV).toBeCloseTo(hv, 12);
    expect(m.alignmentDeg).toBeLessThan(10);
  });

  it('paired comparison: per-seed differences, seed counts and sign-test verdicts', () => {
    const row = (method: string, hv: number, cheb: number): FrontRow => ({
      method, testLossHV: hv, testErrorHV: hv / 2, chebyshev05: cheb, alignmentDeg: cheb * 10, spearmanA: 1, spearmanB: -1, seconds: 1, budget: 1, peakRssMiB: 1, testLosses: [],
    });
    // nurbs beats "a" on every seed in HV, loses to "b" on every seed, and is mixed against "c"
    const all = [
      [row('nurbs', 1.5, 0.4), row('a', 1.2, 0.5), row('b', 1.6, 0.3), row('c', 1.4, 0.5)],
      [row('nurbs', 1.4, 0.4), row('a', 1.3, 0.5), row('b', 1.5, 0.3), row('c', 1.5, 0.3)],
      [row('nurbs', 1.6, 0.4), row('a', 1.2, 0.5), row('b', 1.8, 0.3), row('c', 1.5, 0.5)],
    ];
    const lines = pairedComparison(all, 'nurbs').split('\n');
    expect(lines).toHaveLength(5);
    const cells = (m: string) => lines.find((l) => l.startsWith(`| ${m} |`))!.split('|').slice(2, 6).map((c) => c.trim());
    // HV differences 0.3, 0.1, 0.4: mean 0.2667, sample sd sqrt(((1/30)²+(1/6)²+(2/15)²)/2) = 0.1528
    expect(cells('a')[0]).toBe('+0.2667 ± 0.1528 (3/3, wins)');
    expect(cells('a')[2]).toBe('−0.1000 ± 0.0000 (3/3, wins)'); // lower Chebyshev is better
    expect(cells('b')[0]).toMatch(/^−0\.1333 .*\(0\/3, loses\)$/);
    expect(cells('b')[2]).toMatch(/\(0\/3, loses\)$/);
    expect(cells('c')[0]).toMatch(/\(2\/3, ties\)$/);
    expect(cells('c')[2]).toMatch(/\(2\/3, ties\)$/);
  });

  it('--quick runs end to end (smoke test, so the benchmark cannot rot)', () => {
    // smaller than --quick's own sizes, which it keeps when given (the suite's time)
    const small = ['--train-size', '256', '--val-size', '64', '--test-size', '64'];
    const out = mkdtempSync(path.join(tmpdir(), 'extra-front-'));
    const r = spawnSync(process.execPath, [path.resolve('bin/extra.js'), 'bench', 'front', '--quick', ...small, '--epochs', '1', '--out', out, '--methods', 'ls-sweep,line,nurbs,nurbs-rand,phn,pamal,phn@time', '--time-of', 'nurbs', '--against', 'nurbs-rand'], {
      encoding: 'utf8',
      env: { ...process.env, EXTRA_CACHE_DIR: cacheDir, EXTRA_BACKEND: 'wasm' },
      timeout: 300_000,
    });
    expect(r.status, r.stderr).toBe(0);
    // PHN at NURBS's wall time: the passes it got in that time, and the paired table against the method asked for
    const timed = r.stdout.match(/\| phn@time \| ([\d.]+) \|/);
    expect(Number(timed?.[1])).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/Paired per seed, nurbs-rand minus each other method/);
    expect(r.stdout).toMatch(/\| phn@time \| [+−]/);
    expect(r.stdout).toMatch(/\| ls-sweep \| 5 \|/);
    // the PHN baseline at the sweep's budget in passes over the data, the curves at it rounded up to whole curve
    // epochs, and the NURBS study's weight table
    const passes = (m: string) => r.stdout.match(new RegExp(`\\| ${m} \\| (\\d+) \\|`))?.[1];
    expect(Number(passes('nurbs'))).toBeGreaterThanOrEqual(5);
    expect(passes('phn')).toBe('5');
    // PaMaL: 4 preferences per batch, so its epochs are the passes ÷ 4 (5 → 1 epoch, 4 passes)
    expect(passes('pamal')).toBe('4');
    expect(r.stdout).toMatch(/\| nurbs-rand \| (\d\.\d{3} ± 0\.000, ){3}\d\.\d{3} ± 0\.000 \|/);
    // an interrupted benchmark re-run with --reuse takes the finished seed from disk: same table, no training
    const again = spawnSync(process.execPath, [path.resolve('bin/extra.js'), 'bench', 'front', '--quick', ...small, '--epochs', '1', '--out', out, '--methods', 'ls-sweep,line,nurbs,nurbs-rand,phn,pamal,phn@time', '--time-of', 'nurbs', '--against', 'nurbs-rand', '--reuse'], {
      encoding: 'utf8',
      env: { ...process.env, EXTRA_CACHE_DIR: cacheDir, EXTRA_BACKEND: 'wasm' },
      timeout: 60_000,
    });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/reusing/);
    const table = (s: string) => s.split('\n').filter((l) => l.startsWith('| ls-sweep') || l.startsWith('| nurbs')).map((l) => l.split('|').slice(1, 8).join('|'));
    expect(table(again.stdout)).toEqual(table(r.stdout));
    // other options (here the methods) are a different benchmark: not reused
    const other = spawnSync(process.execPath, [path.resolve('bin/extra.js'), 'bench', 'front', '--quick', ...small, '--out', out, '--methods', 'ls-sweep,line', '--reuse', '--epochs', '1'], {
      encoding: 'utf8',
      env: { ...process.env, EXTRA_CACHE_DIR: cacheDir, EXTRA_BACKEND: 'wasm' },
      timeout: 300_000,
    });
    expect(other.status, other.stderr).toBe(0);
    expect(other.stderr).not.toMatch(/reusing/);
    expect(other.stdout).toMatch(/\| ls-sweep \| 5 \|/);
  });
});

describe('published-size benchmark script', () => {
  it('trains, fits NURBS and its Bézier twin, and prints rows that are the profiles\' own numbers; --runs summarizes the same runs', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'extra-bench-published-'));
    const args = [path.resolve('bin/extra.js'), 'bench', 'published', '--dataset', 'multi-mnist', '--seeds', '1', '--epochs', '1', '--curves', 'nurbs,bezier', '--points', '5', '--train-size', '256', '--val-size', '64', '--test-size', '64', '--out', out];
    const env = { ...process.env, EXTRA_CACHE_DIR: cacheDir, EXTRA_BACKEND: 'wasm' };
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env, timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const rows = (s: string) => s.split('\n').filter((l) => /^\| 0 \| (nurbs|bezier) \|/.test(l));
    expect(rows(r.stdout)).toHaveLength(2);
    const run = path.join(out, 'multi-mnist-s0');
    for (const [kind, file] of [['nurbs', path.join(run, 'profile.json')], ['bezier', path.join(run, 'bezier', 'profile.json')]]) {
      const p = JSON.parse(readFileSync(file, 'utf8'));
      const cells = rows(r.stdout).find((l) => l.startsWith(`| 0 | ${kind} |`))!.split('|').map((c) => c.trim());
      expect(cells[7]).toBe(`${p.hypervolume.testLoss.curve.toFixed(4)} / ${p.hypervolume.testLoss.endpoints.toFixed(4)}`);
      // tiny runs sit beyond the loss reference (HV 0); the error HV is not 0, so it checks the columns too
      expect(cells[8]).toBe(`${p.hypervolume.testError.curve.toFixed(4)} / ${p.hypervolume.testError.endpoints.toFixed(4)}`);
      expect(cells[10]).toBe(`${p.nonDominatedTestLoss.length}/5`);
    }
    expect(r.stdout).toMatch(/nurbs − bezier, paired over 1 seed\(s\): test-loss HV [+−]\d/);
    const again = spawnSync(process.execPath, [path.resolve('bin/extra.js'), 'bench', 'published', '--runs', run, '--curves', 'nurbs,bezier'], { encoding: 'utf8', env, timeout: 120_000 });
    expect(again.status, again.stderr).toBe(0);
    expect(rows(again.stdout)).toEqual(rows(r.stdout));
  }, 400_000);
});
