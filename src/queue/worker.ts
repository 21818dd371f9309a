import { Worker as Thread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Worker, UnrecoverableError, type Job } from 'bullmq';
import { BAD_INPUT, checkRedis, connectionOptions, QUEUE_NAME } from './connection.js';
import type { JobThreadInput, JobThreadMessage } from './thread.js';
import type { Log } from '../app/index.js';

const threadFile = fileURLToPath(new URL('./thread.js', import.meta.url));

export interface QueueWorkerOptions {
  url: string;
  /** jobs run at once, each in its own thread (default 1) */
  concurrency?: number;
  /** the run store as this machine sees it (job paths are relative to it) */
  store: string;
  /**
   * how long a job's lock lives without renewal: a worker that dies mid-job (SIGKILL, power loss) has
   * its job handed to another worker about this long after (BullMQ's stalled-job check; default 30 s)
   */
  lockSeconds?: number;
  log?: Log;
}

/** Run one job in a fresh thread; its log lines become the job's progress (seen by the submitter) and log. */
function runInThread(job: Job, store: string, log: Log, running: Set<Thread>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const t = new Thread(threadFile, { workerData: { kind: job.name, data: job.data as unknown, store } satisfies JobThreadInput });
    running.add(t);
    t.once('exit', () => running.delete(t));
    let settled = false;
    t.on('message', (m: JobThreadMessage) => {
      if (m.type === 'log') {
        log(`[${job.id}] ${m.line}`);
        job.updateProgress({ line: m.line }).catch(() => {});
        job.log(m.line).catch(() => {});
        return;
      }
      settled = true;
      void t.terminate();
      // bad input fails once, without retries; anything else may be retried by BullMQ
      if (m.type === 'error') reject(m.input ? new UnrecoverableError(BAD_INPUT + m.message) : new Error(m.message));
      else resolve(m.result);
    });
    t.on('error', (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    t.on('exit', (code) => {
      if (!settled) reject(new Error(`job thread exited with code ${code}`));
      settled = true;
    });
  });
}

/** A BullMQ worker running extra's jobs with the same code as the local commands. */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<{ close(force?: boolean): Promise<void>; worker: Worker }> {
  await checkRedis(o.url);
  const store = path.resolve(o.store);
  const log = o.log ?? (() => {});
  const lockDuration = Math.round((o.lockSeconds ?? 30) * 1000);
  const running = new Set<Thread>();
  const worker = new Worker(QUEUE_NAME, (job) => runInThread(job, store, log, running), {
    connection: connectionOptions(o.url),
    concurrency: o.concurrency ?? 1,
    lockDuration,
    stalledInterval: Math.max(500, Math.round(lockDuration / 2)),
    maxStalledCount: 2,
  });
  worker.on('active', (job) => log(`[${job.id}] started (${job.name}, attempt ${job.attemptsMade + 1})`));
  worker.on('completed', (job) => log(`[${job.id}] done`));
  worker.on('failed', (job, err) => log(`[${job?.id ?? '?'}] failed: ${err.message}`));
  worker.on('error', (err) => log(`worker: ${err.message}`));
  await worker.waitUntilReady();
  return {
    worker,
    close: async (force = false) => {
      // forced: stop the jobs' threads too; their locks lapse and another worker resumes them
      if (force) await Promise.all([...running].map((t) => t.terminate()));
      await worker.close(force);
    },
  };
}
