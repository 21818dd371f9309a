// A worker thread of `extra bench train`: one measureSteps job (workerData) → one result message.
import { parentPort, workerData } from 'node:worker_threads';
import { measureSteps, stepJobSchema } from './train-steps.js';

if (!parentPort) throw new Error('bench train: train-worker.js runs in a worker thread');
parentPort.postMessage(await measureSteps(stepJobSchema.parse(workerData)));
