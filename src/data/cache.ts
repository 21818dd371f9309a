import { readFileSync, existsSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomicSync } from '../util/fs.js';

/**
 * On-disk cache of built data sets: magic, header length, JSON header (shapes, sizes, sha256 of the
 * body), then the body (byte pixels and byte labels of every split). A file whose length or
 * checksum does not match is discarded and rebuilt, never trusted.
 */
const MAGIC = 'EXTRADS1';

export interface CachedSplit {
  pixels: Uint8Array;
  labels: Uint8Array[];
  n: number;
}

export interface CacheHeader {
  fingerprint: string;
  d: number;
  tasks: number;
  splits: Record<string, number>;
  sha256: string;
}

export function defaultCacheDir(): string {
  return process.env.EXTRA_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'extra');
}

export function cacheFile(dir: string, name: string, fingerprint: string): string {
  return path.join(dir, `${name}-${fingerprint.slice(0, 20)}.bin`);
}

export function writeCache(file: string, fingerprint: string, d: number, splits: Record<string, CachedSplit>): void {
  const parts: Uint8Array[] = [];
  const sizes: Record<string, number> = {};
  let tasks = 0;
  for (const [name, s] of Object.entries(splits)) {
    sizes[name] = s.n;
    tasks = s.labels.length;
    parts.push(s.pixels, ...s.labels);
  }
  const body = Buffer.concat(parts);
  const header: CacheHeader = { fingerprint, d, tasks, splits: sizes, sha256: createHash('sha256').update(body).digest('hex') };
  const hb = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(hb.length);
  writeFileAtomicSync(file, Buffer.concat([Buffer.from(MAGIC), len, hb, body]));
}

export function readCache(file: string, fingerprint: string): Record<string, CachedSplit> | null {
  if (!existsSync(file)) return null;
  try {
    const buf = readFileSync(file);
    if (buf.subarray(0, 8).toString() !== MAGIC) throw new Error('magic');
    const hl = buf.readUInt32LE(8);
    const header = JSON.parse(buf.subarray(12, 12 + hl).toString()) as CacheHeader;
    if (header.fingerprint !== fingerprint) throw new Error('fingerprint');
    const body = buf.subarray(12 + hl);
    const expected = Object.values(header.splits).reduce((a, n) => a + n * header.d + n * header.tasks, 0);
    if (body.length !== expected) throw new Error('length');
    if (createHash('sha256').update(body).digest('hex') !== header.sha256) throw new Error('checksum');
    const out: Record<string, CachedSplit> = {};
    let off = 0;
    for (const [name, n] of Object.entries(header.splits)) {
      const pixels = new Uint8Array(body.buffer, body.byteOffset + off, n * header.d);
      off += n * header.d;
      const labels: Uint8Array[] = [];
      for (let k = 0; k < header.tasks; k++) {
        labels.push(new Uint8Array(body.buffer, body.byteOffset + off, n));
        off += n;
      }
      out[name] = { pixels, labels, n };
    }
    return out;
  } catch {
    rmSync(file, { force: true }); // corrupt or foreign: rebuild
    return null;
  }
}
