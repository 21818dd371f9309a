import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { extraBin } from './paths.js';
import { median } from './stats.js';

/**
 * Wall time of `extra bench front --quick` locally vs on a BullMQ queue with 1 and 2 workers
 * (`extra bench queue`; Debian's redis-server, started here on a free loopback port).
 */
export const queueModes = ['local', '1 worker', '2 workers'] as const;
export type QueueTimes = Record<(typeof queueModes)[number], number[]>;

/** Debian's redis-server, when installed. */
export function redisServer(): string | undefined {
  return ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) => existsSync(p));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      if (a === null || typeof a === 'string') reject(new Error('bench queue: no loopback port'));
      else s.close(() => resolve(a.port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seconds of `extra ARGS` in `cwd`. */
function time(args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [extraBin, ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return (performance.now() - t0) / 1000;
}

/** `runs` rounds of: the grid locally, then on a fresh queue with 1 and with 2 `extra worker`s. */
export async function measureQueue(runs: number, redis: string): Promise<QueueTimes> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const server = spawn(redis, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await sleep(500);
  const grid = ['bench', 'front', '--quick', '--json'];
  const rows: QueueTimes = { local: [], '1 worker': [], '2 workers': [] };
  try {
    for (let i = 0; i < runs; i++) {
      const store = mkdtempSync(path.join(os.tmpdir(), 'extra-bench-queue-'));
      rows.local.push(time([...grid, '--out', 'runs/local'], store));
      for (const n of [1, 2]) {
        spawnSync('redis-cli', ['-p', String(port), 'flushall'], { stdio: 'ignore' });
        const workers = Array.from({ length: n }, () => spawn(process.execPath, [extraBin, 'worker', '--queue', url, '--store', store], { cwd: store, stdio: 'ignore' }));
        await sleep(1500); // workers connected before the clock starts
        rows[n === 1 ? '1 worker' : '2 workers'].push(time([...grid, '--out', `runs/w${n}`, '--queue', url], store));
        workers.forEach((w) => w.kill('SIGKILL'));
      }
      rmSync(store, { recursive: true, force: true });
    }
  } finally {
    server.kill('SIGKILL');
  }
  return rows;
}

export function queueTable(rows: QueueTimes): string {
  const base = median(rows.local);
  return [
    '\n| `extra bench front --quick` (1 sweep of 5 + 7 curve methods) | wall time (s, median) | vs local |\n|---|---|---|',
    ...queueModes.map((k) => `| ${k} | ${median(rows[k]).toFixed(1)} | ${(base / median(rows[k])).toFixed(2)}× |`),
  ].join('\n');
}
