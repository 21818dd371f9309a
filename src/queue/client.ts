import { createHash } from 'node:crypto';
import { Job, Queue, QueueEvents } from 'bullmq';
import { ExtraInputError, RemoteJobError } from '../errors.js';
import type { Log } from '../app/index.js';
import { BAD_INPUT, checkRedis, connectionOptions, QUEUE_NAME } from './connection.js';

/** A job's id: its kind and a hash of its data, so the same step submitted twice is the same job. */
export function jobIdOf(kind: string, data: unknown): string {
  return `${kind}-${createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 20)}`;
}

/**
 * The submitting side: adds jobs (deduplicated by id), reports their progress from BullMQ's events and
 * returns their results. A job already completed by an earlier submission is not run again — its stored
 * result is returned — so rerunning an interrupted command picks up where it left off; a failed one is
 * retried once more.
 */
export class JobClient {
  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly log: Log,
  ) {}

  static async open(url: string, log: Log = () => {}): Promise<JobClient> {
    await checkRedis(url);
    const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(url) });
    const events = new QueueEvents(QUEUE_NAME, { connection: connectionOptions(url) });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const client = new JobClient(queue, events, log);
    events.on('progress', ({ jobId, data }) => {
      const line = typeof data === 'object' && data !== null && 'line' in data ? String((data as { line: unknown }).line) : '';
      if (line && client.labels.has(jobId)) log(`[${client.labels.get(jobId)}] ${line}`);
    });
    events.on('active', ({ jobId }) => {
      if (client.labels.has(jobId)) log(`[${client.labels.get(jobId)}] running on a worker`);
    });
    events.on('stalled', ({ jobId }) => {
      if (client.labels.has(jobId)) log(`[${client.labels.get(jobId)}] its worker stopped answering; handed to another worker`);
    });
    return client;
  }

  private readonly labels = new Map<string, string>();

  /** Submit one job (or find it) and wait for its result; `label` names it in progress lines. */
  async run(kind: string, data: unknown, label: string): Promise<unknown> {
    const jobId = jobIdOf(kind, data);
    this.labels.set(jobId, label);
    let job = await Job.fromId(this.queue, jobId);
    const state = job ? await job.getState() : 'missing';
    if (job && state === 'completed') {
      this.log(`[${label}] already done (job ${jobId})`);
      return job.returnvalue as unknown;
    }
    if (job && state === 'failed') {
      this.log(`[${label}] failed before (${job.failedReason}); retrying`);
      await job.retry('failed');
    } else if (!job || state === 'unknown') {
      job = await this.queue.add(kind, data, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
      this.log(`[${label}] queued (job ${jobId})`);
    } else this.log(`[${label}] already ${state} (job ${jobId})`);
    try {
      return (await job!.waitUntilFinished(this.events)) as unknown;
    } catch (e) {
      // the worker's one-line message: bad input failed once, without retries; anything else after them
      const msg = (e as Error).message;
      if (msg.startsWith(BAD_INPUT)) throw new ExtraInputError(`${label}: ${msg.slice(BAD_INPUT.length)}`);
      throw new RemoteJobError(`${label}: failed on its worker: ${msg}`);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.events.close(), this.queue.close()]);
  }
}
