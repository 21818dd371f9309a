import path from 'node:path';
import { z } from 'zod';
import { ExtraInputError } from '../errors.js';
import { trainEndpoints, type Log } from '../app/index.js';
import { frontCurve, frontSweep, type FrontOptions } from '../bench/front.js';

/**
 * The kinds of queued jobs: each is a step some command would otherwise run locally, with the same
 * code. Job data carries run paths relative to the shared store and parameters — never tensors — and
 * is validated here, because it comes back from Redis. A new kind is one entry of this table.
 */
export interface JobKind {
  /** validates the job's data (from Redis) and runs the step; `store` is the worker's path to the shared run store */
  run(data: unknown, store: string, log: Log): Promise<unknown>;
}

function defineJob<D>(kind: string, schema: z.ZodType<D, z.ZodTypeDef, unknown>, run: (d: D, store: string, log: Log) => Promise<unknown>): JobKind {
  return {
    run: (raw, store, log) => {
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        throw new ExtraInputError(`job data of kind ${kind} is malformed: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid'}`);
      }
      return run(parsed.data, store, log);
    },
  };
}

/** A path from job data, inside the store (job data must not reach outside it). */
export function inStore(store: string, rel: string): string {
  const abs = path.resolve(store, rel);
  const back = path.relative(path.resolve(store), abs);
  if (back.startsWith('..') || path.isAbsolute(back)) throw new ExtraInputError(`job path '${rel}' leaves the run store ${store}`);
  return abs;
}

const num = z.number().finite();
const trainData = z.object({
  run: z.string().min(1),
  pref: z.string().min(1),
  method: z.string(),
  epochs: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  lr: num.positive(),
  optimizer: z.enum(['adam', 'sgd']),
  schedule: z.enum(['constant', 'cosine', 'step']),
  milestones: z.array(z.number().int().positive()).optional(),
  gamma: num.positive().max(1).optional(),
  seed: z.number().int().nonnegative(),
  threads: z.number().int().positive(),
  backend: z.string().optional(),
});
export type TrainJobData = z.infer<typeof trainData>;

const frontOptions = z.object({
  dataset: z.string(),
  out: z.string(),
  seed: z.number().int().nonnegative(),
  sizes: z.object({ trainSize: z.number().int().positive().optional(), valSize: z.number().int().positive().optional(), testSize: z.number().int().positive().optional() }).optional(),
  epochs: z.number().int().positive(),
  sweep: z.number().int().min(2),
  points: z.number().int().min(2),
  lr: num.positive(),
  methods: z.array(z.string()),
  backend: z.string().optional(),
  workers: z.number().int().positive().optional(),
  endpointMethod: z.string().optional(),
  sweepThreads: z.number().int().positive(),
  curveThreads: z.number().int().positive(),
  timeOf: z.string().optional(),
  maxSeconds: num.positive().optional(),
  quiet: z.boolean(),
});
const frontSweepData = z.object({ o: frontOptions });
const frontCurveData = z.object({ o: frontOptions, method: z.string(), sweep: z.object({ ends: z.tuple([z.string(), z.string()]), endpointSeconds: num, sweepRss: num }) });

const relocate = (o: FrontOptions, store: string): FrontOptions => ({ ...o, out: inStore(store, o.out) });

export const jobKinds: Readonly<Record<string, JobKind>> = {
  /** one endpoint of `extra train --queue` (the run.json exists: the submitter made it) */
  'train-endpoint': defineJob('train-endpoint', trainData, async (d, store, log) => {
    const run = inStore(store, d.run);
    const r = await trainEndpoints({ ...d, run, prefs: [d.pref], workers: 1, resume: true, quiet: false }, log);
    const e = r.endpoints[0];
    return { backend: r.backend, endpoint: { ...e, dir: path.relative(path.resolve(store), e.dir) } };
  }),
  /** the sweep of one data set × seed of `extra bench front --queue` */
  'front-sweep': defineJob('front-sweep', frontSweepData, (d, store, log) => frontSweep(relocate(d.o, store), log, false)),
  /** one curve method of one data set × seed, after its sweep */
  'front-curve': defineJob('front-curve', frontCurveData, (d, store, log) => frontCurve(relocate(d.o, store), d.method, d.sweep, log, false)),
};

/** Run a job of a known kind. */
export async function runJob(kind: string, raw: unknown, store: string, log: Log): Promise<unknown> {
  const entry = Object.hasOwn(jobKinds, kind) ? jobKinds[kind] : undefined;
  if (!entry) throw new ExtraInputError(`unknown job kind '${kind}' (known: ${Object.keys(jobKinds).join(', ')})`);
  return entry.run(raw, store, log);
}
