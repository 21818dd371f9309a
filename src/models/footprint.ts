import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { ExtraInputError } from '../errors.js';

/**
 * What a model costs in memory, from its shapes alone (nothing allocated): the parameter and statistic
 * count, its largest single tensor, and the activation values one sample produces through the layers.
 * Checked before any allocation, so a layer of 10^9 units is a one-line refusal, not a typed-array
 * crash or an out-of-memory kill halfway through a training.
 */
export interface ModelFootprint {
  params: number;
  largestTensor: number;
  /** the name of that tensor, for the message */
  largestName: string;
  activationsPerSample: number;
}

export function footprintOf(tensors: readonly { name: string; shape: readonly number[] }[], activationShapes: readonly (readonly number[])[]): ModelFootprint {
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  let params = 0;
  let largestTensor = 0;
  let largestName = '';
  for (const t of tensors) {
    const n = size(t.shape);
    params += n;
    if (n > largestTensor) [largestTensor, largestName] = [n, t.name];
  }
  return { params, largestTensor, largestName, activationsPerSample: activationShapes.reduce((a, s) => a + size(s), 0) };
}

/** tfjs-wasm's heap is 32-bit: every tensor of a process's wasm backend lives in at most 4 GiB. */
const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** Elements of one tensor: tfjs indexes with 32-bit integers (and V8 caps typed arrays). */
const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/** Bytes a training may use: half of this machine's memory, and no more than the wasm heap on wasm. */
export function memoryBudgetBytes(): number {
  const half = os.totalmem() / 2;
  // engine().backendName is only read here, never initialised (tf.getBackend() would pick one)
  return tf.engine().backendName === 'wasm' ? Math.min(half, WASM_HEAP_BYTES * 0.75) : half;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/**
 * Float32 bytes a training of the model needs: the parameters with their gradients, optimizer moments
 * and checkpoint copies (6 per parameter), `copies` more full parameter sets (a curve's control points),
 * and the activations of `batchSize` samples kept for the backward pass (3 per value: forward, gradient,
 * a temporary).
 */
export function trainingBytes(f: ModelFootprint, batchSize: number, copies = 0): number {
  return 4 * (f.params * (6 + copies) + f.activationsPerSample * batchSize * 3);
}

/** Why a model cannot be trained in this process's memory (null when it can). */
export function footprintProblem(f: ModelFootprint, batchSize = 1, copies = 0): string | null {
  if (f.largestTensor > MAX_TENSOR_ELEMENTS) return `tensor ${f.largestName} would hold ${f.largestTensor.toExponential(2)} values, more than one tensor can (${MAX_TENSOR_ELEMENTS}); make the layer smaller`;
  const budget = memoryBudgetBytes();
  const need = trainingBytes(f, 1, copies);
  if (need > budget) {
    return `the model has ${f.params.toLocaleString('en-US')} parameters and ${f.activationsPerSample.toLocaleString('en-US')} activations per sample; training it needs about ${gib(need)}, more than the ${gib(budget)} available; make its layers smaller`;
  }
  const atBatch = trainingBytes(f, batchSize, copies);
  if (atBatch > budget) {
    const fits = Math.max(1, Math.floor((budget / 4 - f.params * (6 + copies)) / (3 * f.activationsPerSample)));
    return `a batch of ${batchSize} needs about ${gib(atBatch)} for this model (${f.activationsPerSample.toLocaleString('en-US')} activations per sample), more than the ${gib(budget)} available; use --batch-size ${fits} or less`;
  }
  return null;
}

/** footprintProblem as a one-line input error. */
export function assertFootprintFits(f: ModelFootprint, batchSize = 1, copies = 0): void {
  const bad = footprintProblem(f, batchSize, copies);
  if (bad) throw new ExtraInputError(bad);
}
