import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extra } from '../fixtures.js';

/** `--json` prints one JSON object on stdout (README), `extra bench front` too: the machine goes inside it. */
describe('extra bench front --json', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'extra-bench-json-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('prints exactly one JSON object, with the machine and the results', () => {
    const r = extra(['bench', 'front', '--json', '--seeds', '1', '--epochs', '1', '--sweep', '2', '--points', '3', '--methods', 'nurbs', '--train-size', '256', '--val-size', '64', '--test-size', '64', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.length, r.out).toBe(1);
    const o = JSON.parse(lines[0]) as { machine: { cores: number; backend: string }; results: { dataset: string; rows: unknown[][] }[] };
    expect(Object.keys(o).sort()).toEqual(['machine', 'results']);
    expect(o.machine.cores).toBeGreaterThan(0);
    expect(o.results[0].dataset).toBe('multi-mnist');
  }, 300_000);
});
