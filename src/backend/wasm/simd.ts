import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type WasmBackendLike } from './memory.js';

/** Our SIMD kernels (assembly/kernels.ts, built to kernels.wasm), instantiated on tfjs-wasm's own memory. */

/** The SIMD kernels of assembly/kernels.ts (pointers are byte offsets into tfjs-wasm's memory). */
export interface SimdKernels {
  conv2dValid(x: number, w: number, bias: number, y: number, b: number, h: number, wd: number, ci: number, oh: number, ow: number, co: number, coP: number, kh: number, kw: number, sh: number, sw: number, rowLo: number, rowHi: number, colLo: number, colHi: number): void;
  conv2dFilterGrad(x: number, dy: number, dw: number, b: number, h: number, wd: number, ci: number, oh: number, ow: number, coP: number, dyStride: number, kh: number, kw: number, sh: number, sw: number): void;
  padNHWC(src: number, dst: number, b: number, h: number, w: number, c: number, hp: number, wp: number, cp: number, top: number, left: number): void;
  flipFilter(w: number, dst: number, kh: number, kw: number, ci: number, co: number, ciP: number): void;
  padColumns(src: number, dst: number, rows: number, c: number, cp: number): void;
  cropColumns(src: number, dst: number, rows: number, c: number, cp: number): void;
  maxPoolGrad(x: number, dy: number, dx: number, b: number, h: number, w: number, c: number, oh: number, ow: number, fh: number, fw: number, sh: number, sw: number, top: number, left: number): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, b: number, h: number, w: number, c: number, oh: number, ow: number): void;
  columnSums(x: number, out: number, rows: number, cols: number): void;
  addBias(x: number, bias: number, out: number, rows: number, cols: number): void;
}

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

/**
 * Our SIMD kernels instantiated on the wasm backend's memory, or null when they are switched off
 * (EXTRA_SIMD_KERNELS=0), not built, or the backend does not expose its memory.
 */
export function simdKernels(backend: WasmBackendLike): SimdKernels | null {
  if (process.env.EXTRA_SIMD_KERNELS === '0') return null;
  const memory = (backend as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
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
  simdInstance = { memory, kernels: instance.exports as unknown as SimdKernels };
  return simdInstance.kernels;
}

/** Whether the SIMD kernels are in use for the current wasm backend (tests and benchmarks report it). */
export function simdKernelsActive(): boolean {
  const backend = tf.backend() as WasmBackendLike;
  return tf.getBackend() === 'wasm' && simdKernels(backend) !== null;
}
