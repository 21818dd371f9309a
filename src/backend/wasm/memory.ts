import * as tf from '@tensorflow/tfjs';

/** Wasm tensors in tfjs-wasm's heap: the backend's interface we use, pointers, scratch tensors. */

export type TensorInfo = tf.TensorInfo;

export interface WasmBackendLike extends tf.KernelBackend {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
}

export type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

export function callKernel(name: string, inputs: Record<string, TensorInfo>, backend: WasmBackendLike, attrs: Record<string, unknown>): TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} missing`);
  return k.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
}

/** A new wasm tensor holding `values` (wasm's makeOutput takes a heap offset, not values). */
export function output(backend: WasmBackendLike, shape: number[], dtype: tf.DataType, values: Float32Array | Int32Array): TensorInfo {
  return { dataId: backend.write(values, shape, dtype), shape, dtype };
}

export function ptr(backend: WasmBackendLike, t: TensorInfo): number {
  return (backend as unknown as { dataIdMap: { get(id: tf.DataId): { memoryOffset: number } } }).dataIdMap.get(t.dataId).memoryOffset;
}

/** n rounded up to a multiple of `lanes` (the channel padding of a kernel table). */
export const roundUpTo = (n: number, lanes: number): number => Math.ceil(n / lanes) * lanes;

/** Scratch tensors of one kernel call, disposed together. */
export class Scratch {
  private readonly infos: TensorInfo[] = [];
  constructor(private readonly backend: WasmBackendLike) {}
  alloc(shape: number[]): { info: TensorInfo; ptr: number } {
    const info = this.backend.makeOutput(shape, 'float32');
    this.infos.push(info);
    return { info, ptr: ptr(this.backend, info) };
  }
  dispose(): void {
    for (const t of this.infos) this.backend.disposeData(t.dataId);
  }
}

/** A Float32Array view of a wasm tensor's memory (valid until the next wasm allocation). */
export function heapView(backend: WasmBackendLike, t: TensorInfo, n: number): Float32Array {
  const b = backend as unknown as { dataIdMap: { get(id: tf.DataId): { memoryOffset: number } }; wasm: { HEAPU8: Uint8Array } };
  const off = b.dataIdMap.get(t.dataId).memoryOffset;
  return new Float32Array(b.wasm.HEAPU8.buffer, off, n);
}
