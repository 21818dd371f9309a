import type { JobClient } from '../queue/client.js';
import type { Io } from './context.js';

/**
 * Run `work` with a job client on the queue at `url`. Ctrl-C closes the connections and leaves the jobs
 * in the queue (workers finish them); rerunning the same command picks the results up.
 */
export async function withJobClient<T>(url: string, io: Io, work: (c: JobClient) => Promise<T>): Promise<T> {
  // loaded here, not at start-up: BullMQ and ioredis cost every other command ~0.15 s to import
  const { JobClient } = await import('../queue/client.js');
  const client = await JobClient.open(url, io.err);
  const stop = () => {
    io.err('interrupted: the jobs stay in the queue and the workers finish them; rerun the same command to collect the results');
    void client.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  try {
    return await work(client);
  } finally {
    process.removeListener('SIGINT', stop);
    await client.close();
  }
}
