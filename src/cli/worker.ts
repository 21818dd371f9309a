import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { flagTable, optNumber, optString, parseFlags, reqString } from './args.js';
import { stdio, type Io } from './context.js';

export const workerHelp = `extra worker --queue redis://HOST:PORT[/DB] [--concurrency 1] [--store DIR] [--lock-seconds 30]

Take jobs from the BullMQ queue on that Redis and run them with the same code as the local commands
(extra train --queue, extra bench front --queue). Each job runs in its own thread.
  --concurrency N     jobs at once (default 1; a job already uses every core it is given)
  --store DIR         the run store, as this machine sees it (default: the current directory); jobs
                      carry run paths relative to it
  --lock-seconds S    a job whose worker dies is handed to another worker about S seconds later
                      (default 30), and resumes from its last complete epoch
Stops on Ctrl-C / SIGTERM; its unfinished jobs go back to the queue.`;

export async function workerCommand(argv: string[], io: Io = stdio): Promise<number> {
  const { values: v, positionals } = parseFlags('worker', argv, flagTable({ values: ['queue', 'concurrency', 'store', 'lock-seconds'] }));
  if (v.help) {
    io.out(workerHelp);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`worker: unexpected argument '${positionals[0]}'`);
  const url = reqString('worker', v, 'queue');
  const store = path.resolve(optString(v, 'store') ?? '.');
  // loaded here, not at start-up: BullMQ and ioredis cost every other command ~0.15 s to import
  const { startQueueWorker } = await import('../queue/worker.js');
  const w = await startQueueWorker({
    url,
    store,
    concurrency: optNumber('worker', v, 'concurrency', { integer: true, positive: true, max: 64 }),
    lockSeconds: optNumber('worker', v, 'lock-seconds', { positive: true, max: 3600 }),
    log: io.err,
  });
  io.err(`extra worker on ${url} (store ${store}); Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      io.err('stopping: unfinished jobs go back to the queue');
      // force: do not wait for active jobs; their locks lapse and another worker resumes them
      void w.close(true).finally(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
