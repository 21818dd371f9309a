import { ExtraInputError } from '../../errors.js';
import { machineInfo } from '../../bench/machine.js';
import { measureQueue, queueTable, redisServer } from '../../bench/queue.js';
import { optNumber } from '../args.js';
import type { BenchmarkEntry } from './entry.js';

export const queueBench: BenchmarkEntry = {
  summary: "'bench front --quick' locally vs on a BullMQ queue with 1 and 2 workers (Debian's redis-server; reports/queue.md)",
  help: `extra bench queue [--runs 1]

Wall time of 'extra bench front --quick' locally vs on a BullMQ queue with 1 and 2 'extra worker's, on
Debian's redis-server started here on a free loopback port (apt-get install redis-server); medians of --runs.`,
  flags: { values: ['runs'] },
  run: async (v, io) => {
    const runs = optNumber('bench queue', v, 'runs', { integer: true, positive: true, max: 100 }) ?? 1;
    const redis = redisServer();
    if (!redis) throw new ExtraInputError('bench queue: needs Debian redis-server (apt-get install redis-server)');
    const rows = await measureQueue(runs, redis);
    io.out(JSON.stringify({ ...machineInfo(), backend: process.env.EXTRA_BACKEND ?? 'auto', runs }));
    io.out(queueTable(rows));
    return 0;
  },
};
