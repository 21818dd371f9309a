// Wall time of `extra bench front --quick` locally vs on a BullMQ queue with 1 and 2 workers (Debian's
// redis-server, started here on a free loopback port). Usage: npm run bench -- queue [--runs 1]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { machineInfo, median } from './machine.js';

const { values: v } = parseArgs({ options: { runs: { type: 'string', default: '1' } } });
const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, '..', 'bin', 'extra.js');
const REDIS = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) => existsSync(p));
if (!REDIS) {
  console.error('bench queue needs Debian redis-server (apt-get install redis-server)');
  process.exit(2);
}
const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const url = `redis://127.0.0.1:${port}`;
const redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 500));
const grid = ['bench', 'front', '--quick', '--json'];
const time = (args, cwd) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return (performance.now() - t0) / 1000;
};
const rows = { local: [], '1 worker': [], '2 workers': [] };
try {
  for (let i = 0; i < Number(v.runs); i++) {
    const store = mkdtempSync(path.join(os.tmpdir(), 'extra-bench-queue-'));
    rows.local.push(time([...grid, '--out', 'runs/local'], store));
    for (const n of [1, 2]) {
      spawnSync('redis-cli', ['-p', String(port), 'flushall'], { stdio: 'ignore' });
      const workers = Array.from({ length: n }, () => spawn(process.execPath, [BIN, 'worker', '--queue', url, '--store', store], { cwd: store, stdio: 'ignore' }));
      await new Promise((r) => setTimeout(r, 1500)); // workers connected before the clock starts
      rows[n === 1 ? '1 worker' : '2 workers'].push(time([...grid, '--out', `runs/w${n}`, '--queue', url], store));
      workers.forEach((w) => w.kill('SIGKILL'));
    }
    rmSync(store, { recursive: true, force: true });
  }
} finally {
  redis.kill('SIGKILL');
}
console.log(JSON.stringify({ ...machineInfo(), backend: process.env.EXTRA_BACKEND ?? 'auto', runs: Number(v.runs) }));
console.log('\n| `extra bench front --quick` (1 sweep of 5 + 7 curve methods) | wall time (s, median) | vs local |\n|---|---|---|');
const base = median(rows.local);
for (const [k, xs] of Object.entries(rows)) console.log(`| ${k} | ${median(xs).toFixed(1)} | ${(base / median(xs)).toFixed(2)}× |`);
