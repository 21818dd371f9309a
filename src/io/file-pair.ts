import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { explainSystemError } from '../util/system-errors.js';
import { parseJsonWith } from './json-file.js';
import { decodeSafetensors } from './safetensors.js';

/**
 * A JSON description and the safetensors file it describes (curve.json + controls.safetensors,
 * surface.json + controls.safetensors), saved and read as one: the JSON holds the data file's sha256.
 *
 * Two files cannot be renamed at once, so a save first writes the complete new pair beside the old
 * one (`NAME.next.EXT`), then moves the data file in, then the JSON. A kill before the moves keeps the
 * old pair; a kill between them leaves a data file whose sha256 is the one in the next JSON, and
 * readers then take that complete new pair (and finish the move). Anything else that does not match
 * is refused. The pair's fingerprint (sha256 of the JSON, which holds the data's digest) is what a
 * profile records to say which model it measured.
 */
export interface FilePair {
  dir: string;
  json: string;
  data: string;
}

export const SHA_FIELD = 'controlsSha256';

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');
const nextName = (name: string): string => {
  const ext = path.extname(name);
  return `${name.slice(0, name.length - ext.length)}.next${ext}`;
};

async function readOrNull(file: string): Promise<Buffer | null> {
  return fsp.readFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw explainSystemError(e, file);
  });
}

function jsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Save the pair; `description` gets the data's sha256 in `controlsSha256`. */
export async function writeFilePair(pair: FilePair, description: Record<string, unknown>, data: Uint8Array): Promise<void> {
  const p = (n: string) => path.join(pair.dir, n);
  const text = JSON.stringify({ ...description, [SHA_FIELD]: sha256(data) }, null, 2) + '\n';
  try {
    await writeFileAtomic(p(nextName(pair.data)), data);
    await writeFileAtomic(p(nextName(pair.json)), text);
  } catch (e) {
    // the old pair stays as it was; no half of the new one is left beside it
    await fsp.rm(p(nextName(pair.data)), { force: true }).catch(() => undefined);
    throw e;
  }
  try {
    await fsp.rename(p(nextName(pair.data)), p(pair.data));
    await fsp.rename(p(nextName(pair.json)), p(pair.json));
  } catch (e) {
    throw explainSystemError(e, p(pair.json));
  }
}

export interface ReadPair<T> {
  value: T;
  data: Uint8Array;
  fingerprint: string;
}

/**
 * Read the pair, validated: `missing` is the one-line error when there is no JSON at all, `refit`
 * what to run when the data file is missing or belongs to another description.
 */
export async function readFilePair<T extends { [SHA_FIELD]?: string }>(pair: FilePair, schema: z.ZodType<T, z.ZodTypeDef, unknown>, missing: string, refit: string): Promise<ReadPair<T>> {
  const jf = path.join(pair.dir, pair.json);
  const df = path.join(pair.dir, pair.data);
  const [text, data] = await Promise.all([readOrNull(jf), readOrNull(df)]);
  if (text === null) throw new ExtraInputError(missing);
  if (data === null) throw new FileFormatError(`${df} is missing (${pair.json} is there); ${refit}`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const value = parseJsonWith(schema, text.toString('utf8'), jf);
  const digest = sha256(bytes);
  const declared = value[SHA_FIELD];
  // a pair saved before the JSON carried the data's digest: its identity is both files
  if (declared === undefined) return { value, data: bytes, fingerprint: sha256(text.toString('utf8') + digest) };
  if (declared === digest) return { value, data: bytes, fingerprint: sha256(text) };
  // a save killed between its two moves: the complete new description is the next JSON
  const nf = path.join(pair.dir, nextName(pair.json));
  const next = await readOrNull(nf);
  const nextValue = next === null ? null : schema.safeParse(jsonOrNull(next.toString('utf8')));
  if (next !== null && nextValue?.success && nextValue.data[SHA_FIELD] === digest) {
    await fsp.rename(nf, jf).catch(() => undefined); // finish the move (another reader may have done it)
    return { value: nextValue.data, data: bytes, fingerprint: sha256(next) };
  }
  if (df.endsWith('.safetensors')) decodeSafetensors(bytes, df); // a damaged file says how
  throw new FileFormatError(`${df} does not match ${jf} (changed or truncated since it was saved); ${refit}`);
}

/** The pair's fingerprint alone (see readFilePair). */
export async function filePairFingerprint<T extends { [SHA_FIELD]?: string }>(pair: FilePair, schema: z.ZodType<T, z.ZodTypeDef, unknown>, missing: string, refit: string): Promise<string> {
  return (await readFilePair(pair, schema, missing, refit)).fingerprint;
}
