/**
 * Evaluation worker (see eval-pool.ts): builds the registered program named by its setup, receives the
 * splits once through SharedArrayBuffers, then evaluates the points it is sent.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backend/index.js';
import { ExtraInputError } from '../errors.js';
import { loadShardProgram, type ShardSplit } from './program.js';
import type { EvalFromWorker, EvalToWorker, EvalWorkerSetup } from './eval-pool.js';

const setup = workerData as EvalWorkerSetup;
const port = parentPort!;
const post = (m: EvalFromWorker) => port.postMessage(m);

async function main(): Promise<void> {
  await selectBackend({ prefer: setup.backend, quiet: true });
  const program = await loadShardProgram(setup.program);
  const labels = (b: SharedArrayBuffer, k: number) => (program.labelDtypes[k] === 'float32' ? new Float32Array(b) : new Int32Array(b));
  const splits: ShardSplit[] = setup.splits.map((s) => ({ x: new Float32Array(s.x), y: s.y.map(labels), n: s.n, ...(s.labelShapes ? { labelShapes: s.labelShapes } : {}) }));
  const train: ShardSplit | undefined = setup.statistics ? { x: new Float32Array(setup.statistics.x), y: [], n: setup.statistics.n } : undefined;
  const evaluateAt = program.evaluateAt;
  if (!evaluateAt) throw new Error(`program '${setup.program.kind}' cannot evaluate points`);
  port.on('message', (m: EvalToWorker) => {
    try {
      const trainable = m.trainable.map((v, i) => tf.tensor(v, program.shapes[i]));
      const metrics = evaluateAt(trainable, m.point, splits, train);
      tf.dispose(trainable);
      post({ type: 'point', id: m.id, metrics });
    } catch (e) {
      post({ type: 'error', message: (e as Error).message, inputError: e instanceof ExtraInputError });
    }
  });
  post({ type: 'ready' });
}

main().catch((e: Error) => post({ type: 'error', message: e.message, inputError: e instanceof ExtraInputError }));
