import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readArrayCache, writeArrayCache } from '../../src/data/array-cache.js';

describe('the typed-array cache of built dense sets', () => {
  const arrays = () => ({ x: Float32Array.from([0.5, -1, 3.25]), seg: Int32Array.from([-1, 0, 12, 7]), raw: Uint8Array.from([1, 2, 3]) });

  it('round-trips every array with its type, and refuses another fingerprint', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'extra-ac-')), 'a.bin');
    writeArrayCache(file, 'fp', arrays());
    const got = readArrayCache(file, 'fp')!;
    expect(got.x).toBeInstanceOf(Float32Array);
    expect(got.seg).toBeInstanceOf(Int32Array);
    expect(got.raw).toBeInstanceOf(Uint8Array);
    expect([...got.x]).toEqual([0.5, -1, 3.25]);
    expect([...got.seg]).toEqual([-1, 0, 12, 7]);
    expect([...got.raw]).toEqual([1, 2, 3]);
    expect(readArrayCache(file, 'other')).toBeNull();
    expect(existsSync(file)).toBe(false);
  });

  it('a damaged file (a flipped byte, a truncation, trailing bytes, a foreign file) is removed, never trusted', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'extra-ac-'));
    const damage: [string, (f: string) => void][] = [
      ['flipped', (f) => { const b = readFileSync(f); b[b.length - 2] ^= 1; writeFileSync(f, b); }],
      ['truncated', (f) => truncateSync(f, readFileSync(f).length - 4)],
      ['longer', (f) => writeFileSync(f, Buffer.concat([readFileSync(f), Buffer.alloc(4)]))],
      ['foreign', (f) => writeFileSync(f, 'not a cache file at all')],
      ['empty', (f) => writeFileSync(f, '')],
    ];
    for (const [name, hurt] of damage) {
      const file = path.join(dir, `${name}.bin`);
      writeArrayCache(file, 'fp', arrays());
      hurt(file);
      expect(readArrayCache(file, 'fp')).toBeNull();
      expect(existsSync(file)).toBe(false);
    }
    expect(readArrayCache(path.join(dir, 'absent.bin'), 'fp')).toBeNull();
  });
});
