/**
 * Worker-thread entry of a queued job: one thread per job, so each job has its own tfjs instance (tfjs
 * state is per thread) and a killed worker process takes its jobs' threads with it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isExtraInputError } from '../errors.js';
import { setProgressSink } from '../train/index.js';
import { runJob } from './jobs.js';

export interface JobThreadInput {
  kind: string;
  data: unknown;
  store: string;
}

export type JobThreadMessage = { type: 'log'; line: string } | { type: 'done'; result: unknown } | { type: 'error'; message: string; input: boolean };

const port = parentPort!;
const post = (m: JobThreadMessage) => port.postMessage(m);
const input = workerData as JobThreadInput;
setProgressSink((line) => post({ type: 'log', line }));
runJob(input.kind, input.data, input.store, (line) => post({ type: 'log', line }))
  .then((result) => post({ type: 'done', result: JSON.parse(JSON.stringify(result ?? null)) as unknown }))
  .catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e), input: isExtraInputError(e) }));
