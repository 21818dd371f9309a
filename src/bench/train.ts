import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { Log } from '../app/index.js';
import { loadDataset } from '../data/index.js';
import { cacheFile, defaultCacheDir } from '../data/cache.js';
import { compiledFile } from '../parallel/program.js';
import { median } from './stats.js';
import { selectBackend, kernelEngine } from '../backend/index.js';
import { extraBin, scriptFile } from './paths.js';
import { stepResultSchema, onnxBenchModels, type StepJob, type StepResult } from './train-steps.js';

/**
 * Training throughput (`extra bench train`), side by side with PyTorch-CPU when Debian's python3-torch
 * is installed. Rows: one training on 1 thread, one training on 2 threads (threads inside the native
 * kernels, or a data-parallel GradientPool on the wasm SIMD kernels), two trainings at once (how extra
 * trains endpoints), the curve step vs the endpoint step, and whole processes (`extra train` vs a
 * PyTorch script on the same split), each a median of R runs. Where the native kernels run, the same
 * rows are also measured on the wasm SIMD kernels (EXTRA_NATIVE_KERNELS=0): the before → after.
 */
export interface TrainBenchOptions {
  steps: number;
  repeats: number;
  epochs: number;
  /** the step rows' models (default: all of benchModels) */
  models?: StepJob['model'][];
  /** the step rows only: no curve-step and no whole-process rows */
  stepsOnly?: boolean;
}

/** The models of the step rows, in table order. */
export const benchModels: readonly StepJob['model'][] = ['lenet', 'mlp', 'residual-bn', 'segnet', 'resnet18', 'vit'];

/** Batch of a model's step rows: 256, and 64 images for segnet-mtl, resnet18 and the ViT (as bench_torch.py is told). */
const batchOf = (model: StepJob['model']): number => (model === 'segnet' || onnxBenchModels.includes(model) ? 64 : 256);

export interface ModelRow {
  model: StepJob['model'];
  torchVersion: string | null;
  /** the BLAS library PyTorch loaded (Debian's reference BLAS makes its Linear layers several times slower) */
  torchBlas: string | null;
  /** samples/s: extra on 1 thread, on 2 threads, two 1-thread trainings at once (total); PyTorch on 1 and 2 */
  extra1: number | null;
  extra2: number | null;
  extraTwo: number | null;
  /** the same on the wasm SIMD kernels, when the native ones run (null otherwise) */
  simd1: number | null;
  simd2: number | null;
  torch1: number | null;
  torch2: number | null;
}

export interface CurveRow {
  threads: number;
  curveMs: number;
  curveSplitMs: number;
  endpointMs: number;
}

/** Medians of whole processes: wall seconds and peak RSS (MiB) of `extra train` on 1 and 2 threads and of PyTorch. */
export interface WholeProcess {
  extra1: number | null;
  extra2: number | null;
  /** `extra train --threads 2` on the wasm SIMD kernels (when the native ones run) */
  simd2: number | null;
  torch2: number | null;
  rss1: number | null;
  rss2: number | null;
  torchRss: number | null;
}

export interface TrainBenchResult {
  options: TrainBenchOptions;
  hasTorch: boolean;
  /** the kernels extra ran on (kernelEngine's line) */
  engine: string;
  rows: ModelRow[];
  curveRows: CurveRow[];
  /** null with stepsOnly */
  whole: WholeProcess | null;
}

const PY = '/usr/bin/python3';

/** The compiled worker (dist/bench/train-worker.js; its twin in dist/ when running the sources). */
const workerFile = compiledFile(new URL('./train-worker.js', import.meta.url));

/** The environment of a run on the wasm SIMD kernels (the engine before the native kernels). */
const simdEnv = (): NodeJS.ProcessEnv => ({ ...process.env, EXTRA_NATIVE_KERNELS: '0' });

function inWorker(job: StepJob, env: NodeJS.ProcessEnv = process.env): Promise<StepResult> {
  const file = workerFile;
  if (!file) return Promise.reject(new Error('bench train: the worker is not built (npm run build)'));
  return new Promise((resolve, reject) => {
    const w = new Worker(file, { workerData: job, env });
    let settled = false;
    w.once('message', (m: unknown) => {
      settled = true;
      const r = stepResultSchema.safeParse(m);
      if (r.success) resolve(r.data);
      else reject(new Error(`bench train: unexpected worker message ${JSON.stringify(m)}`));
    });
    w.once('error', (e) => {
      settled = true;
      reject(e);
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Error(`bench train: worker exited with code ${code}`));
    });
  });
}

/** Two independent one-thread trainings at once (how extra trains two endpoints): total samples/s. */
async function twoAtOnce(job: StepJob): Promise<number> {
  const r = await Promise.all([inWorker(job), inWorker(job)]);
  return r[0].samplesPerSec + r[1].samplesPerSec;
}

/**
 * PyTorch runs without this machine's OpenBLAS tuning variables (they are extra's, not PyTorch's), and
 * with OpenBLAS held to PyTorch's own thread count: Debian's python3-torch reaches OpenBLAS through the
 * system's libblas.so.3 and does not set its threads, so a "1 thread" PyTorch ran its matrix products
 * on every core (the ViT row: 142 samples/s against 102 on one thread).
 */
function torchEnv(threads?: number): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (threads !== undefined) env.OPENBLAS_NUM_THREADS = String(threads);
  return env;
}

const torchStepsSchema = z.object({ torch: z.string(), blas: z.string().nullable().default(null), samplesPerSec: z.number() });

/** PyTorch writes the network of a row that extra imports (bench_torch.py export); false where it cannot. */
function exportTwin(model: string, file: string): boolean {
  return spawnSync(PY, [scriptFile('bench_torch.py'), 'export', model, file], { encoding: 'utf8', env: torchEnv() }).status === 0 && existsSync(file);
}

function torch(model: string, threads: number, steps: number, batch: number): z.infer<typeof torchStepsSchema> | null {
  const r = spawnSync(PY, [scriptFile('bench_torch.py'), model, String(threads), String(steps), String(batch)], { encoding: 'utf8', env: torchEnv(threads) });
  if (r.status !== 0) return null;
  try {
    const p = torchStepsSchema.safeParse(JSON.parse(r.stdout.trim().split('\n').pop() ?? ''));
    return p.success ? p.data : null;
  } catch {
    return null;
  }
}

/** Wall seconds and peak RSS (MiB, GNU time) of a whole command. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): { seconds: number; rssMiB: number | null; stdout: string } {
  const gnuTime = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = gnuTime ? spawnSync('/usr/bin/time', ['-f', 'RSS_KB=%M', cmd, ...args], { encoding: 'utf8', env }) : spawnSync(cmd, args, { encoding: 'utf8', env });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${(r.stderr ?? '').slice(-500)}`);
  const m = /RSS_KB=(\d+)/.exec(r.stderr);
  return { seconds, rssMiB: m ? Number(m[1]) / 1024 : null, stdout: r.stdout };
}

/** The median of a list, or null when it is empty or holds a missing value. */
function medianOrNull(xs: readonly (number | null)[]): number | null {
  const ns = xs.filter((x): x is number => x != null);
  return ns.length && ns.length === xs.length ? median(ns) : null;
}

/** Every row of the benchmark, each logged as one JSON line as it is measured. */
export async function measureTraining(o: TrainBenchOptions, log: Log): Promise<TrainBenchResult> {
  const { steps, repeats, epochs } = o;
  const hasTorch = existsSync(PY) && spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  await selectBackend({ prefer: 'wasm', quiet: true });
  const { engine: kernels, detail } = kernelEngine();
  const engine = `${kernels} (${detail})`;
  const native = kernels === 'native';
  log(JSON.stringify({ kernels: engine }));
  const rows: ModelRow[] = [];
  const onnxDir = mkdtempSync(path.join(os.tmpdir(), 'extra-bench-onnx-'));
  try {
  for (const model of o.models ?? benchModels) {
    const batch = batchOf(model);
    // resnet18 / vit: extra imports the very network PyTorch times, from PyTorch's own ONNX export
    const fromOnnx = onnxBenchModels.includes(model);
    let onnx: string | undefined;
    if (fromOnnx) {
      onnx = path.join(onnxDir, `${model}.onnx`);
      if (!hasTorch || !exportTwin(model, onnx)) {
        log(JSON.stringify({ model, skipped: hasTorch ? 'PyTorch could not export the network (torchvision missing?)' : 'needs PyTorch (/usr/bin/python3 with torch and torchvision) to write the network' }));
        continue;
      }
    }
    // segnet on 2 threads: inside the native kernels only (the data-parallel pool carries per-sample labels)
    const pooled2 = model !== 'segnet';
    // the large imported networks: 1 and 2 threads against PyTorch only (no two-at-once or wasm SIMD rows)
    const full = !fromOnnx;
    const r = { extra1: [] as number[], extra2: [] as number[], extraTwo: [] as number[], simd1: [] as number[], simd2: [] as number[], torch1: [] as number[], torch2: [] as number[] };
    let torchVersion: string | null = null;
    let torchBlas: string | null = null;
    for (let i = 0; i < repeats; i++) {
      r.extra1.push((await inWorker({ model, onnx, batch, steps, threads: 1 })).samplesPerSec);
      if (native || pooled2) r.extra2.push((await inWorker({ model, onnx, batch, steps, threads: 2 })).samplesPerSec);
      if (full) r.extraTwo.push(await twoAtOnce({ model, batch, steps, threads: 1 }));
      if (native && full) {
        r.simd1.push((await inWorker({ model, batch, steps, threads: 1 }, simdEnv())).samplesPerSec);
        if (pooled2) r.simd2.push((await inWorker({ model, batch, steps, threads: 2 }, simdEnv())).samplesPerSec);
      }
      const a = hasTorch ? torch(model, 1, steps, batch) : null;
      const b = hasTorch ? torch(model, 2, steps, batch) : null;
      if (a) {
        r.torch1.push(a.samplesPerSec);
        torchVersion = a.torch;
        torchBlas = a.blas;
      }
      if (b) r.torch2.push(b.samplesPerSec);
    }
    const row: ModelRow = {
      model,
      torchVersion,
      torchBlas,
      extra1: medianOrNull(r.extra1),
      extra2: medianOrNull(r.extra2),
      extraTwo: full ? medianOrNull(r.extraTwo) : null,
      simd1: native && full ? medianOrNull(r.simd1) : null,
      simd2: native && full ? medianOrNull(r.simd2) : null,
      torch1: medianOrNull(r.torch1),
      torch2: medianOrNull(r.torch2),
    };
    rows.push(row);
    log(JSON.stringify(row));
  }
  } finally {
    rmSync(onnxDir, { recursive: true, force: true });
  }

  const curveRows: CurveRow[] = [];
  if (o.stepsOnly) return { options: o, hasTorch, engine, rows, curveRows, whole: null };
  for (const threads of [1, 2]) {
    const c: number[] = [];
    const cs: number[] = [];
    const e: number[] = [];
    for (let i = 0; i < repeats; i++) {
      c.push((await inWorker({ model: 'lenet', kind: 'curve', steps, threads })).msPerStep);
      cs.push((await inWorker({ model: 'lenet', kind: 'curve-split', steps, threads })).msPerStep);
      e.push((await inWorker({ model: 'lenet', kind: 'endpoint', steps, threads })).msPerStep);
    }
    curveRows.push({ threads, curveMs: median(c), curveSplitMs: median(cs), endpointMs: median(e) });
    log(JSON.stringify(curveRows[curveRows.length - 1]));
  }

  // whole processes on the same split: `extra train` (one preference, validation every epoch) vs PyTorch
  const ds = await loadDataset('multi-mnist', { seed: 0, trainSize: 10000, valSize: 2000, testSize: 2000, quiet: true });
  const cache = cacheFile(defaultCacheDir(), 'multi-mnist', ds.fingerprint);
  const runs: Record<keyof WholeProcess, (number | null)[]> = { extra1: [], extra2: [], simd2: [], torch2: [], rss1: [], rss2: [], torchRss: [] };
  const trainOnce = (threads: number, env: NodeJS.ProcessEnv) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'extra-bench-train-'));
    const args = [extraBin, 'train', '--run', dir, '--dataset', 'multi-mnist', '--train-size', '10000', '--val-size', '2000', '--test-size', '2000', '--pref', '0.5,0.5', '--epochs', String(epochs), '--threads', String(threads), '--quiet', '--json'];
    const t = timed(process.execPath, args, env);
    rmSync(dir, { recursive: true, force: true });
    return t;
  };
  for (let i = 0; i < repeats; i++) {
    for (const threads of [1, 2] as const) {
      const t = trainOnce(threads, process.env);
      runs[`extra${threads}`].push(t.seconds);
      runs[`rss${threads}`].push(t.rssMiB);
    }
    if (native) runs.simd2.push(trainOnce(2, simdEnv()).seconds);
    if (hasTorch) {
      const t = timed(PY, [scriptFile('bench_torch_train.py'), cache, '2', String(epochs)], torchEnv(2));
      runs.torch2.push(t.seconds);
      runs.torchRss.push(t.rssMiB);
      if (i === 0) log(t.stdout.trim());
    }
  }
  const whole: WholeProcess = {
    extra1: medianOrNull(runs.extra1),
    extra2: medianOrNull(runs.extra2),
    simd2: native ? medianOrNull(runs.simd2) : null,
    torch2: medianOrNull(runs.torch2),
    rss1: medianOrNull(runs.rss1),
    rss2: medianOrNull(runs.rss2),
    torchRss: medianOrNull(runs.torchRss),
  };
  log(JSON.stringify({ wholeProcess: whole, epochs }));
  return { options: o, hasTorch, engine, rows, curveRows, whole };
}

const modelLabel: Record<ModelRow['model'], string> = {
  lenet: 'lenet-mtl',
  mlp: 'MLP 1296→256→256→2×10',
  'residual-bn': 'residual-bn (examples/, BatchNorm + residual block)',
  segnet: 'segnet-mtl, batch 64 (dense-digits shape 32×32×1; seg 11 + depth + normal heads and losses)',
  resnet18: "resnet18, batch 64 (torchvision's, 3×64×64, two 10-class heads; imported from PyTorch's ONNX export)",
  vit: 'ViT, batch 64 (8×8 patches of 3×64×64, width 192, 3 heads, 6 blocks, two 10-class heads; from its ONNX export)',
};
const f = (x: number | null) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const ratio = (a: number | null, b: number | null) => (a == null || b == null ? 'n/a' : `${(a / b).toFixed(2)}x`);
const fixed = (x: number | null, d: number) => (x == null ? 'n/a' : x.toFixed(d));

/** Which BLAS PyTorch ran on, and a warning where it is the reference one (no fair baseline for Linear layers). */
function blasText(lib: string | null): string {
  if (!lib) return 'not seen';
  return /openblas|mkl|blis/i.test(lib) ? lib : `${lib} — the reference BLAS: PyTorch's matrix products run several times slower than they can (apt-get install libopenblas0-pthread for a fair baseline)`;
}

/** The markdown tables of reports/train.md. */
export function trainTables(r: TrainBenchResult): string {
  const { steps, repeats } = r.options;
  const W = r.whole;
  return [
    `\nbatch 256 (segnet-mtl, resnet18 and the ViT: 64), forward + backward + Adam; medians of ${repeats} runs of ${steps} steps (after 2 warm-up steps)`,
    ...(r.hasTorch ? [] : ['PyTorch not found (/usr/bin/python3 with torch): apt-get install python3-torch to compare']),
    `kernels: ${r.engine}`,
    '\n| model | extra 1 thread | PyTorch 1 thread | ratio | extra, 1 training on 2 threads | PyTorch 2 threads | ratio | extra, 2 trainings at once (total) | ratio to PyTorch 2 threads |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map((m) => `| ${modelLabel[m.model]} | ${f(m.extra1)} | ${f(m.torch1)} | ${ratio(m.extra1, m.torch1)} | ${f(m.extra2)} | ${f(m.torch2)} | ${ratio(m.extra2, m.torch2)} | ${f(m.extraTwo)} | ${ratio(m.extraTwo, m.torch2)} |`),
    '(samples/s)\n',
    ...(r.rows[0]?.torchVersion ? [`PyTorch ${r.rows[0].torchVersion} (Debian python3-torch), OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset and OPENBLAS_NUM_THREADS = its threads for its runs; BLAS: ${blasText(r.rows[0].torchBlas)}\n`] : []),
    ...(r.rows.some((m) => m.simd1 != null)
      ? [
          'Before → after: the same steps on the wasm SIMD kernels (EXTRA_NATIVE_KERNELS=0; 2 threads = the data-parallel pool), same run:',
          '| model | wasm SIMD, 1 thread | native, 1 thread | speed-up | wasm SIMD, 2 threads | native, 2 threads | speed-up |',
          '|---|---|---|---|---|---|---|',
          ...r.rows.map((m) => `| ${modelLabel[m.model]} | ${f(m.simd1)} | ${f(m.extra1)} | ${ratio(m.extra1, m.simd1)} | ${f(m.simd2)} | ${f(m.extra2)} | ${ratio(m.extra2, m.simd2)} |`),
          '(samples/s)\n',
        ]
      : []),
    ...(W ? wholeTables(r, W) : []),
  ].join('\n');
}

function wholeTables(r: TrainBenchResult, W: WholeProcess): string[] {
  const { repeats, epochs } = r.options;
  return [
    '| threads | endpoint step (ms) | curve step, NURBS, m = 2, shared batch (default) | ratio | curve step, --split-batch | ratio |',
    '|---|---|---|---|---|---|',
    ...r.curveRows.map((c) => `| ${c.threads} | ${c.endpointMs.toFixed(1)} | ${c.curveMs.toFixed(1)} | ${ratio(c.curveMs, c.endpointMs)} | ${c.curveSplitMs.toFixed(1)} | ${ratio(c.curveSplitMs, c.endpointMs)} |`),
    `\nWhole process, ${epochs} epochs of multi-mnist (10k train, validation on 2k after every epoch), medians of ${repeats}:`,
    '| | wall s | peak RSS MiB | PyTorch 2 threads / this (speed ratio) |',
    '|---|---|---|---|',
    `| extra train --threads 1 | ${fixed(W.extra1, 1)} | ${fixed(W.rss1, 0)} | ${ratio(W.torch2, W.extra1)} |`,
    `| extra train --threads 2 | ${fixed(W.extra2, 1)} | ${fixed(W.rss2, 0)} | ${ratio(W.torch2, W.extra2)} |`,
    ...(W.simd2 != null ? [`| extra train --threads 2, wasm SIMD kernels (before) | ${W.simd2.toFixed(1)} | | ${ratio(W.torch2, W.simd2)} |`] : []),
    ...(W.torch2 != null ? [`| PyTorch script, 2 threads | ${W.torch2.toFixed(1)} | ${fixed(W.torchRss, 0)} | 1.00x |`] : []),
  ];
}
