import { readFileSync, existsSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { writeFileAtomicSync } from '../util/fs.js';

/**
 * On-disk cache of built data sets whose arrays are not bytes (the dense sets: float images, depth,
 * normals, per-pixel class indices): magic, header length, JSON header (the fingerprint, each array's
 * name, type and length, sha256 of the body), then the arrays' bytes in header order. A file whose
 * fingerprint, length or checksum does not match is discarded and rebuilt, never trusted (as cache.ts).
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
  writeFileAtomicSync(file, Buffer.concat([Buffer.from(MAGIC), len, hb, ...entries.map(([, a]) => bytesOf(a))]));
}

/** The cached arrays, or null (and the file removed) when it is absent, foreign or damaged. */
export function readArrayCache(file: string, fingerprint: string): Record<string, CachedArray> | null {
  if (!existsSync(file)) return null;
  try {
    const buf = readFileSync(file);
    if (buf.subarray(0, 8).toString() !== MAGIC) throw new Error('magic');
    const hl = buf.readUInt32LE(8);
    const header = JSON.parse(buf.subarray(12, 12 + hl).toString()) as Header;
    if (header.fingerprint !== fingerprint || !Array.isArray(header.arrays)) throw new Error('fingerprint');
    const body = buf.subarray(12 + hl);
    let expected = 0;
    for (const a of header.arrays) {
      if (!Object.hasOwn(kinds, a.kind) || !Number.isSafeInteger(a.length) || a.length < 0) throw new Error('header');
      expected += a.length * kinds[a.kind].BYTES_PER_ELEMENT;
    }
    if (body.length !== expected) throw new Error('length');
    if (createHash('sha256').update(body).digest('hex') !== header.sha256) throw new Error('checksum');
    const out: Record<string, CachedArray> = {};
    let off = 0;
    for (const a of header.arrays) {
      const bytes = a.length * kinds[a.kind].BYTES_PER_ELEMENT;
      // a copy: the read buffer may be shared or unaligned for a typed view
      const own = new Uint8Array(bytes);
      own.set(body.subarray(off, off + bytes));
      out[a.name] = new kinds[a.kind](own.buffer);
      off += bytes;
    }
    return out;
  } catch {
    rmSync(file, { force: true }); // corrupt or foreign: rebuild
    return null;
  }
}
