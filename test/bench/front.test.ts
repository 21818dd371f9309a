import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { frontMetrics } from '../../src/bench/front.js';
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

  it('--quick runs end to end (smoke test, so the benchmark cannot rot)', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'extra-front-'));
    const r = spawnSync(process.execPath, ['scripts/bench.js', 'front', '--quick', '--out', out, '--methods', 'ls-sweep,line,nurbs'], {
      encoding: 'utf8',
      env: { ...process.env, EXTRA_CACHE_DIR: cacheDir, EXTRA_BACKEND: 'wasm' },
      timeout: 300_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| ls-sweep \| 10 \|/);
    expect(r.stdout).toMatch(/\| nurbs \| 10 \|/);
    // an interrupted benchmark re-run with --reuse takes the finished seed from disk: same table, no training
    const again = spawnSync(process.execPath, ['scripts/bench.js', 'front', '--quick', '--out', out, '--methods', 'ls-sweep,line,nurbs', '--reuse'], {
      encoding: 'utf8',
      env: { ...process.env, EXTRA_CACHE_DIR: cacheDir, EXTRA_BACKEND: 'wasm' },
      timeout: 60_000,
    });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/reusing/);
    const table = (s: string) => s.split('\n').filter((l) => l.startsWith('| ls-sweep') || l.startsWith('| nurbs')).map((l) => l.split('|').slice(1, 8).join('|'));
    expect(table(again.stdout)).toEqual(table(r.stdout));
    // other options are a different benchmark: not reused
    const other = spawnSync(process.execPath, ['scripts/bench.js', 'front', '--quick', '--out', out, '--methods', 'ls-sweep,line', '--reuse', '--epochs', '1'], {
      encoding: 'utf8',
      env: { ...process.env, EXTRA_CACHE_DIR: cacheDir, EXTRA_BACKEND: 'wasm' },
      timeout: 300_000,
    });
    expect(other.status, other.stderr).toBe(0);
    expect(other.stderr).not.toMatch(/reusing/);
    expect(other.stdout).toMatch(/\| ls-sweep \| 5 \|/);
  });
});
