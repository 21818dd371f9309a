import { parentPort, workerData } from 'node:worker_threads';
import { measureSteps } from './bench-train-core.js';
parentPort.postMessage(await measureSteps(workerData));
