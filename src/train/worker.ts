/**
 * Worker-thread entry: trains one endpoint in its own tfjs instance (wasm is single-threaded in
 * Node, so two workers use both cores). The data set comes from the on-disk cache the parent built.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backend/index.js';
import { loadDataset } from '../data/index.js';
import { trainEndpoint, type EndpointConfig } from './endpoint.js';
import type { DatasetRecipe } from '../data/types.js';
import { ExtraInputError } from '../errors.js';

export interface EndpointJob {
  backend: string;
  recipe: DatasetRecipe;
  cfg: EndpointConfig;
}

async function run(job: EndpointJob): Promise<void> {
  await selectBackend({ prefer: job.backend, quiet: true });
  const ds = await loadDataset(job.recipe.name, { ...job.recipe, quiet: true });
  const r = await trainEndpoint(job.cfg, ds);
  r.params.forEach((p) => p.dispose());
  parentPort!.postMessage({ ok: true, id: job.cfg.id, val: r.val, test: r.test, seconds: r.seconds });
}

run(workerData as EndpointJob).catch((e: Error) => {
  parentPort!.postMessage({ ok: false, id: (workerData as EndpointJob).cfg.id, error: e.message, inputError: e instanceof ExtraInputError });
});
