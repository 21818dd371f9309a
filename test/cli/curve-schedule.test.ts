import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { extra, makeTinyRun, refused } from '../fixtures.js';

const records = (run: string, curve: string) => readFileSync(path.join(run, curve, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { lr: number; steps?: number });

describe('curve fit --schedule: the curve’s learning rate over its epochs', () => {
  let run: string;
  beforeAll(() => {
    run = makeTinyRun('extra-curve-schedule-');
  }, 300_000);

  it('cosine decays the learning rate as ½(1 + cos(π·step/steps)); constant keeps it', () => {
    const fit = (curve: string, more: string[]) => extra(['curve', 'fit', '--run', run, '--epochs', '3', '--batch-size', '64', '--eval-points', '0', '--lr', '2e-3', '--curve', curve, ...more]);
    const c = fit('cos', ['--schedule', 'cosine']);
    expect(c.code, c.err).toBe(0);
    const k = fit('const', []);
    expect(k.code, k.err).toBe(0);
    expect(records(run, 'const').map((r) => r.lr)).toEqual([2e-3, 2e-3, 2e-3]);
    const cos = records(run, 'cos').map((r) => r.lr);
    // each record holds the rate of its epoch's last step; the tiny data set has 512 training images: 8 steps of 64
    const steps = 8;
    const want = [0, 1, 2].map((e) => 2e-3 * 0.5 * (1 + Math.cos((Math.PI * (e * steps + steps - 1)) / (3 * steps))));
    cos.forEach((lr, e) => expect(lr).toBeCloseTo(want[e], 12));
    expect(JSON.parse(readFileSync(path.join(run, 'cos', 'curve.json'), 'utf8')).fit.schedule).toBe('cosine');
  }, 300_000);

  it('a schedule it does not know, or a resume under another schedule, is one line and exit 2', () => {
    refused(['curve', 'fit', '--run', run, '--schedule', 'step'], /--schedule must be constant or cosine/);
    refused(['curve', 'fit', '--run', run, '--epochs', '4', '--batch-size', '64', '--eval-points', '0', '--lr', '2e-3', '--curve', 'cos', '--resume'], /--schedule/);
  });
});
