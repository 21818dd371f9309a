import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { z } from 'zod';
import { extra, makeTinyRun } from '../fixtures.js';
import { parseJsonWith } from '../../src/io/json-file.js';
import { decodeSafetensors } from '../../src/io/index.js';
import { runInfoSchema, metricsSchema } from '../../src/run/schema.js';
import { curveFileSchema } from '../../src/curves/store.js';
import { profileFileSchema } from '../../src/curves/index.js';
import { FileFormatError } from '../../src/errors.js';

/**
 * Class 1 of the hardening issue: every run file that is valid JSON but the wrong shape is refused
 * with exit 2 and one line naming the file (and the field), never a stack trace or a silent accept.
 */
describe('wrong-shaped run files: exit 2, one line naming the file', () => {
  let base: string;
  beforeAll(() => {
    base = makeTinyRun('extra-files-');
  }, 300_000);

  const endpointMetrics = (run: string) => {
    const d = path.join(run, 'endpoints');
    return path.join(d, readdirSync(d).sort()[0], 'metrics.json');
  };
  type Mutation = [string, (run: string) => string, (json: any) => unknown];
  const mutations: Mutation[] = [
    ['run.json is null', (r) => path.join(r, 'run.json'), () => null],
    ['run.json is a list', (r) => path.join(r, 'run.json'), () => []],
    ['run.json is 42', (r) => path.join(r, 'run.json'), () => 42],
    ['run.json without a model', (r) => path.join(r, 'run.json'), (j) => ({ ...j, model: undefined })],
    ['run.json with a string seed', (r) => path.join(r, 'run.json'), (j) => ({ ...j, dataset: { ...j.dataset, seed: 'zero' } })],
    ['run.json with valSize 1e12', (r) => path.join(r, 'run.json'), (j) => ({ ...j, dataset: { ...j.dataset, valSize: 1e12 } })],
    ['metrics.json is {}', endpointMetrics, () => ({})],
    ['metrics.json with a null loss', endpointMetrics, (j) => ({ ...j, val: Object.fromEntries(Object.entries(j.val).map(([k, m]: [string, any]) => [k, { ...m, loss: null }])) })],
    ['model.json with a string shape', (r) => endpointMetrics(r).replace('metrics.json', 'model.json'), (j) => ({ ...j, weightsManifest: [{ ...j.weightsManifest[0], weights: j.weightsManifest[0].weights.map((w: any, i: number) => (i ? w : { ...w, shape: '9' })) }] })],
    ['model.json without a manifest', (r) => endpointMetrics(r).replace('metrics.json', 'model.json'), (j) => ({ ...j, weightsManifest: {} })],
    ['curve.json with an unknown kind', (r) => path.join(r, 'curve', 'curve.json'), (j) => ({ ...j, geometry: { ...j.geometry, kind: 'spline9' } })],
    ['curve.json with a string degree', (r) => path.join(r, 'curve', 'curve.json'), (j) => ({ ...j, geometry: { ...j.geometry, degree: '3' } })],
    ['curve.json with a negative weight', (r) => path.join(r, 'curve', 'curve.json'), (j) => ({ ...j, geometry: { ...j.geometry, weights: j.geometry.weights.map((w: number, i: number) => (i ? w : -1)) } })],
    ['profile.json with no points', (r) => path.join(r, 'profile.json'), (j) => ({ ...j, points: [] })],
    ['profile.json with a null loss', (r) => path.join(r, 'profile.json'), (j) => ({ ...j, points: j.points.map((p: any, i: number) => (i ? p : { ...p, val: p.val.map((m: any) => ({ ...m, loss: null })) })) })],
    ['profile.json with t as a string', (r) => path.join(r, 'profile.json'), (j) => ({ ...j, points: j.points.map((p: any) => ({ ...p, t: String(p.t) })) })],
  ];
  // every command that reads the mutated file: query (profile, run), export (curve, run), curve fit (metrics)
  const commands: [string, (run: string) => string[]][] = [
    ['query', (run) => ['query', '--run', run, '--pref', '0.5,0.5']],
    ['export', (run) => ['export', '--run', run, '--t', '0.5', '--format', 'safetensors', '--out', path.join(run, 'x-out')]],
    ['curve fit', (run) => ['curve', 'fit', '--run', run, '--curve', 'c2', '--epochs', '1', '--eval-points', '0']],
  ];
  for (const [name, fileOf, mutate] of mutations) {
    it(name, () => {
      const run = mkdtempSync(path.join(tmpdir(), 'extra-mut-'));
      cpSync(base, run, { recursive: true });
      const file = fileOf(run);
      writeFileSync(file, JSON.stringify(mutate(JSON.parse(readFileSync(file, 'utf8')))));
      let refused = 0;
      for (const [cmd, args] of commands) {
        const r = extra(args(run));
        expect(r.code, `${cmd}: ${r.err}`).not.toBe(1);
        if (r.code === 2) {
          const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('['));
          expect(lines.length, `${cmd}: ${r.err}`).toBe(1);
          expect(lines[0], cmd).toContain(path.basename(file));
          refused++;
        }
      }
      // at least one command reads the file, and none accepted it silently where it is read
      expect(refused).toBeGreaterThan(0);
    });
  }
});

describe('fuzzing the run-file loaders and the safetensors parser', () => {
  const schemas: z.ZodType<unknown, z.ZodTypeDef, unknown>[] = [runInfoSchema, metricsSchema, curveFileSchema, profileFileSchema];
  it('random JSON: each schema accepts or throws a FileFormatError, nothing else (2,000 cases)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: schemas.length - 1 }), (v, i) => {
        try {
          parseJsonWith(schemas[i], JSON.stringify(v), 'f.json');
        } catch (e) {
          if (!(e instanceof FileFormatError)) throw e;
        }
      }),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('random bytes and random headers: decodeSafetensors decodes or throws a FileFormatError (3,000 cases)', () => {
    const header = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.jsonValue(), fc.record({ dtype: fc.constantFrom('F32', 'F16', 3), shape: fc.array(fc.oneof(fc.integer({ min: -2, max: 4 }), fc.double()), { maxLength: 3 }), data_offsets: fc.array(fc.integer({ min: -4, max: 64 }), { maxLength: 3 }) })));
    const file = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(header, fc.uint8Array({ maxLength: 64 })).map(([h, data]) => {
        const hb = new TextEncoder().encode(JSON.stringify(h));
        const out = new Uint8Array(8 + hb.length + data.length);
        new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
        out.set(hb, 8);
        out.set(data, 8 + hb.length);
        return out;
      }),
    );
    fc.assert(
      fc.property(file, (bytes) => {
        try {
          decodeSafetensors(bytes);
        } catch (e) {
          if (!(e instanceof FileFormatError)) throw e;
        }
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});
