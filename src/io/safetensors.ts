import { promises as fsp } from 'node:fs';
import { FileFormatError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { explainSystemError } from '../util/system-errors.js';

/**
 * safetensors (https://github.com/huggingface/safetensors, format section): 8-byte little-endian
 * u64 header length N, N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets:[begin,end]},
 * "__metadata__": {str: str}}, then the raw little-endian byte buffer. Written by hand because the
 * npm packages for it are unmaintained; the format is 30 lines.
 */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A tensor to write: float32, or int64 (a PyTorch state_dict's num_batches_tracked). */
export interface WrittenTensor {
  name: string;
  shape: number[];
  data: Float32Array | BigInt64Array;
}

export function encodeSafetensors(tensors: readonly WrittenTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tensor ${t.name}: shape [${t.shape}] needs ${n} values, got ${t.data.length}`);
    if (t.name in header) throw new Error(`duplicate tensor name ${t.name}`);
    const bytes = t.data.BYTES_PER_ELEMENT;
    header[t.name] = { dtype: t.data instanceof BigInt64Array ? 'I64' : 'F32', shape: t.shape, data_offsets: [offset, offset + bytes * n] };
    offset += bytes * n;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data buffer starts 8-byte aligned (allowed by the spec)
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const d = t.data;
    if (isLittleEndian()) out.set(bytes, pos);
    else if (d instanceof BigInt64Array) for (let i = 0; i < d.length; i++) view.setBigInt64(pos + 8 * i, d[i], true);
    else for (let i = 0; i < d.length; i++) view.setFloat32(pos + 4 * i, d[i], true);
    pos += bytes.length;
  }
  return out;
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

export interface DecodedSafetensors {
  tensors: NamedTensor[];
  metadata: Record<string, string>;
  /** tensors of another dtype than F32, left unread (only with `otherDtypes: 'skip'`) */
  skipped: { name: string; dtype: string; int64?: bigint[] }[];
}

/** Parse and validate a safetensors buffer; any inconsistency is a FileFormatError. */
export function decodeSafetensors(buf: Uint8Array, what = 'safetensors file', otherDtypes: 'refuse' | 'skip' = 'refuse'): DecodedSafetensors {
  if (buf.length < 8) throw new FileFormatError(`${what} is truncated (${buf.length} bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > buf.length - 8 || n > 100_000_000) throw new FileFormatError(`${what} is truncated or not safetensors (header length ${n})`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(Buffer.from(buf.subarray(8, 8 + n)).toString('utf8'));
  } catch {
    throw new FileFormatError(`${what} has a corrupt header`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new FileFormatError(`${what}: the header is not a JSON object`);
  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  const tensors: NamedTensor[] = [];
  const skipped: { name: string; dtype: string; int64?: bigint[] }[] = [];
  const bytesOf: Record<string, number> = { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };
  let maxEnd = 0;
  const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (e === null || typeof e !== 'object') throw new FileFormatError(`${what}: tensor ${name} has no dtype/shape/data_offsets entry`);
    const skip = otherDtypes === 'skip' && e.dtype !== 'F32' && typeof e.dtype === 'string' && Object.hasOwn(bytesOf, e.dtype);
    if (e.dtype !== 'F32' && !skip) throw new FileFormatError(`${what}: tensor ${name} has dtype ${String(e.dtype)}; only F32 is supported`);
    if (!Array.isArray(e.shape) || !e.shape.every(isIndex)) throw new FileFormatError(`${what}: tensor ${name} has a shape that is not a list of non-negative integers`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2 || !e.data_offsets.every(isIndex)) {
      throw new FileFormatError(`${what}: tensor ${name} has data_offsets that are not two non-negative integers`);
    }
    const shape = e.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    const [b, end] = e.data_offsets as [number, number];
    const width = skip ? bytesOf[e.dtype as string] : 4;
    if (end - b !== count * width || end > dataLen || b > end) {
      throw new FileFormatError(`${what}: tensor ${name} lies outside the data (truncated file?)`);
    }
    maxEnd = Math.max(maxEnd, end);
    if (skip) {
      // a small int64 tensor (num_batches_tracked) is kept: an export writes it back
      if (e.dtype === 'I64' && count <= 16) {
        const dv = new DataView(buf.buffer, buf.byteOffset + dataStart + b, count * 8);
        skipped.push({ name, dtype: 'I64', int64: Array.from({ length: count }, (_, i) => dv.getBigInt64(8 * i, true)) });
      } else skipped.push({ name, dtype: e.dtype as string });
      continue;
    }
    const data = new Float32Array(count);
    const dv = new DataView(buf.buffer, buf.byteOffset + dataStart + b, count * 4);
    for (let i = 0; i < count; i++) {
      const v = dv.getFloat32(4 * i, true);
      // a NaN or infinite weight is a broken model, never something to load and use
      if (!Number.isFinite(v)) throw new FileFormatError(`${what}: tensor ${name} holds a non-finite value (${v}) at index ${i}`);
      data[i] = v;
    }
    tensors.push({ name, shape, data });
  }
  if (maxEnd !== dataLen) throw new FileFormatError(`${what}: ${dataLen - maxEnd} bytes after the last tensor (truncated or foreign file)`);
  const meta = header.__metadata__;
  if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta) || !Object.values(meta).every((v) => typeof v === 'string'))) {
    throw new FileFormatError(`${what}: __metadata__ is not an object of strings`);
  }
  return { tensors, metadata: (meta as Record<string, string> | undefined) ?? {}, skipped };
}

export async function writeSafetensors(file: string, tensors: readonly WrittenTensor[], metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

export async function readSafetensors(file: string, otherDtypes: 'refuse' | 'skip' = 'refuse'): Promise<DecodedSafetensors> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileFormatError(`cannot read ${file} (missing)`);
    throw explainSystemError(e, file);
  }
  return decodeSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file, otherDtypes);
}
