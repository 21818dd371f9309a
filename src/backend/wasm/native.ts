import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { SimdKernels } from './kernel-table.js';
import { ExtraInputError } from '../../errors.js';

/**
 * The native kernels (native/*.cc, built by `npm install` with node-gyp into build/Release): the same
 * kernel table as assembly/kernels.ts, on the same byte offsets of tfjs-wasm's memory, in AVX-512 or
 * AVX2 + FMA code chosen at run time (a portable path otherwise), with a thread pool inside.
 */

type Kernel = (memory: ArrayBuffer, ...args: number[]) => void;

interface NativeAddon {
  conv2dValid: Kernel;
  conv2dFilterGrad: Kernel;
  padNHWC: Kernel;
  flipFilter: Kernel;
  padColumns: Kernel;
  cropColumns: Kernel;
  maxPoolGrad: Kernel;
  maxPoolGrad2x2: Kernel;
  columnSums: Kernel;
  addBias: Kernel;
  matMul: Kernel;
  conv2dInputGrad: Kernel;
  channelBinary: Kernel;
  elementwise: Kernel;
  maxPool: Kernel;
  columnMoments: Kernel;
  channelAffine: Kernel;
  unaryMath: Kernel;
  rowSums: Kernel;
  rowMoments: Kernel;
  rowAffine: Kernel;
  layerNormGrad: Kernel;
  normalizedColumnSums: Kernel;
  copyGrid: Kernel;
  attention: Kernel;
  attentionGrad: Kernel;
  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, np: Float32Array, nm: Float32Array, nv: Float32Array, hyper: number[]): void;
  setThreads(n: number): void;
  describe(): unknown;
}

const kernelNames = ['conv2dValid', 'conv2dFilterGrad', 'padNHWC', 'flipFilter', 'padColumns', 'cropColumns', 'maxPoolGrad', 'maxPoolGrad2x2', 'columnSums', 'addBias', 'matMul', 'conv2dInputGrad', 'channelBinary', 'elementwise', 'maxPool', 'adam', 'columnMoments', 'channelAffine', 'unaryMath', 'rowSums', 'rowMoments', 'rowAffine', 'layerNormGrad', 'normalizedColumnSums', 'copyGrid', 'attention', 'attentionGrad'] as const;

const descriptionSchema = z.object({ isa: z.enum(['avx512', 'avx2-fma', 'avx2-fma+avx512', 'portable']), lanes: z.number().int().positive(), threads: z.number().int().positive() });
export type NativeDescription = z.infer<typeof descriptionSchema>;

/** What `npm install` recorded when the build failed (scripts/build-native.js). */
const buildRecordSchema = z.object({ ok: z.boolean(), reason: z.string().optional() });

export type NativeLoad = { addon: NativeAddon; description: NativeDescription } | { addon: null; reason: string };

const require = createRequire(import.meta.url);
/** build/ at the repository root, from src/backend/wasm or dist/backend/wasm */
const buildDir = fileURLToPath(new URL('../../../build/', import.meta.url));

let loaded: NativeLoad | undefined;

function load(): NativeLoad {
  const file = `${buildDir}Release/extra_kernels.node`;
  if (!existsSync(file)) {
    let reason = 'not built (npm run build:native builds it)';
    try {
      const record = buildRecordSchema.safeParse(JSON.parse(readFileSync(`${buildDir}native-build.json`, 'utf8')));
      if (record.success && !record.data.ok && record.data.reason) reason = `not built at install: ${record.data.reason}`;
    } catch {
      // no record: never built
    }
    return { addon: null, reason };
  }
  try {
    const addon = require(file) as NativeAddon;
    for (const name of kernelNames) if (typeof addon[name] !== 'function') return { addon: null, reason: `build/Release/extra_kernels.node lacks ${name} (stale build: npm run build:native)` };
    const description = descriptionSchema.parse(addon.describe());
    return { addon, description };
  } catch (e) {
    return { addon: null, reason: `build/Release/extra_kernels.node does not load: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** The addon, loaded once per thread, or why it is not there. */
export function nativeAddon(): NativeLoad {
  loaded ??= load();
  return loaded;
}

const kernelSettings = ['0', '1'];
const isaSettings: Record<string, NativeDescription['isa']> = { avx512: 'avx512', avx2: 'avx2-fma', 'avx2-fma': 'avx2-fma', portable: 'portable' };

/**
 * EXTRA_NATIVE_KERNELS and EXTRA_NATIVE_ISA are checked like flags: an unknown value is a one-line
 * refusal (exit 2).
 */
export function assertNativeSettings(): void {
  const kernels = process.env.EXTRA_NATIVE_KERNELS;
  if (kernels !== undefined && kernels !== '' && !kernelSettings.includes(kernels)) {
    throw new ExtraInputError(`EXTRA_NATIVE_KERNELS=${kernels} is not a setting (0: the wasm SIMD kernels, 1: insist on the native ones; unset: native where they run)`);
  }
  const isa = process.env.EXTRA_NATIVE_ISA;
  if (isa === undefined || isa === '') return;
  const want = isaSettings[isa];
  if (!want) throw new ExtraInputError(`EXTRA_NATIVE_ISA=${isa} is not an instruction set of the native kernels (known: avx512, avx2, portable)`);
  // a known path this CPU lacks falls back to the best one it has; the backend line names the one used
}

/**
 * Whether the native kernels run, and why not: EXTRA_NATIVE_KERNELS=0 turns them off, =1 insists on
 * them (also on the portable path); by default they run where the build succeeded and the CPU has
 * AVX2 + FMA (the portable path is no faster than the wasm SIMD kernels).
 */
export function nativeKernelsDecision(): { use: true; description: NativeDescription } | { use: false; reason: string } {
  assertNativeSettings();
  const setting = process.env.EXTRA_NATIVE_KERNELS;
  if (setting === '0') return { use: false, reason: 'switched off (EXTRA_NATIVE_KERNELS=0)' };
  const l = nativeAddon();
  if (!l.addon) return { use: false, reason: l.reason };
  if (l.description.isa === 'portable' && setting !== '1') return { use: false, reason: 'this CPU lacks AVX2 + FMA (EXTRA_NATIVE_KERNELS=1 forces the portable native path)' };
  return { use: true, description: l.description };
}

let threadsSet = 1;

/** Threads each native kernel call may use (the calling one included). */
export function setNativeThreads(n: number): void {
  const l = nativeAddon();
  if (!l.addon) return;
  l.addon.setThreads(n);
  threadsSet = n;
}

/** The threads this thread last set (the pool is the process's; 1 until set). */
export function nativeThreads(): number {
  return threadsSet;
}

let table: { memory: WebAssembly.Memory; kernels: SimdKernels } | null = null;

/** The kernel table on `memory` (the buffer is read at every call: a growing memory replaces it). */
export function nativeKernelTable(addon: NativeAddon, lanes: number, memory: WebAssembly.Memory): SimdKernels {
  if (table?.memory === memory) return table.kernels;
  const bind = (k: Kernel) => (...args: number[]) => k(memory.buffer, ...args);
  const kernels: SimdKernels = {
    lanes,
    conv2dValid: bind(addon.conv2dValid),
    conv2dFilterGrad: bind(addon.conv2dFilterGrad),
    padNHWC: bind(addon.padNHWC),
    flipFilter: bind(addon.flipFilter),
    padColumns: bind(addon.padColumns),
    cropColumns: bind(addon.cropColumns),
    maxPoolGrad: bind(addon.maxPoolGrad),
    maxPoolGrad2x2: bind(addon.maxPoolGrad2x2),
    columnSums: bind(addon.columnSums),
    addBias: bind(addon.addBias),
    matMul: bind(addon.matMul),
    conv2dInputGrad: bind(addon.conv2dInputGrad),
    channelBinary: bind(addon.channelBinary),
    elementwise: bind(addon.elementwise),
    maxPool: bind(addon.maxPool),
    unaryMath: bind(addon.unaryMath),
    rowSums: bind(addon.rowSums),
  };
  table = { memory, kernels };
  return kernels;
}

/** One fused Adam step over host arrays (new p, m, v into np, nm, nv). */
export type NativeAdam = (p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, np: Float32Array, nm: Float32Array, nv: Float32Array, hyper: { beta1: number; beta2: number; c1: number; c2: number; lr: number; epsilon: number; weightDecay: number }) => void;

/** The native Adam step where the native kernels run (the same bits as the TypeScript loop), else null. */
export function nativeAdam(): NativeAdam | null {
  const l = nativeAddon();
  if (!l.addon || !nativeKernelsDecision().use) return null;
  const addon = l.addon;
  return (p, g, m, v, np, nm, nv, h) => addon.adam(p, g, m, v, np, nm, nv, [h.beta1, h.beta2, h.c1, h.c2, h.lr, h.epsilon, h.weightDecay]);
}
