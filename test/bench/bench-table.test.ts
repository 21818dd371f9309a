import { describe, it, expect } from 'vitest';
import { benchCommand, benchmarks } from '../../src/cli/bench/index.js';
import { main } from '../../src/cli/main.js';
import { isExtraInputError } from '../../src/errors.js';
import { median, meanPm, signedMeanPm } from '../../src/bench/stats.js';
import { kernelTable } from '../../src/bench/kernels.js';
import { trainTables } from '../../src/bench/train.js';
import { queueTable } from '../../src/bench/queue.js';
import { measureSteps, stepJobSchema } from '../../src/bench/train-steps.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const PY = '/usr/bin/python3';
const script = path.resolve(__dirname, '../../scripts/bench_torch.py');
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

describe('extra bench: one table of benchmarks', () => {
  it('--help lists every benchmark of the table with its summary', async () => {
    const c = capture();
    expect(await benchCommand(['--help'], c.io)).toBe(0);
    for (const [name, b] of Object.entries(benchmarks)) expect(c.out.join('\n')).toContain(`  ${name.padEnd(13)} ${b.summary}`);
    expect(Object.keys(benchmarks)).toEqual(['front', 'kernels', 'train', 'curves', 'grouping', 'groups-front', 'queue', 'published', 'tune', 'dense']);
  });

  it("each benchmark's --help is its own usage", async () => {
    for (const name of Object.keys(benchmarks)) {
      const c = capture();
      expect(await benchCommand([name, '--help'], c.io)).toBe(0);
      expect(c.out[0]).toMatch(new RegExp(`^extra bench ${name}( |$)`));
    }
  });

  it('an unknown benchmark, flag or argument is one line naming it (exit 2)', async () => {
    await expect(benchCommand(['nope'], capture().io)).rejects.toSatisfy((e: unknown) => isExtraInputError(e) && /unknown benchmark 'nope' \(known: front, kernels, train, /.test((e as Error).message));
    await expect(benchCommand(['kernels', '--bogus'], capture().io)).rejects.toSatisfy(isExtraInputError);
    await expect(benchCommand(['train', 'extra-arg'], capture().io)).rejects.toThrow(/bench train: unexpected argument 'extra-arg'/);
    await expect(benchCommand(['train', '--steps', '0'], capture().io)).rejects.toThrow(/bench train: --steps must be positive/);
    const c = capture();
    expect(await main(['bench', 'nope'], c.io)).toBe(2);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(/^extra bench: unknown benchmark 'nope' \(known: .*published, tune, dense\)$/);
  });
});

describe('benchmark figures', () => {
  it('median, mean ± sd and signed differences', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(meanPm([1, 2, 3], 2)).toBe('2.00 ± 1.00');
    expect(meanPm([5], 0)).toBe('5 ± 0');
    expect(signedMeanPm([-0.1, -0.3], 1)).toBe('−0.2 ± 0.1');
    expect(signedMeanPm([0.25])).toBe('+0.2500 ± 0.0000');
  });

  it('tables keep the report format', () => {
    const k = kernelTable({
      peak: { nominalPerCore: 96, matmul1: 90, matmulAll: 150, cores: 2 },
      kernels: [
        { kernel: 'Conv2D', ms: { plain: 4, simd: 2, native1: 1, nativeAll: 0.8 }, gflops: { plain: 5, simd: 10, native1: 20, nativeAll: 25 } },
        { kernel: 'Add', ms: { plain: 1, simd: 0.5, native1: null, nativeAll: null }, gflops: { plain: null, simd: null, native1: null, nativeAll: null } },
      ],
      whole: { plain: 100, simd: 50, native1: 25, nativeAll: 20 },
    }).split('\n');
    expect(k[1]).toContain('measured native matMul 1024² 90 GFLOP/s on 1 core and 150 on 2');
    expect(k[4]).toBe('| Conv2D | 4 | 2 | 1 | 0.8 | 2.00x | 5 | 10 | 20 | 25 |');
    expect(k[5]).toBe('| Add | 1 | 0.5 | n/a | n/a | n/a | — | — | — | — |');
    expect(k[6]).toBe('| whole step (forward + all gradients) | 100.0 | 50.0 | 25.0 | 20.0 | 2.00x |  |  |  |  |');
    const q = queueTable({ local: [10, 12, 11], '1 worker': [5.5], '2 workers': [4] }).split('\n');
    expect(q.slice(3)).toEqual(['| local | 11.0 | 1.00× |', '| 1 worker | 5.5 | 2.00× |', '| 2 workers | 4.0 | 2.75× |']);
    const row = { torchVersion: null, torchBlas: null, extra1: 1000, extra2: 1500, extraTwo: 1800, simd1: null, simd2: null, torch1: null, torch2: null };
    const t = trainTables({
      options: { steps: 10, repeats: 3, epochs: 3 },
      hasTorch: false,
      engine: 'wasm-simd (native kernels not used: switched off (EXTRA_NATIVE_KERNELS=0))',
      rows: [{ model: 'lenet', ...row }, { model: 'mlp', ...row }],
      curveRows: [{ threads: 1, curveMs: 20, curveSplitMs: 12, endpointMs: 10 }],
      whole: { extra1: 12.34, extra2: 8, simd2: null, torch2: null, rss1: 300, rss2: null, torchRss: null },
    });
    expect(t).toContain('PyTorch not found (/usr/bin/python3 with torch)');
    expect(t).toContain('| lenet-mtl | 1,000 | n/a | n/a | 1,500 | n/a | n/a | 1,800 | n/a |');
    expect(t).toContain('(samples/s)\n\n| threads |');
    expect(t).toContain('| 1 | 10.0 | 20.0 | 2.00x | 12.0 | 1.20x |');
    expect(t).toContain('| extra train --threads 1 | 12.3 | 300 | n/a |');
    expect(t).toContain('| extra train --threads 2 | 8.0 | n/a | n/a |');
    expect(t).not.toContain('PyTorch script');
    expect(t).toContain('kernels: wasm-simd (native kernels not used');
    expect(t).not.toContain('Before → after');
  });

  it('a training-step job crosses the thread boundary through its schema; one in-thread measurement', async () => {
    expect(stepJobSchema.parse({ model: 'mlp' })).toEqual({ model: 'mlp', kind: 'endpoint', batch: 256, steps: 10, backend: 'wasm', threads: 1 });
    expect(() => stepJobSchema.parse({ model: 'resnet' })).toThrow();
    const r = await measureSteps({ model: 'mlp', batch: 16, steps: 1 });
    expect(r.msPerStep).toBeGreaterThan(0);
    expect(r.samplesPerSec).toBeCloseTo(16_000 / r.msPerStep, 6);
  });

  it('the segnet row: a segnet-mtl step on dense-digits-shaped data (three per-pixel losses); --steps-only tables have no whole-process rows', async () => {
    const r = await measureSteps({ model: 'segnet', batch: 4, steps: 1 });
    expect(r.msPerStep).toBeGreaterThan(0);
    expect(r.samplesPerSec).toBeCloseTo(4_000 / r.msPerStep, 6);
    const row = { torchVersion: '1.13', torchBlas: '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3', extra1: 60, extra2: 90, extraTwo: 100, simd1: null, simd2: null, torch1: 40, torch2: 60 };
    const t = trainTables({ options: { steps: 5, repeats: 3, epochs: 3, models: ['segnet'], stepsOnly: true }, hasTorch: true, engine: 'native', rows: [{ model: 'segnet', ...row }], curveRows: [], whole: null });
    expect(t).toContain('| segnet-mtl, batch 64 (dense-digits shape 32×32×1; seg 11 + depth + normal heads and losses) | 60 | 40 | 1.50x | 90 | 60 | 1.50x | 100 | 1.67x |');
    expect(t).not.toContain('Whole process');
    expect(t).not.toContain('| threads |');
    // a PyTorch on Debian's reference BLAS is said to be no fair baseline
    expect(t).toMatch(/BLAS: \/usr\/lib\/x86_64-linux-gnu\/blas\/libblas\.so\.3 — the reference BLAS: .*libopenblas0-pthread/);
    await expect(benchCommand(['train', '--models', 'segnet,resnet'], capture().io)).rejects.toThrow(/bench train: unknown --models resnet \(known: lenet, mlp, residual-bn, segnet, resnet18, vit\)/);
  });

  it.skipIf(!hasTorch)('the ViT row: PyTorch exports its network, extra times a step of that very ONNX file, and PyTorch says which BLAS it ran on', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-bench-vit-'));
    const file = path.join(dir, 'vit.onnx');
    expect(spawnSync(PY, [script, 'export', 'vit', file], { encoding: 'utf8' }).status).toBe(0);
    const r = await measureSteps({ model: 'vit', onnx: file, batch: 2, steps: 1 });
    expect(r.samplesPerSec).toBeCloseTo(2_000 / r.msPerStep, 6);
    const t = spawnSync(PY, [script, 'vit', '1', '1', '2'], { encoding: 'utf8' });
    expect(JSON.parse(t.stdout.trim())).toMatchObject({ model: 'vit', threads: 1, blas: expect.stringMatching(/blas/) });
    await expect(measureSteps({ model: 'vit', batch: 2, steps: 1 })).rejects.toThrow(/the vit row reads the ONNX file PyTorch exported, and none was given/);
    rmSync(dir, { recursive: true, force: true });
  });
});
