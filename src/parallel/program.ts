import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import type { Labels } from '../data/types.js';

/**
 * What a pool worker runs: a program registered by its owner (the endpoint trainer, curves,
 * hypernetworks, the loss landscape), never known to the pool itself. A program is described by plain
 * data that crosses the thread boundary (its `spec`): its kind, the module that registers it (which
 * the worker imports), and the owner's own fields. One file per program, next to its owner.
 */
export interface ShardProgramSpec {
  kind: string;
  /** file URL of the module whose import registers `kind` (see programModule) */
  module: string;
  [field: string]: unknown;
}

/** A split of plain arrays (inputs row-major, one label array per task). */
export interface ShardSplit {
  x: Float32Array;
  y: Labels[];
  n: number;
  /** per task, the labels' shape per sample (absent: one label per sample) */
  labelShapes?: number[][];
}

/** One per-task gradient list: undefined where a task does not reach a parameter. */
export type PerTaskGradients = { losses: number[]; perTask: (tf.Tensor | undefined)[][] };

export interface ShardProgram<M = unknown> {
  /** the model's input shape (without the batch axis) */
  inputShape: number[];
  /** per task: class indices (int32) or real targets (float32) */
  labelDtypes: ('int32' | 'float32')[];
  /** shapes of the trainable tensors, in the order the pool sends their values */
  shapes: number[][];
  /**
   * the shard's loss vector (tf scalars; null for a loss none of the shard's rows enter), e.g. one per
   * task, or per t and task for a curve. The shard is rows [lo, hi) of an n-row batch.
   */
  losses(trainable: tf.Tensor[], x: tf.Tensor, y: tf.Tensor[], inputs: Record<string, unknown>, rows: { lo: number; hi: number; n: number }): (tf.Scalar | null)[];
  /** a data-independent term of the objective, added once per step (by shard 0) */
  extra?(trainable: tf.Tensor[], inputs: Record<string, unknown>): tf.Scalar | null;
  /** per-task gradients of the shard (gradient-aggregation methods) */
  perTaskGradients?(trainable: tf.Tensor[], x: tf.Tensor, y: tf.Tensor[], rows: number): PerTaskGradients;
  /** metrics of the model at a point on each split (curves: [t]; planes: [a, b]) */
  evaluateAt?(trainable: tf.Tensor[], point: number[], splits: ShardSplit[], train?: ShardSplit): M[][];
  /** the tensors the program holds, released (a program run on the calling thread; a worker's die with it) */
  dispose?(): void;
}

type Builder = (spec: ShardProgramSpec) => ShardProgram;
const registry = new Map<string, Builder>();

/**
 * Register a program kind (at its module's top level). `build` receives the spec its owner's own
 * constructor made, so it may read the owner's fields as that constructor typed them.
 */
export function registerShardProgram<S extends ShardProgramSpec>(kind: S['kind'], build: (spec: S) => ShardProgram): void {
  // the registry keys builders by kind; a spec of that kind is always the owner's own type
  registry.set(kind, build as unknown as Builder);
}

/**
 * A program module's URL as this thread loads it: the compiled file a spec names (what workers import),
 * or, when this code itself runs from its TypeScript sources (vitest), the source twin, whose import
 * registers into this registry (the compiled one would fill the compiled module's registry).
 */
function moduleHere(href: string): string {
  if (!import.meta.url.endsWith('.ts') || !href.startsWith('file:')) return href;
  const parts = fileURLToPath(href).split('/');
  const at = parts.lastIndexOf('dist');
  if (at < 0) return href;
  const source = [...parts.slice(0, at), 'src', ...parts.slice(at + 1)].join('/').replace(/\.js$/, '.ts');
  return existsSync(source) ? pathToFileURL(source).href : href;
}

/** The program of a spec, importing the module that registers it first when this thread has not. */
export async function loadShardProgram(spec: ShardProgramSpec): Promise<ShardProgram> {
  if (!registry.has(spec.kind)) await import(moduleHere(spec.module));
  const build = registry.get(spec.kind);
  if (!build) throw new Error(`${spec.module} registers no shard program '${spec.kind}'`);
  return build(spec);
}

/**
 * The compiled JavaScript of a module of ours: the file itself when it is JavaScript that exists (dist/),
 * else (the TypeScript sources running under vitest) its twin in dist/. Null when neither exists.
 */
export function compiledFile(url: URL): string | null {
  const file = fileURLToPath(url);
  if (existsSync(file)) return file;
  const parts = file.split('/');
  const at = parts.lastIndexOf('src');
  if (at < 0) return null;
  const twin = [...parts.slice(0, at), 'dist', ...parts.slice(at + 1)].join('/').replace(/\.ts$/, '.js');
  return existsSync(twin) ? twin : null;
}

/** The file URL a worker imports for a program module (see compiledFile). */
export function programModule(url: URL): string {
  const file = compiledFile(new URL(url.href.replace(/\.ts$/, '.js')));
  return file ? pathToFileURL(file).href : url.href;
}
