import path from 'node:path';
import { z } from 'zod';
import { ExtraInputError } from '../errors.js';
import { createOrOpenRun, optionalRecipe, trainDefaults, useBackend, type TrainRequest, type TrainedEndpoint } from '../app/index.js';
import { endpointId } from '../run/index.js';
import { getObjective } from '../objectives/index.js';
import { defaultThreads } from '../parallel/pool.js';
import { taskMetricsSchema } from '../io/json-file.js';
import type { JobClient } from './client.js';
import type { TrainJobData } from './jobs.js';

const resultSchema = z.object({
  backend: z.string(),
  endpoint: z.object({ id: z.string(), val: z.record(taskMetricsSchema), test: z.record(taskMetricsSchema), seconds: z.number(), dir: z.string(), preference: z.array(z.number()) }),
});

/**
 * `extra train --queue`: the run is created (or checked) here, every preference validated, then each
 * endpoint is one job. Endpoint directories come back relative to the store and are returned as seen
 * from here.
 */
export async function trainEndpointsQueued(req: TrainRequest, client: JobClient, store: string): Promise<{ backend: string; endpoints: TrainedEndpoint[] }> {
  const root = path.resolve(store);
  const runRel = path.relative(root, path.resolve(req.run));
  if (runRel.startsWith('..') || path.isAbsolute(runRel)) throw new ExtraInputError(`--run ${req.run} must be inside --store ${store} (the workers find runs there)`);
  const d = trainDefaults;
  const seed = req.seed ?? d.seed;
  const method = req.method ?? d.method;
  getObjective(method); // refused here, before anything is queued
  const backend = await useBackend(req.backend, true);
  const ds = req.dataset ?? {};
  const { prefs, groupPrefs } = await createOrOpenRun(
    { run: req.run, dataset: { name: ds.name ?? '', seed: ds.seed ?? seed, trainSize: ds.trainSize, valSize: ds.valSize, testSize: ds.testSize, dataDir: ds.dataDir, ...optionalRecipe(ds) }, arch: req.arch, hidden: req.hidden, modelJson: req.modelJson, losses: req.losses, outputs: req.outputs, seed, prefs: req.prefs, quiet: req.quiet ?? true },
    backend,
  );
  const ids = prefs.map((p, i) => (groupPrefs ? endpointId(`${method}-groups`, groupPrefs[i]) : endpointId(method, p)));
  ids.forEach((id, i) => {
    const j = ids.indexOf(id);
    if (j !== i) throw new ExtraInputError(`--pref ${i + 1} is the same preference as --pref ${j + 1} (endpoint ${id}); give each preference once`);
  });
  // one training per job: its threads are fixed here, so the result does not depend on which worker runs it
  const threads = req.threads ?? defaultThreads(1);
  const results = await Promise.all(
    req.prefs.map(async (pref, i) => {
      const data: TrainJobData = {
        run: runRel,
        pref,
        method,
        epochs: req.epochs ?? d.epochs,
        batchSize: req.batchSize ?? d.batchSize,
        lr: req.lr ?? d.lr,
        optimizer: req.optimizer ?? d.optimizer,
        schedule: req.schedule ?? d.schedule,
        ...(req.milestones ? { milestones: req.milestones } : {}),
        ...(req.gamma !== undefined ? { gamma: req.gamma } : {}),
        seed,
        threads,
        ...(req.backend ? { backend: req.backend } : {}),
      };
      const r = resultSchema.safeParse(await client.run('train-endpoint', data, `endpoint ${ids[i]}`));
      if (!r.success) throw new ExtraInputError(`the queue returned a malformed result for endpoint ${ids[i]}`);
      return r.data;
    }),
  );
  return { backend: results[0]?.backend ?? backend, endpoints: results.map((r) => ({ ...r.endpoint, dir: path.join(root, r.endpoint.dir) })) };
}
