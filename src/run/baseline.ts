import { z } from 'zod';
import { ExtraInputError } from '../errors.js';
import { exists, writeJsonAtomic } from '../util/fs.js';
import { readJsonWith } from '../io/json-file.js';
import { fitMetricNames, type BaselineNumbers, type FitMetricName } from '../tasks/index.js';
import { baselineFile } from './layout.js';

/**
 * RUN/baseline.json: the single-task ("Independent") numbers that Δm% compares every point against,
 * per task name and metric, on the test split (and the validation split where they were measured here,
 * which is what picking a point by Δm uses). `source` says where they came from: 'single-task' (models
 * trained by `train --single-task`, kept in RUN/single-task/) or the file given with --baseline.
 */
export interface StoredBaseline {
  format: 'extra-baseline';
  source: string;
  test: BaselineNumbers;
  val?: BaselineNumbers;
}

const metricValue = z.number().finite();
const numbersSchema = z.record(z.string(), z.object(Object.fromEntries(fitMetricNames.map((m) => [m, metricValue.optional()])) as Record<FitMetricName, z.ZodOptional<typeof metricValue>>).strict());
const storedSchema = z.object({ format: z.literal('extra-baseline'), source: z.string(), test: numbersSchema, val: numbersSchema.optional() });
/** A user's file: the stored form, or just `{ task: { metric: value } }` (test numbers, e.g. a paper's STL row). */
const userSchema = z.union([storedSchema, numbersSchema]);

function checkTasks(numbers: BaselineNumbers, taskNames: readonly string[], file: string): void {
  const unknown = Object.keys(numbers).filter((n) => !taskNames.includes(n));
  if (unknown.length) throw new ExtraInputError(`${file}: names task${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, not of this run (tasks: ${taskNames.join(', ')})`);
  if (!Object.values(numbers).some((m) => Object.keys(m).length)) throw new ExtraInputError(`${file}: holds no metric (${fitMetricNames.join(', ')})`);
  for (const [task, m] of Object.entries(numbers)) {
    for (const [name, v] of Object.entries(m)) if (v === 0) throw new ExtraInputError(`${file}: ${task}.${name} is 0; Δm divides by the baseline`);
  }
}

/** A --baseline file, checked against the run's task names. */
export async function readBaselineArgument(file: string, taskNames: readonly string[]): Promise<StoredBaseline> {
  const raw = await readJsonWith(userSchema, file);
  const b: StoredBaseline = 'format' in raw && raw.format === 'extra-baseline' ? (raw as StoredBaseline) : { format: 'extra-baseline', source: file, test: raw as BaselineNumbers };
  checkTasks(b.test, taskNames, file);
  if (b.val) checkTasks(b.val, taskNames, file);
  return b;
}

/** The run's baseline, or null when it has none. */
export async function readBaseline(run: string): Promise<StoredBaseline | null> {
  const file = baselineFile(run);
  if (!(await exists(file))) return null;
  return readJsonWith(storedSchema, file, '; re-run `extra train --single-task` or give --baseline again') as Promise<StoredBaseline>;
}

export async function writeBaseline(run: string, b: StoredBaseline): Promise<void> {
  await writeJsonAtomic(baselineFile(run), b);
}
