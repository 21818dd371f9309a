import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extra, makeTinyRun, refused } from '../fixtures.js';
import { readSafetensors } from '../../src/io/index.js';
import { buildModel, loadLayersModelFromDir, paramsToPytorchStateDict } from '../../src/models/index.js';
import { readRun } from '../../src/run/index.js';

describe('query --tune: the point at a preference, trained a few steps more at its own scalarization', () => {
  let run: string;
  beforeAll(() => {
    run = makeTinyRun('extra-tune-');
  }, 300_000);

  it('a learning rate below float32 resolution leaves C(t*) as it is: the numbers after equal the query’s', () => {
    const r = extra(['query', '--run', run, '--pref', '0.5,0.5', '--tune', '3', '--tune-lr', '1e-30', '--json']);
    expect(r.code, r.err).toBe(0);
    const t = JSON.parse(r.out);
    expect(t.steps).toBe(3);
    expect(t.after.test).toEqual(t.before.test);
    expect(t.after.testCriterion).toBe(t.before.testCriterion);
    expect(t.method).toBe('chebyshev');
  });

  it('tuning moves the model, records it in RUN/tuned, and export --tune hands out exactly that model', async () => {
    const q = extra(['query', '--run', run, '--pref', '0.3,0.7', '--method', 'ls', '--tune', '8', '--tune-lr', '1e-3', '--json']);
    expect(q.code, q.err).toBe(0);
    const t = JSON.parse(q.out);
    expect(t.method).toBe('ls');
    expect(t.after.testCriterion).not.toBe(t.before.testCriterion);
    const metrics = JSON.parse(readFileSync(path.join(t.dir, 'metrics.json'), 'utf8'));
    expect(metrics.method).toBe('ls');
    expect(metrics.tunedFrom.t).toBe(t.t);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'extra-tune-exp-')), 'm');
    const e = extra(['export', '--run', run, '--pref', '0.3,0.7', '--method', 'ls', '--tune', '8', '--tune-lr', '1e-3', '--format', 'safetensors', '--out', out, '--json']);
    expect(e.code, e.err).toBe(0);
    const exported = await readSafetensors(path.join(out, 'model.safetensors'), 'skip');
    // the same seed, steps and data: the export's tuning gives the same model as the query's
    const info = await readRun(run);
    const tuned = await loadLayersModelFromDir(t.dir);
    tuned.model.dispose();
    const want = paramsToPytorchStateDict(info!.model, buildModel(info!.model).params.map((p) => p.name), tuned.values);
    for (const w of want) expect(Array.from(exported.tensors.find((x) => x.name === w.name)!.data)).toEqual(Array.from(w.data));
  });

  it('bad input is one line', () => {
    refused(['query', '--run', run, '--pref', '0.5,0.5', '--tune', '0'], /--tune must be positive/);
    refused(['query', '--run', run, '--pref', '0.5,0.5', '--tune-lr', '0.1'], /--tune-lr and --batch-size are for --tune STEPS/);
    refused(['export', '--run', run, '--t', '0.5', '--tune', '5', '--format', 'tfjs', '--out', path.join(run, 'x')], /--tune needs --pref/);
    expect(existsSync(path.join(run, 'x'))).toBe(false);
  });
});
