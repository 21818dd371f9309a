import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import { describeSystemError } from '../util/system-errors.js';
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
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : code === 'EISDIR' ? 'is a directory where a file is needed' : null;
    throw new ExtraInputError(why ? `${file} ${why}${hint}` : `${describeSystemError(e, file) ?? `${file} cannot be read (${code ?? 'error'})`}${hint}`);
  }
  return parseJsonWith(schema, text, file, hint);
}

/** Schema pieces shared by the file formats. */
export const finite = z.number().finite();
export const count = z.number().int().nonnegative();
export const positiveInt = z.number().int().positive();
/** a task's metrics: accuracy for a classification task, mae for a regression (src/train/metrics.ts) */
const share = z.number().min(0).max(1).optional();
const angle = z.number().min(0).max(180).optional();
/** The fits of the task kinds (src/tasks): exactly one family per task. */
const fitFamilies = [['accuracy'], ['mae'], ['miou', 'pixelAccuracy'], ['absErr', 'relErr'], ['meanAngle', 'medianAngle', 'within11_25', 'within22_5', 'within30']] as const;
export const taskMetricsSchema = z
  .object({
    loss: finite,
    accuracy: share,
    mae: finite.nonnegative().optional(),
    miou: share,
    pixelAccuracy: share,
    absErr: finite.nonnegative().optional(),
    relErr: finite.nonnegative().optional(),
    meanAngle: angle,
    medianAngle: angle,
    within11_25: share,
    within22_5: share,
    within30: share,
  })
  .refine((m) => fitFamilies.filter((f) => f.every((k) => m[k] !== undefined)).length === 1 && fitFamilies.every((f) => f.every((k) => m[k] !== undefined) || f.every((k) => m[k] === undefined)), {
    message: 'a task has the whole fit of one kind: an accuracy, an mae, miou+pixelAccuracy, absErr+relErr or the five angle metrics',
  });
