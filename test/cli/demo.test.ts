import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extra, refused } from '../fixtures.js';

describe('extra demo: the whole pipeline, its recipe printed', () => {
  it('runs end to end at a small size; the summary holds the recipe, the front and the query', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'extra-demo-')), 'run');
    const r = extra(['demo', '--out', out, '--train-size', '512', '--warm-start', '2', '--endpoint-epochs', '1', '--curve-epochs', '1', '--points', '3', '--json']);
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.recipe).toEqual({ warmStart: 2, endpointEpochs: 1, curveEpochs: 1, passes: 6 });
    expect(s.endpoints.map((e: { id: string }) => e.id).sort()).toEqual(['ls-0.2_0.8', 'ls-0.8_0.2']);
    // a 512-image, one-epoch training stays near ln 10 per task, above the reference 2: the HV may be 0
    expect(Number.isFinite(s.hypervolume.testLoss.curve) && s.hypervolume.testLoss.curve >= 0).toBe(true);
    expect(Number.isFinite(s.hypervolume.testError.curve) && s.hypervolume.testError.curve > 0).toBe(true);
    expect(s.query.t).toBeGreaterThanOrEqual(0);
    expect(s.query.t).toBeLessThanOrEqual(1);
    expect(existsSync(path.join(out, 'warm-start', 'weights.bin'))).toBe(true);
    // the text summary names the recipe
    const again = extra(['demo', '--out', out, '--train-size', '512', '--warm-start', '2', '--endpoint-epochs', '1', '--curve-epochs', '1', '--points', '3']);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/recipe: 2 shared epochs at \(0\.5,0\.5\), then 1 epochs per endpoint, 1 NURBS curve epochs \(6 passes over the data\)/);
  }, 300_000);

  it('--dense: the per-pixel pipeline at a small size, with the paper-style table', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'extra-demo-dense-')), 'run');
    const r = extra(['demo', '--dense', '--out', out, '--train-size', '64', '--endpoint-epochs', '1', '--curve-epochs', '1', '--points', '3']);
    expect(r.code, r.err).toBe(0);
    // the table: the nine metrics, Δm% and the mean rank, for the single-task models, both endpoints and two queried points
    expect(r.out).toMatch(/mIoU\s+PixAcc\s+AbsErr\s+RelErr\s+Mean°\s+Median°\s+<11\.25\s+<22\.5\s+<30\s+Δm%\s+MR/);
    expect(r.out).toMatch(/single-task \(each its own\).*\+0\.00/);
    for (const row of ['endpoint A', 'endpoint B', 'query (⅓,⅓,⅓)', 'best Δm']) expect(r.out).toContain(row);
    expect(existsSync(path.join(out, 'baseline.json'))).toBe(true);
    expect(existsSync(path.join(out, 'report', 'index.html'))).toBe(true);
  }, 300_000);

  it('an unknown flag is one line and exit 2', () => {
    refused(['demo', '--bogus', '1'], /bogus/);
  });
});
