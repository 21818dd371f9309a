import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { cacheDir } from '../fixtures.js';
import { QUEUE_NAME } from '../../src/queue/connection.js';

// Debian's redis-server, started here on a free loopback port without persistence (.ci/run installs it)
const REDIS = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) => existsSync(p));
const BIN = path.resolve('bin/extra.js');
const env = { ...process.env, EXTRA_CACHE_DIR: cacheDir, EXTRA_BACKEND: 'wasm' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Run the CLI to completion without blocking the test's event loop. */
function extraAsync(args: string[], cwd: string): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { child, done };
}

const rowsOf = (out: string) => (JSON.parse(out.trim().split('\n').pop()!) as { results: { rows: Record<string, unknown>[][] }[] }).results[0].rows[0];
// wall time and memory differ from run to run; every other figure must be equal digit for digit
const figures = (rows: Record<string, unknown>[]) => rows.map(({ seconds: _s, peakRssMiB: _m, ...rest }) => rest);

describe.runIf(REDIS)('queue: BullMQ workers on a real Redis', () => {
  let redis: ChildProcess;
  let url = '';
  let store = '';
  const workers: ChildProcess[] = [];
  const startWorker = () => {
    const w = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--store', store, '--lock-seconds', '3'], { cwd: store, env, stdio: 'ignore' });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = spawn(REDIS!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      if (await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    store = mkdtempSync(path.join(tmpdir(), 'extra-queue-'));
    startWorker();
    startWorker();
  }, 30_000);

  afterAll(() => {
    for (const w of workers) w.kill('SIGKILL');
    redis?.kill('SIGKILL');
    if (store) rmSync(store, { recursive: true, force: true });
  });

  it('bench front --quick --queue on two workers gives the local run’s rows digit for digit; a rerun reuses the jobs', async () => {
    const args = ['bench', 'front', '--quick', '--train-size', '256', '--val-size', '64', '--test-size', '64', '--epochs', '1', '--methods', 'ls-sweep,line,nurbs', '--json'];
    const queued = await extraAsync([...args, '--out', 'runs/q', '--queue', url], store).done;
    expect(queued.code, queued.err).toBe(0);
    // per-job progress relayed from the workers through BullMQ's events
    expect(queued.err).toMatch(/\[multi-mnist seed 0 nurbs\] \[bench front\] multi-mnist seed 0: nurbs done/);
    const local = spawnSync(process.execPath, [BIN, ...args, '--out', 'runs/local'], { cwd: store, env, encoding: 'utf8' });
    expect(local.status, local.stderr).toBe(0);
    const q = rowsOf(queued.out);
    expect(q.map((r) => r.method)).toEqual(['ls-sweep', 'line', 'nurbs']);
    expect(figures(q)).toEqual(figures(rowsOf(local.stdout)));
    // the same command again: every job is already done, nothing runs twice
    const again = await extraAsync([...args, '--out', 'runs/q', '--queue', url], store).done;
    expect(again.code, again.err).toBe(0);
    expect(again.err.match(/already done/g)?.length).toBe(3);
    expect(rowsOf(again.out)).toEqual(q);
  }, 240_000);

  it('a bad job fails once without retries and does not stall the queue; an unreachable Redis is one line', async () => {
    const queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: Number(url.split(':').pop()), maxRetriesPerRequest: null } });
    const events = new QueueEvents(QUEUE_NAME, { connection: { host: '127.0.0.1', port: Number(url.split(':').pop()), maxRetriesPerRequest: null } });
    try {
      await events.waitUntilReady();
      const poison = await queue.add('train-endpoint', { run: '../../etc', pref: '1,1' }, { attempts: 3 });
      const outside = await queue.add('front-curve', { o: { nonsense: true } }, { attempts: 3 });
      for (const j of [poison, outside]) await expect(j.waitUntilFinished(events, 30_000)).rejects.toThrow(/^bad input: job data of kind/);
      const failed = await queue.getJob(poison.id!);
      expect(failed!.attemptsMade).toBe(1);
      // the queue still works: a real job after them
      const ok = await extraAsync(['train', '--run', 'runs/after', '--pref', '0.5,0.5', '--epochs', '1', '--train-size', '256', '--val-size', '64', '--test-size', '64', '--queue', url, '--json'], store).done;
      expect(ok.code, ok.err).toBe(0);
      expect((JSON.parse(ok.out) as { endpoints: { id: string }[] }).endpoints.map((e) => e.id)).toEqual(['ls-0.5_0.5']);
    } finally {
      await events.close();
      await queue.close();
    }
    const closed = await freePort();
    const down = await extraAsync(['train', '--run', 'runs/x', '--pref', '1,1', '--queue', `redis://127.0.0.1:${closed}`], store).done;
    expect(down.code).toBe(2);
    expect(down.err.trim()).toMatch(/^extra train: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/);
    const bad = await extraAsync(['train', '--run', 'runs/x', '--pref', '1,1', '--queue', 'http://nope'], store).done;
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
  }, 120_000);

  it('a worker SIGKILLed mid-job: the job goes to the other worker, resumes from its last epoch, and equals a local run', async () => {
    const train = ['train', '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '6', '--train-size', '2000', '--val-size', '256', '--test-size', '256', '--threads', '1', '--json'];
    const sub = extraAsync([...train, '--run', 'runs/kill', '--queue', url], store);
    const logs = () => {
      const dir = path.join(store, 'runs/kill/endpoints');
      return existsSync(dir) ? readdirSync(dir).map((e) => path.join(dir, e, 'train.jsonl')).filter(existsSync) : [];
    };
    // each worker runs one of the two jobs: wait until both have an epoch checkpoint (written after the
    // epoch's log line) and neither has finished, then kill one of the two busy workers
    const epochs = () => logs().map((f) => (existsSync(path.join(path.dirname(f), 'checkpoint.safetensors')) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).length : 0));
    const ready = () => epochs().length === 2 && epochs().every((n) => n >= 1 && n < 6);
    const t0 = Date.now();
    while (!ready() && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
    expect(ready(), `epochs done: ${epochs().join(', ')}`).toBe(true);
    workers[0].kill('SIGKILL');
    const r = await sub.done;
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/handed to another worker/);
    expect(r.err).toMatch(/resuming after epoch [1-5]\/6/);
    const local = spawnSync(process.execPath, [BIN, ...train, '--run', 'runs/kill-local', '--quiet'], { cwd: store, env, encoding: 'utf8' });
    expect(local.status, local.stderr).toBe(0);
    for (const e of ['ls-0.8_0.2', 'ls-0.2_0.8']) {
      const a = readFileSync(path.join(store, 'runs/kill/endpoints', e, 'weights.bin'));
      const b = readFileSync(path.join(store, 'runs/kill-local/endpoints', e, 'weights.bin'));
      expect(a.equals(b), e).toBe(true);
    }
  }, 240_000);
});

if (!REDIS) console.warn('queue tests skipped: Debian redis-server is not installed');
