import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type WasmBackendLike } from './memory.js';
import { nativeAddon, nativeKernelsDecision, nativeKernelTable } from './native.js';
import type { SimdKernels } from './kernel-table.js';

/**
 * Our kernels on tfjs-wasm's own memory: the native ones (native/*.cc) where they are built and the
 * CPU has AVX2 + FMA, else the WebAssembly SIMD ones (assembly/kernels.ts, built to kernels.wasm).
 */

export type { SimdKernels } from './kernel-table.js';

/** The built kernels.wasm: in dist/backend/ beside this folder, or in dist/ when the TypeScript sources run. */
export function kernelsWasmBytes(): Buffer<ArrayBuffer> | null {
  for (const rel of ['../kernels.wasm', '../../../dist/backend/kernels.wasm']) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return readFileSync(file) as Buffer<ArrayBuffer>;
  }
  return null;
}

export let simdModule: WebAssembly.Module | null | undefined;

export let simdInstance: { memory: WebAssembly.Memory; kernels: SimdKernels } | null = null;

/** Which kernels run: 'native', 'wasm-simd' or 'plain' (tfjs-wasm's own and our JavaScript ones). */
export type KernelEngine = 'native' | 'wasm-simd' | 'plain';

/**
 * Our kernels on the wasm backend's memory (native, else SIMD), or null when they are switched off
 * (EXTRA_SIMD_KERNELS=0 turns both off), not built, or the backend does not expose its memory.
 */
export function simdKernels(backend: WasmBackendLike): SimdKernels | null {
  if (process.env.EXTRA_SIMD_KERNELS === '0') return null;
  const memory = (backend as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  const native = nativeKernelsDecision();
  if (native.use) {
    const l = nativeAddon();
    if (l.addon) return nativeKernelTable(l.addon, native.description.lanes, memory);
  }
  if (simdInstance?.memory === memory) return simdInstance.kernels;
  if (simdModule === undefined) {
    const bytes = kernelsWasmBytes();
    try {
      simdModule = bytes ? new WebAssembly.Module(bytes) : null;
    } catch {
      simdModule = null;
    }
  }
  if (!simdModule) return null;
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(simdModule, { env: { memory } });
  } catch {
    // a host without wasm SIMD: tfjs-wasm's plain build, and our kernels stay off
    simdModule = null;
    return null;
  }
  simdInstance = { memory, kernels: { ...(instance.exports as unknown as Omit<SimdKernels, 'lanes'>), lanes: 4 } };
  return simdInstance.kernels;
}

/** Whether our kernels (native or SIMD) are in use for the current wasm backend. */
export function simdKernelsActive(): boolean {
  const backend = tf.backend() as WasmBackendLike;
  return tf.getBackend() === 'wasm' && simdKernels(backend) !== null;
}

/** The kernels the current wasm backend runs, and why not the native ones when they do not. */
export function kernelEngine(): { engine: KernelEngine; detail: string } {
  if (tf.getBackend() !== 'wasm') return { engine: 'plain', detail: `not on wasm (${tf.getBackend()})` };
  const k = simdKernels(tf.backend() as WasmBackendLike);
  if (!k) return { engine: 'plain', detail: process.env.EXTRA_SIMD_KERNELS === '0' ? 'EXTRA_SIMD_KERNELS=0' : 'kernels.wasm not built' };
  const native = nativeKernelsDecision();
  // the thread count is set per training (--threads), so the line names the instruction set only
  if (native.use) return { engine: 'native', detail: native.description.isa };
  return { engine: 'wasm-simd', detail: `native kernels not used: ${native.reason}` };
}
