import path from 'node:path';
import { ExtraInputError } from '../errors.js';

/**
 * The layout of a run directory, in one place: every module asks here for a path inside a run, so the
 * layout can change in one file. A run holds
 *
 *   run.json                      the data set recipe and the model (src/run/schema.ts)
 *   grouping.json                 task groups, for many tasks (src/grouping/store.ts)
 *   endpoints/ID/                 model.json + weights.bin, metrics.json, train.jsonl, checkpoint.safetensors
 *   curve/ (or curve-NAME/, any simple name)
 *                                 curve.json + controls.safetensors (one pair), train.jsonl, checkpoint.safetensors
 *   profile.json                  the default curve's profile (other curves: CURVE/profile.json)
 *   plane.json                    the default curve's loss plane (other curves: CURVE/plane.json)
 *   surface/                      surface.json + controls.safetensors, profile.json
 *   exports/                      the explorer's exports
 *   tuned/ID/                     a curve point tuned at a preference (query --tune): model, metrics.json
 *   model.onnx                    an ONNX-made run: the file its model came from
 *   torch.json                    PyTorch names given at import (name map, num_batches_tracked)
 *   grouping/warmup/              the grouping's warm-up model (an endpoint directory)
 *   bench-cell.json               `bench front`: this cell's run is complete
 *   single-task/TASK/             a model trained on one task alone (`train --single-task`), an endpoint directory
 *   baseline.json                 the single-task numbers Δm compares against (src/run/baseline.ts)
 */
export const DEFAULT_CURVE = 'curve';

/** A name that becomes one directory of the run (an endpoint id, a curve name). */
export function assertSimpleName(name: string, what: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..') throw new ExtraInputError(`${what} '${name}' must be a simple name`);
  return name;
}

export const runFile = (run: string): string => path.join(run, 'run.json');
export const groupingFile = (run: string): string => path.join(run, 'grouping.json');
export const endpointsDir = (run: string): string => path.join(run, 'endpoints');
export const endpointDir = (run: string, id: string): string => path.join(endpointsDir(run), assertSimpleName(id, 'endpoint name'));
/** Files every training directory (endpoint, curve, surface, hypernetwork) holds. */
export const trainingFileNames = { log: 'train.jsonl', checkpoint: 'checkpoint.safetensors', metrics: 'metrics.json' } as const;
export const trainLogFile = (dir: string): string => path.join(dir, trainingFileNames.log);
export const checkpointFile = (dir: string): string => path.join(dir, trainingFileNames.checkpoint);
export const metricsFile = (endpointDirectory: string): string => path.join(endpointDirectory, trainingFileNames.metrics);
/** What a training loop writes in a training directory (the loop itself knows no file names). */
export const trainingFiles = (dir: string): { checkpointFile: string; logFile: string } => ({ checkpointFile: checkpointFile(dir), logFile: trainLogFile(dir) });
/** The grouping's warm-up model (an endpoint directory of its own). */
export const groupingWarmupDir = (run: string): string => path.join(run, 'grouping', 'warmup');
/** the shared start the endpoints branch from (`extra train --warm-start`): an endpoint-like training directory, not an endpoint */
export const warmStartDir = (run: string): string => path.join(run, 'warm-start');
/** A curve's or surface's JSON + control-point pair (src/io/file-pair.ts), by directory. */
export const curvePairFiles = { json: 'curve.json', data: 'controls.safetensors' } as const;
export const surfacePairFiles = { json: 'surface.json', data: 'controls.safetensors' } as const;
/** The marker `bench front` leaves in a finished cell's run. */
export const benchCellFile = (run: string): string => path.join(run, 'bench-cell.json');

export const curveDir = (run: string, curve = DEFAULT_CURVE): string => path.join(run, assertSimpleName(curve, '--curve name'));
/** The default curve's profile and plane sit at the top of the run (where they always were); others in their directory. */
export const profileFile = (run: string, curve = DEFAULT_CURVE): string => (curve === DEFAULT_CURVE ? path.join(run, 'profile.json') : path.join(curveDir(run, curve), 'profile.json'));
export const planeFile = (run: string, curve = DEFAULT_CURVE): string => (curve === DEFAULT_CURVE ? path.join(run, 'plane.json') : path.join(curveDir(run, curve), 'plane.json'));
/** The curves a report lists: the default one, then every `curve-*` directory (in name order). */
export const isListedCurve = (name: string): boolean => name === DEFAULT_CURVE || name.startsWith('curve-');

export const surfaceDir = (run: string): string => path.join(run, 'surface');
export const surfaceProfileFile = (run: string): string => path.join(surfaceDir(run), 'profile.json');
export const exportsDir = (run: string): string => path.join(run, 'exports');
/** A curve point tuned at a preference (`query --tune`): an endpoint-like directory. */
export const tunedDir = (run: string, id: string): string => path.join(run, 'tuned', assertSimpleName(id, 'tuned model name'));
/** The ONNX file an ONNX-made run's model came from (`export --format onnx` rewrites its initializers). */
export const sourceOnnxFile = (run: string): string => path.join(run, 'model.onnx');
/** The PyTorch names a run was given: a safetensors import's name map, num_batches_tracked counters. */
export const torchNamesFile = (run: string): string => path.join(run, 'torch.json');

export const singleTaskRoot = (run: string): string => path.join(run, 'single-task');
export const singleTaskDir = (run: string, task: string): string => path.join(singleTaskRoot(run), assertSimpleName(task, 'task name'));
export const baselineFile = (run: string): string => path.join(run, 'baseline.json');
