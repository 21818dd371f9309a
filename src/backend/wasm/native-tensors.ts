import * as tf from '@tensorflow/tfjs';
import { ptr, type WasmBackendLike } from './memory.js';

/**
 * What a fused op needs to call a native kernel on tensors of the wasm backend: the memory as the
 * kernel takes it (read at each call: an allocation may grow it), fresh outputs, and tensors' offsets.
 */
export interface NativeTensors {
  memory(): ArrayBuffer;
  /** a new float32 tensor of `shape`, its memory unset until a kernel writes it */
  output(shape: number[]): tf.Tensor;
  offset(t: tf.Tensor): number;
}

export function nativeTensors(backend: WasmBackendLike): NativeTensors {
  return {
    memory: () => (backend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer as ArrayBuffer,
    output: (shape) => tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, 'float32')),
    offset: (t) => ptr(backend, t),
  };
}

/** A float32's 32 bits as a non-negative integer: how the native kernels take a float argument. */
export const floatBits = (v: number): number => new Uint32Array(Float32Array.of(v).buffer)[0];
