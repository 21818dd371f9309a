import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extra } from '../fixtures.js';
import { readSafetensors } from '../../src/io/safetensors.js';

/**
 * The README's promise, on the whole training path (not kernel by kernel): with the same seed, one
 * epoch of `train` and a `curve fit` give the same bits on the AVX-512 and the AVX2 native kernels, at
 * 1 and 2 threads. Needs a CPU with AVX-512 and the native addon; skipped otherwise, saying why.
 */
const cpu = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
const addon = existsSync(path.resolve('build/Release/extra_kernels.node'));
const skip = !addon ? 'the native kernels are not built' : !/\bavx512f\b/.test(cpu) ? 'this CPU has no AVX-512' : null;

describe.skipIf(skip !== null)(`AVX-512 and AVX2 give the same bits on one epoch of training and a curve fit${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const root = mkdtempSync(path.join(tmpdir(), 'extra-isa-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function trainAndFit(isa: string, threads: number): string {
    const run = path.join(root, `${isa}-${threads}`);
    const env = { EXTRA_NATIVE_ISA: isa };
    const common = ['--batch-size', '64', '--threads', String(threads), '--quiet'];
    for (const args of [
      ['train', '--run', run, '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '1', '--train-size', '1024', '--val-size', '128', '--test-size', '128', '--workers', '1', '--seed', '3', ...common],
      ['curve', 'fit', '--run', run, '--epochs', '1', '--eval-points', '0', ...common],
    ]) {
      const r = extra(args, env);
      expect(r.code, `${isa}: extra ${args.join(' ')}\n${r.err}`).toBe(0);
    }
    return run;
  }

  async function tensors(file: string): Promise<Map<string, Float32Array>> {
    return new Map((await readSafetensors(file, 'skip')).tensors.map((t) => [t.name, t.data]));
  }

  it.each([1, 2])('at %i thread(s): every tensor of both endpoint checkpoints and of the curve is identical', async (threads) => {
    const a = trainAndFit('avx512', threads);
    const b = trainAndFit('avx2', threads);
    for (const f of ['endpoints/ls-0.8_0.2/checkpoint.safetensors', 'endpoints/ls-0.2_0.8/checkpoint.safetensors', 'curve/controls.safetensors', 'curve/checkpoint.safetensors']) {
      const ta = await tensors(path.join(a, f));
      const tb = await tensors(path.join(b, f));
      expect([...ta.keys()]).toEqual([...tb.keys()]);
      const differ = [...ta].filter(([name, x]) => !Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(tb.get(name)!.buffer, tb.get(name)!.byteOffset, tb.get(name)!.byteLength))).map(([name]) => name);
      expect(differ, `${f}: tensors that differ between AVX-512 and AVX2`).toEqual([]);
    }
  }, 300_000);
});
