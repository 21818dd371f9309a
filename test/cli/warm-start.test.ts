import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extra, refused, tinyData } from '../fixtures.js';

describe('train --warm-start: endpoints branched from one shared training', () => {
  it('trains the shared start at the preferences’ mean in RUN/warm-start, and the endpoints start from it', () => {
    const args = (run: string, extraArgs: string[]) => ['train', '--run', run, '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '1', '--batch-size', '64', ...tinyData, ...extraArgs];
    const warm = mkdtempSync(path.join(tmpdir(), 'extra-warm-'));
    const r = extra(args(warm, ['--warm-start', '2']));
    expect(r.code, r.err).toBe(0);
    const log = readFileSync(path.join(warm, 'warm-start', 'train.jsonl'), 'utf8').trim().split('\n');
    expect(log.length).toBe(2);
    expect(existsSync(path.join(warm, 'warm-start', 'weights.bin'))).toBe(true);
    // the warm start is not an endpoint: a curve still finds exactly the two
    const c = extra(['curve', 'fit', '--run', warm, '--epochs', '1', '--batch-size', '64', '--eval-points', '0']);
    expect(c.code, c.err).toBe(0);
    // from the same seed without a warm start, the first epoch starts from scratch: a higher training loss
    const cold = mkdtempSync(path.join(tmpdir(), 'extra-cold-'));
    expect(extra(args(cold, [])).code).toBe(0);
    const firstLoss = (run: string) => {
      const rec = JSON.parse(readFileSync(path.join(run, 'endpoints', 'ls-0.8_0.2', 'train.jsonl'), 'utf8').trim().split('\n')[0]) as { trainLoss: number[] };
      return rec.trainLoss[0] + rec.trainLoss[1];
    };
    expect(firstLoss(warm)).toBeLessThan(firstLoss(cold));
  }, 300_000);

  it('a warm start that is not a whole number of epochs is one line and exit 2', () => {
    const run = mkdtempSync(path.join(tmpdir(), 'extra-warm-bad-'));
    refused(['train', '--run', run, '--pref', '0.5,0.5', '--epochs', '1', ...tinyData, '--warm-start', '1.5'], /--warm-start/);
    refused(['train', '--run', run, '--pref', '0.5,0.5', '--epochs', '1', ...tinyData, '--warm-start', '-1'], /--warm-start/);
  });
});
