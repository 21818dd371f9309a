import path from 'node:path';
import { z } from 'zod';
import { ExtraInputError } from '../errors.js';
import { resolveFrontOptions, type FrontOptions, type FrontRow, type FrontRunner, type FrontSweep } from '../bench/front.js';
import type { JobClient } from './client.js';

const num = z.number();
/** A front benchmark row as JSON (from the queue or a saved file). */
export const frontRowSchema = z.object({
  method: z.string(),
  testLossHV: num,
  testErrorHV: num,
  chebyshev05: num,
  alignmentDeg: num,
  // NaN (an undefined rank correlation) travels as null in JSON
  spearmanA: num.nullable().transform((v) => v ?? NaN),
  spearmanB: num.nullable().transform((v) => v ?? NaN),
  seconds: num,
  budget: num,
  peakRssMiB: num,
  testLosses: z.array(z.array(num)),
  curveWeights: z.array(num).optional(),
});
const sweepSchema = z.object({ row: frontRowSchema.nullable(), ends: z.tuple([z.string(), z.string()]), endpointSeconds: num, sweepRss: num });

function parsed<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ExtraInputError(`the queue returned a malformed result for ${what}: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`);
  return r.data;
}

/** Bench front's grid cells as queued jobs: one sweep job per data set × seed, then one job per curve method. */
export function queuedFrontRunner(client: JobClient, store: string): FrontRunner {
  const rel = (o: FrontOptions) => {
    const out = path.relative(path.resolve(store), path.resolve(o.out));
    if (out.startsWith('..') || path.isAbsolute(out)) throw new ExtraInputError(`--out ${o.out} must be inside --store ${store} (the workers find runs there)`);
    // threads resolved here, so every worker computes what a local run computes
    return { ...resolveFrontOptions(o), out, quiet: true };
  };
  const cell = (o: FrontOptions) => `${o.dataset} seed ${o.seed}`;
  return {
    parallel: true,
    sweep: async (o) => parsed(sweepSchema, await client.run('front-sweep', { o: rel(o) }, `${cell(o)} sweep`), `the sweep of ${cell(o)}`) as FrontSweep,
    curve: async (o, method, sweep) =>
      parsed(frontRowSchema, await client.run('front-curve', { o: rel(o), method, sweep: { ends: sweep.ends, endpointSeconds: sweep.endpointSeconds, sweepRss: sweep.sweepRss } }, `${cell(o)} ${method}`), `${method} of ${cell(o)}`) as FrontRow,
  };
}
