import { backendTable, kernelTable, measureBackends, measureKernels } from '../../bench/kernels.js';
import { machineInfo } from '../../bench/machine.js';
import { optNumber } from '../args.js';
import type { BenchmarkEntry } from './entry.js';

export const kernelsBench: BenchmarkEntry = {
  summary: 'matMul GFLOP/s and a lenet-mtl step per backend; each wasm kernel: tfjs-wasm, wasm SIMD, native at 1 and all cores (reports/kernels.md)',
  help: `extra bench kernels [--steps 7]      (npm run bench:kernels [-- --steps N])

Kernel benchmark: matMul 1024² GFLOP/s and one lenet-mtl training step (batch 256, 36×36) per backend, then
each hot kernel of that step on tfjs-wasm's own path (EXTRA_SIMD_KERNELS=0), the wasm SIMD kernels
(EXTRA_NATIVE_KERNELS=0) and the native kernels on 1 thread and on all cores, interleaved in one process.
  --steps N         timed steps per measurement (default 7; the cpu backend times 1)
Environment: BENCH_SKIP_CPU=1 skips the cpu backend; BENCH_DEBUG=1 prints every time.`,
  flags: { values: ['steps'] },
  run: async (v, io) => {
    const steps = optNumber('bench kernels', v, 'steps', { integer: true, positive: true }) ?? 7;
    io.out(JSON.stringify(machineInfo()));
    const rows = await measureBackends(steps, io.out);
    io.out(backendTable(rows));
    io.out(kernelTable(await measureKernels(steps, io.out)));
    return 0;
  },
};
