import { closeSync, existsSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { writeChunksAtomicSync } from '../util/fs.js';

/**
 * On-disk cache of built data sets whose arrays are not bytes (the dense sets: float images, depth,
 * normals, per-pixel class indices): magic, header length, JSON header (the fingerprint, each array's
 * name, type and length, sha256 of the body), then the arrays' bytes in header order. A file whose
 * fingerprint, length or checksum does not match is discarded and rebuilt, never trusted (as cache.ts).
 * Arrays are written and read one by one, straight from and into their own memory: a set of several
 * GiB (NYUv2 at full resolution) is more than one Buffer holds, and no second copy of it is made.
 */
const MAGIC = 'EXTRAAR1';

export type CachedArray = Float32Array | Int32Array | Uint8Array;

const kinds = { f32: Float32Array, i32: Int32Array, u8: Uint8Array } as const;
type Kind = keyof typeof kinds;

function kindOf(a: CachedArray): Kind {
  return a instanceof Float32Array ? 'f32' : a instanceof Int32Array ? 'i32' : 'u8';
}

interface Header {
  fingerprint: string;
  arrays: { name: string; kind: Kind; length: number }[];
  sha256: string;
}

function bytesOf(a: CachedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function writeArrayCache(file: string, fingerprint: string, arrays: Record<string, CachedArray>): void {
  const entries = Object.entries(arrays);
  const hash = createHash('sha256');
  for (const [, a] of entries) hash.update(bytesOf(a));
  const header: Header = { fingerprint, arrays: entries.map(([name, a]) => ({ name, kind: kindOf(a), length: a.length })), sha256: hash.digest('hex') };
  // the header is padded to a multiple of 8 bytes so that every array starts aligned in the file
  let hb = Buffer.from(JSON.stringify(header));
  const pad = (8 - ((12 + hb.length) % 8)) % 8;
  hb = Buffer.concat([hb, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(hb.length);
  writeChunksAtomicSync(file, [Buffer.from(MAGIC), len, hb, ...entries.map(([, a]) => bytesOf(a))]);
}

/** Fill `into` from the file at `pos` (in pieces: one read call takes at most 2 GiB); false if the file ends first. */
function readFully(fd: number, into: Uint8Array, pos: number): boolean {
  for (let off = 0; off < into.byteLength; ) {
    const got = readSync(fd, into, off, Math.min(into.byteLength - off, 1 << 30), pos + off);
    if (got === 0) return false;
    off += got;
  }
  return true;
}

/** The cached arrays, or null (and the file removed) when it is absent, foreign or damaged. */
export function readArrayCache(file: string, fingerprint: string): Record<string, CachedArray> | null {
  if (!existsSync(file)) return null;
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const pre = Buffer.alloc(12);
    if (!readFully(fd, pre, 0) || pre.subarray(0, 8).toString() !== MAGIC) throw new Error('magic');
    const hl = pre.readUInt32LE(8);
    const hb = Buffer.alloc(hl);
    if (!readFully(fd, hb, 12)) throw new Error('header');
    const header = JSON.parse(hb.toString()) as Header;
    if (header.fingerprint !== fingerprint || !Array.isArray(header.arrays)) throw new Error('fingerprint');
    let expected = 0;
    for (const a of header.arrays) {
      if (!Object.hasOwn(kinds, a.kind) || !Number.isSafeInteger(a.length) || a.length < 0) throw new Error('header');
      expected += a.length * kinds[a.kind].BYTES_PER_ELEMENT;
    }
    // the length is checked before any array is allocated: a damaged header cannot ask for more memory than the file holds
    if (size !== 12 + hl + expected) throw new Error('length');
    const hash = createHash('sha256');
    const out: Record<string, CachedArray> = {};
    let pos = 12 + hl;
    for (const a of header.arrays) {
      const arr = new kinds[a.kind](a.length);
      const bytes = bytesOf(arr);
      if (!readFully(fd, bytes, pos)) throw new Error('length');
      hash.update(bytes);
      out[a.name] = arr;
      pos += bytes.byteLength;
    }
    if (hash.digest('hex') !== header.sha256) throw new Error('checksum');
    return out;
  } catch {
    if (fd !== null) closeSync(fd);
    fd = null;
    rmSync(file, { force: true }); // corrupt or foreign: rebuild
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
