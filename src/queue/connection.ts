import { Redis, type RedisOptions } from 'ioredis';
import { ExtraInputError } from '../errors.js';

/** The one BullMQ queue extra's jobs go through (several runs and commands share it; job ids keep them apart). */
export const QUEUE_NAME = 'extra-jobs';

/** How a worker marks the failure of a job that had bad input (the submitter exits 2, not 1). */
export const BAD_INPUT = 'bad input: ';

/** redis://HOST:PORT[/DB] → ioredis options; anything else is a one-line input error. */
export function parseQueueUrl(url: string): RedisOptions & { host: string; port: number; db: number } {
  const m = /^redis:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})(?:\/(\d{1,2}))?\/?$/.exec(url.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new ExtraInputError(`--queue must look like redis://HOST:PORT[/DB], got '${url}'`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port, db: m[3] ? Number(m[3]) : 0 };
}

/** Options for BullMQ's connections: workers block on Redis, so requests must never time out by count. */
export function connectionOptions(url: string): RedisOptions {
  return { ...parseQueueUrl(url), maxRetriesPerRequest: null };
}

/**
 * Fail fast when Redis is not there: BullMQ's own connections retry forever, which would leave a
 * command hanging silently on a wrong URL.
 */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const probe = new Redis({ ...parseQueueUrl(url), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  let cause: NodeJS.ErrnoException | null = null;
  probe.on('error', (e: NodeJS.ErrnoException) => (cause ??= e)); // the socket's own error names the problem
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    const why = cause ?? (e as NodeJS.ErrnoException);
    throw new ExtraInputError(`cannot reach Redis at ${url} (${why.code ?? why.message})`);
  } finally {
    probe.disconnect();
  }
}
