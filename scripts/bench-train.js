// Training throughput, side by side with PyTorch-CPU when Debian's python3-torch is installed.
// Usage: npm run bench:train [-- --steps N --repeats R --epochs E]
// Rows: one training on 1 thread, one training on 2 threads (extra: data-parallel GradientPool),
// two trainings at once (how extra trains endpoints), the curve step vs the endpoint step, and whole
// processes (`extra train` vs a PyTorch script on the same split), each a median of R runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo, median } from './machine.js';
import { loadDataset } from '../dist/data/index.js';
import { cacheFile, defaultCacheDir } from '../dist/data/cache.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: v } = parseArgs({ options: { steps: { type: 'string', default: '10' }, repeats: { type: 'string', default: '3' }, epochs: { type: 'string', default: '3' } } });
const steps = Number(v.steps);
const repeats = Number(v.repeats);
const epochs = Number(v.epochs);
const py = '/usr/bin/python3';
const hasTorch = existsSync(py) && spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

function inWorker(job) {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(here, 'bench-train-worker.js'), { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

/** Two independent one-thread trainings at once (how extra trains two endpoints): total samples/s. */
async function twoAtOnce(job) {
  const r = await Promise.all([inWorker(job), inWorker(job)]);
  return r[0].samplesPerSec + r[1].samplesPerSec;
}

function torchEnv() {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

function torch(model, threads) {
  if (!hasTorch) return null;
  const r = spawnSync(py, [path.join(here, 'bench_torch.py'), model, String(threads), String(steps)], { encoding: 'utf8', env: torchEnv() });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Wall seconds and peak RSS (MiB, GNU time) of a whole command. */
function timed(cmd, args, env) {
  const gnuTime = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', 'RSS_KB=%M', cmd, ...args], { encoding: 'utf8', env })
    : spawnSync(cmd, args, { encoding: 'utf8', env });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-500)}`);
  const m = /RSS_KB=(\d+)/.exec(r.stderr);
  return { seconds, rssMiB: m ? Number(m[1]) / 1024 : null, stdout: r.stdout };
}

const f = (x) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (a == null || b == null ? 'n/a' : `${(a / b).toFixed(2)}x`);

console.log(JSON.stringify(machineInfo()));
const rows = [];
for (const model of ['lenet', 'mlp']) {
  const r = { model, extra1: [], extra2: [], extraTwo: [], torch1: [], torch2: [] };
  let torchVersion = null;
  for (let i = 0; i < repeats; i++) {
    r.extra1.push((await inWorker({ model, steps, threads: 1 })).samplesPerSec);
    r.extra2.push((await inWorker({ model, steps, threads: 2 })).samplesPerSec);
    r.extraTwo.push(await twoAtOnce({ model, steps, threads: 1 }));
    const a = torch(model, 1);
    const b = torch(model, 2);
    if (a) {
      r.torch1.push(a.samplesPerSec);
      torchVersion = a.torch;
    }
    if (b) r.torch2.push(b.samplesPerSec);
  }
  const row = { model, torchVersion };
  for (const k of ['extra1', 'extra2', 'extraTwo', 'torch1', 'torch2']) row[k] = r[k].length ? median(r[k]) : null;
  rows.push(row);
  console.log(JSON.stringify(row));
}

const curveRows = [];
for (const threads of [1, 2]) {
  const c = [];
  const cs = [];
  const e = [];
  for (let i = 0; i < repeats; i++) {
    c.push((await inWorker({ model: 'lenet', kind: 'curve', steps, threads })).msPerStep);
    cs.push((await inWorker({ model: 'lenet', kind: 'curve-split', steps, threads })).msPerStep);
    e.push((await inWorker({ model: 'lenet', kind: 'endpoint', steps, threads })).msPerStep);
  }
  curveRows.push({ threads, curveMs: median(c), curveSplitMs: median(cs), endpointMs: median(e) });
  console.log(JSON.stringify(curveRows[curveRows.length - 1]));
}

// whole processes on the same split: `extra train` (one preference, validation every epoch) vs PyTorch
const recipe = { seed: 0, trainSize: 10000, valSize: 2000, testSize: 2000, quiet: true };
const ds = await loadDataset('multi-mnist', recipe);
const cache = cacheFile(defaultCacheDir(), 'multi-mnist', ds.fingerprint);
const whole = { extra1: [], extra2: [], torch2: [], rss1: [], rss2: [], torchRss: [] };
for (let i = 0; i < repeats; i++) {
  for (const threads of [1, 2]) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'extra-bench-train-'));
    const args = [path.join(here, '..', 'bin', 'extra.js'), 'train', '--run', dir, '--dataset', 'multi-mnist', '--train-size', '10000', '--val-size', '2000', '--test-size', '2000', '--pref', '0.5,0.5', '--epochs', String(epochs), '--threads', String(threads), '--quiet', '--json'];
    const t = timed(process.execPath, args, process.env);
    whole[`extra${threads}`].push(t.seconds);
    whole[`rss${threads}`].push(t.rssMiB);
    rmSync(dir, { recursive: true, force: true });
  }
  if (hasTorch) {
    const t = timed(py, [path.join(here, 'bench_torch_train.py'), cache, '2', String(epochs)], torchEnv());
    whole.torch2.push(t.seconds);
    whole.torchRss.push(t.rssMiB);
    if (i === 0) console.log(t.stdout.trim());
  }
}
const W = {};
for (const [k, xs] of Object.entries(whole)) W[k] = xs.length && xs[0] != null ? median(xs) : null;
console.log(JSON.stringify({ wholeProcess: W, epochs }));

console.log(`\nbatch 256, forward + backward + Adam; medians of ${repeats} runs of ${steps} steps (after 2 warm-up steps)`);
if (!hasTorch) console.log('PyTorch not found (/usr/bin/python3 with torch): apt-get install python3-torch to compare');
console.log('\n| model | extra 1 thread | PyTorch 1 thread | ratio | extra, 1 training on 2 threads | PyTorch 2 threads | ratio | extra, 2 trainings at once (total) | ratio to PyTorch 2 threads |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.model === 'lenet' ? 'lenet-mtl' : 'MLP 1296→256→256→2×10'} | ${f(r.extra1)} | ${f(r.torch1)} | ${ratio(r.extra1, r.torch1)} | ${f(r.extra2)} | ${f(r.torch2)} | ${ratio(r.extra2, r.torch2)} | ${f(r.extraTwo)} | ${ratio(r.extraTwo, r.torch2)} |`);
}
console.log('(samples/s)\n');
console.log('| threads | endpoint step (ms) | curve step, NURBS, m = 2, shared batch (default) | ratio | curve step, --split-batch | ratio |');
console.log('|---|---|---|---|---|---|');
for (const c of curveRows) console.log(`| ${c.threads} | ${c.endpointMs.toFixed(1)} | ${c.curveMs.toFixed(1)} | ${ratio(c.curveMs, c.endpointMs)} | ${c.curveSplitMs.toFixed(1)} | ${ratio(c.curveSplitMs, c.endpointMs)} |`);
console.log(`\nWhole process, ${epochs} epochs of multi-mnist (10k train, validation on 2k after every epoch), medians of ${repeats}:`);
console.log('| | wall s | peak RSS MiB | PyTorch 2 threads / this (speed ratio) |');
console.log('|---|---|---|---|');
const mib = (x) => (x == null ? 'n/a' : x.toFixed(0));
console.log(`| extra train --threads 1 | ${W.extra1.toFixed(1)} | ${mib(W.rss1)} | ${ratio(W.torch2, W.extra1)} |`);
console.log(`| extra train --threads 2 | ${W.extra2.toFixed(1)} | ${mib(W.rss2)} | ${ratio(W.torch2, W.extra2)} |`);
if (W.torch2 != null) console.log(`| PyTorch script, 2 threads | ${W.torch2.toFixed(1)} | ${mib(W.torchRss)} | 1.00x |`);
if (rows[0].torchVersion) console.log(`\nPyTorch ${rows[0].torchVersion} (Debian python3-torch), OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset for its runs`);
