import { gunzipSync } from 'node:zlib';
import { FileFormatError } from '../errors.js';

/** A parsed IDX file (LeCun's MNIST format): unsigned-byte data with its dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parse IDX bytes (optionally gzip-compressed): magic 0x00 0x00 0x08 (ubyte) ndim, big-endian u32
 * dimensions, then the data. Any mismatch is a FileFormatError naming the file.
 */
export function parseIdx(bytes: Uint8Array, what: string): IdxArray {
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = new Uint8Array(gunzipSync(buf));
    } catch {
      throw new FileFormatError(`${what} is a corrupt gzip file`);
    }
  }
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new FileFormatError(`${what} is not an IDX file (bad magic number)`);
  if (buf[2] !== 0x08) throw new FileFormatError(`${what}: IDX data type 0x${buf[2].toString(16)} is not unsigned byte`);
  const ndim = buf[3];
  if (ndim < 1 || ndim > 4 || buf.length < 4 + 4 * ndim) throw new FileFormatError(`${what}: bad IDX header (${ndim} dimensions)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * ndim;
  if (buf.length - start !== count) {
    throw new FileFormatError(`${what} is truncated or corrupt: header promises ${count} bytes of data, file has ${buf.length - start}`);
  }
  return { dims, data: buf.subarray(start) };
}

/** Encode an IDX ubyte file (used by tests to make tiny data sets). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
