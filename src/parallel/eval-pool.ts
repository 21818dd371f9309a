import * as tf from '@tensorflow/tfjs';
import { Worker } from 'node:worker_threads';
import { ExtraInputError } from '../errors.js';
import { selectBackend } from '../backend/index.js';
import { compiledFile, loadShardProgram, type ShardProgramSpec, type ShardSplit } from './program.js';

/** The compiled evaluation worker (dist/parallel/eval-worker.js). */
export const evalWorkerFile = compiledFile(new URL('./eval-worker.js', import.meta.url));

/**
 * Evaluation of many points of a curve on worker threads (a profile is dozens of independent passes
 * over the validation and test sets). Each worker gets the splits once, through SharedArrayBuffers,
 * and evaluates the points dealt to it; every point is computed exactly as in the main thread, so the
 * profile does not depend on the number of workers.
 */
export interface EvalWorkerSetup {
  mode: 'evaluate';
  backend: string;
  program: ShardProgramSpec;
  inputShape: number[];
  splits: { x: SharedArrayBuffer; y: SharedArrayBuffer[]; n: number; labelShapes?: number[][] }[];
  /** the training rows BatchNormalization statistics are recomputed on (models with statistics) */
  statistics?: { x: SharedArrayBuffer; y: SharedArrayBuffer[]; n: number };
}

/** `point`: the program's coordinates of the model to evaluate (t on a curve; (a, b) on a plane) */
export type EvalToWorker = { type: 'evaluate'; id: number; point: number[]; trainable: Float32Array[] };
export type EvalFromWorker = { type: 'ready' } | { type: 'point'; id: number; metrics: unknown[][] } | { type: 'error'; message: string; inputError: boolean };

function shared(a: Float32Array | Int32Array): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(Math.max(4, a.byteLength));
  (a instanceof Float32Array ? new Float32Array(sab) : new Int32Array(sab)).set(a);
  return sab;
}

/**
 * Metrics at every point of `ts` (t of a curve, or coordinates for other programs) on `splits`,
 * `threads` workers at a time; `onPoint` reports progress. Results come back in the order of `ts`.
 * M is the type of the metrics the program's evaluateAt returns (its owner knows it; the pool does not).
 */
export async function evaluateInWorkers<M>(
  threads: number,
  backend: string,
  program: ShardProgramSpec,
  trainable: Float32Array[],
  ts: (number | number[])[],
  data: { inputShape: number[]; splits: ShardSplit[]; statistics?: ShardSplit },
  onPoint: (done: number, id: number, metrics: M[][]) => void = () => {},
): Promise<M[][][]> {
  if (threads <= 1) return evaluateHere<M>(backend, program, trainable, ts, data, onPoint);
  const workerFile = evalWorkerFile;
  if (!workerFile) throw new Error('evaluation worker not built (npm run build)');
  const setup: EvalWorkerSetup = {
    mode: 'evaluate',
    backend,
    program,
    inputShape: data.inputShape,
    splits: data.splits.map((s) => ({ x: shared(s.x), y: s.y.map(shared), n: s.n, ...(s.labelShapes ? { labelShapes: s.labelShapes } : {}) })),
    ...(data.statistics ? { statistics: { x: shared(data.statistics.x), y: [], n: data.statistics.n } } : {}),
  };
  const results: M[][][] = new Array(ts.length);
  let next = 0;
  let done = 0;
  const workers: Worker[] = [];
  const lane = (w: Worker) =>
    new Promise<void>((resolve, reject) => {
      const send = () => {
        if (next >= ts.length) return resolve();
        const id = next++;
        const p = ts[id];
        w.postMessage({ type: 'evaluate', id, point: typeof p === 'number' ? [p] : p, trainable } satisfies EvalToWorker);
      };
      w.on('message', (m: EvalFromWorker) => {
        if (m.type === 'ready') send();
        else if (m.type === 'point') {
          // what the program's evaluateAt returned, structured-cloned: the caller's M
          const metrics = m.metrics as M[][];
          results[m.id] = metrics;
          onPoint(++done, m.id, metrics);
          send();
        } else reject(m.inputError ? new ExtraInputError(m.message) : new Error(`evaluation worker: ${m.message}`));
      });
      w.on('error', reject);
      w.on('exit', (code) => (next >= ts.length && done === ts.length ? resolve() : reject(new Error(`evaluation worker exited with code ${code}`))));
    });
  try {
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < Math.max(1, Math.min(threads, ts.length)); i++) {
      const w = new Worker(workerFile, { workerData: setup });
      workers.push(w);
      lanes.push(lane(w));
    }
    await Promise.all(lanes);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

/**
 * evaluateInWorkers on this thread: the same program on the same backend, point after point (a worker
 * costs a start-up of its own, about a second, more than a plane's barrier or a short profile takes).
 * Yields to the event loop between points, so that progress and signals are handled as with workers.
 */
async function evaluateHere<M>(
  backend: string,
  program: ShardProgramSpec,
  trainable: Float32Array[],
  ts: (number | number[])[],
  data: { inputShape: number[]; splits: ShardSplit[]; statistics?: ShardSplit },
  onPoint: (done: number, id: number, metrics: M[][]) => void,
): Promise<M[][][]> {
  await selectBackend({ prefer: backend, quiet: true });
  const p = await loadShardProgram(program);
  const evaluateAt = p.evaluateAt;
  if (!evaluateAt) throw new Error(`program '${program.kind}' cannot evaluate points`);
  const results: M[][][] = [];
  try {
    for (let id = 0; id < ts.length; id++) {
      const point = ts[id];
      const tensors = trainable.map((v, i) => tf.tensor(v, p.shapes[i]));
      try {
        // what the program's evaluateAt returns: the caller's M (as the worker path hands it over)
        results.push(evaluateAt(tensors, typeof point === 'number' ? [point] : point, data.splits, data.statistics) as M[][]);
      } finally {
        tf.dispose(tensors);
      }
      onPoint(id + 1, id, results[id]);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    p.dispose?.();
  }
  return results;
}
