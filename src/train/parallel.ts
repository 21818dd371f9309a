import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExtraInputError } from '../errors.js';
import type { EndpointJob } from './worker.js';
import type { TaskMetrics } from './evaluate.js';

export interface EndpointSummary {
  id: string;
  val: Record<string, TaskMetrics>;
  test: Record<string, TaskMetrics>;
  seconds: number;
}

const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

/** Whether compiled worker code exists (it does not when running the TypeScript sources directly). */
export function workersAvailable(): boolean {
  return existsSync(workerFile);
}

function runWorker(job: EndpointJob): Promise<EndpointSummary> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerFile, { workerData: job });
    let settled = false;
    w.on('message', (m: { ok: boolean; error?: string; inputError?: boolean } & EndpointSummary) => {
      settled = true;
      if (m.ok) resolve(m);
      else reject(m.inputError ? new ExtraInputError(m.error ?? 'worker failed') : new Error(`endpoint ${m.id}: ${m.error}`));
    });
    w.on('error', (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    w.on('exit', (code) => {
      if (!settled) reject(new Error(`worker for ${job.cfg.id} exited with code ${code}`));
    });
  });
}

/** Train endpoints `concurrency` at a time in worker threads; results in job order. */
export async function trainEndpointsInWorkers(jobs: EndpointJob[], concurrency: number): Promise<EndpointSummary[]> {
  const results: EndpointSummary[] = new Array(jobs.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await runWorker(jobs[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, jobs.length)) }, lane));
  return results;
}
