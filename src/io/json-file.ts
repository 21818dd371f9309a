import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import { ExtraInputError, FileFormatError } from '../errors.js';

/**
 * Every JSON file extra reads back (run.json, metrics.json, curve.json, profile.json, ...) is parsed
 * and then checked against its zod schema (kept next to the file's writer) before any field is used:
 * a wrong-shaped file is a one-line FileFormatError naming the file and the first bad field.
 */
export function parseJsonWith<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, text: string, file: string, hint = ''): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new FileFormatError(`${file} is not valid JSON (truncated?)${hint}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue.path.length ? `field ${issue.path.join('.')}` : 'the file';
    throw new FileFormatError(`${file}: ${where}: ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}${hint}`);
  }
  return r.data;
}

/** Read and validate a JSON file; a missing or unreadable file is a one-line error naming why. */
export async function readJsonWith<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, file: string, hint = ''): Promise<T> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'error'})`;
    throw new ExtraInputError(`${file} ${why}${hint}`);
  }
  return parseJsonWith(schema, text, file, hint);
}

/** Schema pieces shared by the file formats. */
export const finite = z.number().finite();
export const count = z.number().int().nonnegative();
export const positiveInt = z.number().int().positive();
/** a task's metrics: accuracy for a classification task, mae for a regression (src/train/metrics.ts) */
export const taskMetricsSchema = z
  .object({ loss: finite, accuracy: z.number().min(0).max(1).optional(), mae: finite.nonnegative().optional() })
  .refine((m) => (m.accuracy === undefined) !== (m.mae === undefined), { message: 'a task has an accuracy or an mae, one of the two' });
