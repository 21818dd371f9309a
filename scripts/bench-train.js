// Training throughput, side by side with PyTorch-CPU when Debian's python3-torch is installed.
// Usage: npm run bench:train [-- --steps N --repeats R]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureSteps } from './bench-train-core.js';
import { machineInfo, median } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: v } = parseArgs({ options: { steps: { type: 'string', default: '10' }, repeats: { type: 'string', default: '3' } } });
const steps = Number(v.steps);
const repeats = Number(v.repeats);

function inWorker(job) {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(here, 'bench-train-worker.js'), { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

/** Two independent models at once, one per core (how extra trains endpoints): total samples/s. */
async function twoWorkers(job) {
  const r = await Promise.all([inWorker(job), inWorker(job)]);
  return r[0].samplesPerSec + r[1].samplesPerSec;
}

function torch(model, threads) {
  const py = '/usr/bin/python3';
  if (!existsSync(py)) return null;
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(py, [path.join(here, 'bench_torch.py'), model, String(threads), String(steps)], { encoding: 'utf8', env });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

console.log(JSON.stringify(machineInfo()));
const rows = [];
for (const model of ['lenet', 'mlp']) {
  const ours1 = [];
  const ours2 = [];
  const t1 = [];
  const t2 = [];
  let torchVersion = null;
  for (let r = 0; r < repeats; r++) {
    ours1.push((await inWorker({ model, steps })).samplesPerSec);
    ours2.push(await twoWorkers({ model, steps }));
    const a = torch(model, 1);
    const b = torch(model, 2);
    if (a) {
      t1.push(a.samplesPerSec);
      torchVersion = a.torch;
    }
    if (b) t2.push(b.samplesPerSec);
  }
  const row = {
    model,
    extra1: median(ours1),
    extra2: median(ours2),
    torch1: t1.length ? median(t1) : null,
    torch2: t2.length ? median(t2) : null,
    torchVersion,
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
const curve = [];
const endpoint = [];
for (let r = 0; r < repeats; r++) {
  curve.push((await inWorker({ model: 'lenet', kind: 'curve', steps })).msPerStep);
  endpoint.push((await inWorker({ model: 'lenet', kind: 'endpoint', steps })).msPerStep);
}
const f = (x) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (a == null || b == null ? 'n/a' : `${(a / b).toFixed(2)}×`);
console.log(`\nbatch 256, forward + backward + Adam; medians of ${repeats} runs of ${steps} steps (after 2 warm-up steps)`);
if (rows[0].torch1 == null) console.log('PyTorch not found (/usr/bin/python3 with torch): apt-get install python3-torch to compare');
console.log('\n| model | extra wasm, 1 core (samples/s) | extra, 2 models on 2 cores (total) | PyTorch 1 thread | PyTorch 2 threads | extra 1 core / PyTorch 1 thread | extra 2 cores / PyTorch 2 threads |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.model === 'lenet' ? 'lenet-mtl' : 'MLP 1296→256→256→2×10'} | ${f(r.extra1)} | ${f(r.extra2)} | ${f(r.torch1)} | ${f(r.torch2)} | ${ratio(r.extra1, r.torch1)} | ${ratio(r.extra2, r.torch2)} |`);
console.log(`\nlenet-mtl curve step (NURBS, 2 values of t) ${median(curve).toFixed(1)} ms vs endpoint step ${median(endpoint).toFixed(1)} ms: ratio ${(median(curve) / median(endpoint)).toFixed(2)}`);
if (rows[0].torchVersion) console.log(`PyTorch ${rows[0].torchVersion} (Debian python3-torch), OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset for its runs`);
