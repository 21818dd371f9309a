import { createHash } from 'node:crypto';
import os from 'node:os';
import { ExtraInputError } from '../errors.js';
import { makeRng, deriveSeed } from '../util/rng.js';
import { readArrayCache, writeArrayCache, type CachedArray } from './array-cache.js';
import { cacheFile, defaultCacheDir } from './cache.js';
import { splitPool } from './compose.js';
import { drawScene, renderScene, BACKGROUND_CLASS, type SceneArrays } from './scene.js';
import { loadMnistPackageDigits, mnistPackageHash, type ImageSource } from './sources.js';
import type { DataTaskKind, DatasetEntry, DatasetOptions, MultiTaskDataset, Split } from './types.js';

/**
 * dense-digits: the built-in per-pixel data set (issue #40), made offline from the mnist package's
 * digits, so the dense demo and tests need no download. Every sample is a scene (scene.ts) of 2–3 digits,
 * each on its own tilted plane at its own depth, nearer ones occluding farther ones, in front of a
 * tilted background plane. Three tasks:
 *   seg    11 classes: the digit's class 0..9 on its stroke pixels, 10 (BACKGROUND_CLASS) elsewhere;
 *          every pixel has a class (no ignored pixels)
 *   depth  the z of the visible surface (about 1.5 to 19 scene units; > 0 everywhere)
 *   normal the visible plane's unit normal in camera coordinates (x right, y down, z forward), facing
 *          the camera (n_z < 0)
 * The input is the grey shaded image (S×S×1, S = --resolution, default 32). Train, validation and test
 * draw their digits from disjoint pools (70/15/15 of the ~10k digits), as multi-mnist does.
 */
const DENSE_VERSION = 2; // 2: strokes from texture 0.3 (was 0.5), squares 24–30 px (was 20–28)
const NAME = 'dense-digits';
const defaults = { trainSize: 2000, valSize: 500, testSize: 500, side: 32 };
const splitNames = ['train', 'val', 'test'] as const;
type SplitName = (typeof splitNames)[number];

export interface DenseDigitsRecipe {
  seed: number;
  trainSize: number;
  valSize: number;
  testSize: number;
  side: number;
}

export function denseDigitsRecipe(opts: DatasetOptions): DenseDigitsRecipe {
  return {
    seed: opts.seed ?? 0,
    trainSize: opts.trainSize ?? defaults.trainSize,
    valSize: opts.valSize ?? defaults.valSize,
    testSize: opts.testSize ?? defaults.testSize,
    side: opts.resolution ?? defaults.side,
  };
}

/** Float32/Int32 values per sample: image, class, depth and 3 normal components per pixel. */
const VALUES_PER_PIXEL = 6;

/** Refuse sizes that could not be held before any allocation: the arrays, counted twice to leave room for what training builds from them. */
function assertFits(r: DenseDigitsRecipe): void {
  for (const [k, n] of [['train', r.trainSize], ['val', r.valSize], ['test', r.testSize]] as const) {
    if (!Number.isSafeInteger(n) || n < 1) throw new ExtraInputError(`data set ${NAME}: ${k} size must be a positive integer, got ${n}`);
  }
  if (!Number.isInteger(r.side) || r.side < 16 || r.side > 128) throw new ExtraInputError(`data set ${NAME}: --resolution must be an integer from 16 to 128, got ${r.side}`);
  const scenes = r.trainSize + r.valSize + r.testSize;
  const bytes = scenes * r.side * r.side * VALUES_PER_PIXEL * 4 * 2;
  if (bytes > os.totalmem() / 2) {
    throw new ExtraInputError(`data set ${NAME}: ${scenes} scenes at ${r.side}×${r.side} need ${(bytes / 2 ** 30).toFixed(1)} GiB, more than half of this machine's ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; use smaller --train-size/--val-size/--test-size or --resolution`);
  }
}

export function denseDigitsFingerprint(r: DenseDigitsRecipe, sourceHash: string): string {
  return createHash('sha256').update(JSON.stringify({ v: DENSE_VERSION, name: NAME, ...r, source: sourceHash })).digest('hex');
}

export interface BuiltDense {
  splits: Record<SplitName, SceneArrays & { n: number }>;
  /** source digits used per split (for tests of disjointness) */
  sourceIndices: Record<SplitName, Int32Array>;
}

/** Build every split: disjoint digit pools, then one random scene per sample, rendered. */
export function buildDenseDigits(r: DenseDigitsRecipe, src: ImageSource): BuiltDense {
  const pools = splitPool(src.n, [0.7, 0.15, 0.15], deriveSeed(r.seed, 'dense/pools'));
  const sizes = { train: r.trainSize, val: r.valSize, test: r.testSize };
  const S2 = r.side * r.side;
  const splits = {} as BuiltDense['splits'];
  const sourceIndices = {} as BuiltDense['sourceIndices'];
  splitNames.forEach((s, k) => {
    const n = sizes[s];
    const rng = makeRng(deriveSeed(r.seed, `dense/scenes/${s}`));
    const out: SceneArrays = { x: new Float32Array(n * S2), seg: new Int32Array(n * S2), depth: new Float32Array(n * S2), normal: new Float32Array(n * S2 * 3) };
    const used: number[] = [];
    for (let i = 0; i < n; i++) {
      const scene = drawScene(rng, pools[k], r.side);
      used.push(...scene.digits.map((d) => d.source));
      renderScene(scene, src, r.side, out, i);
    }
    splits[s] = { ...out, n };
    sourceIndices[s] = Int32Array.from(used);
  });
  return { splits, sourceIndices };
}

const taskNames = ['seg', 'depth', 'normal'];
const taskKinds: DataTaskKind[] = ['seg', 'depth', 'normal'];

/** A cache file of this fingerprint holds every array with its type and length; anything else is rebuilt. */
function cachedShapesFit(a: Record<string, CachedArray>, r: DenseDigitsRecipe): boolean {
  const sizes = { train: r.trainSize, val: r.valSize, test: r.testSize };
  const S2 = r.side * r.side;
  return splitNames.every((s) => {
    const n = sizes[s] * S2;
    const ok = (k: string, type: typeof Float32Array | typeof Int32Array, len: number) => a[`${s}/${k}`] instanceof type && a[`${s}/${k}`].length === len;
    return ok('x', Float32Array, n) && ok('seg', Int32Array, n) && ok('depth', Float32Array, n) && ok('normal', Float32Array, 3 * n);
  });
}

export async function loadDenseDigits(opts: DatasetOptions = {}): Promise<MultiTaskDataset> {
  // an option the data set does not use is refused rather than silently ignored
  if (opts.dataDir !== undefined) throw new ExtraInputError(`--data-dir is not used by ${NAME}: it is made from the embedded digits`);
  if (opts.valFraction !== undefined) throw new ExtraInputError(`--val-fraction is for your own data; ${NAME} has its own validation split`);
  if (opts.attributes !== undefined) throw new ExtraInputError(`--attributes is for celeba; ${NAME} has the tasks seg, depth, normal`);
  if (opts.ignoreLabel !== undefined) throw new ExtraInputError(`--ignore-label is for data read from files; ${NAME} labels every pixel`);
  const r = denseDigitsRecipe(opts);
  assertFits(r);
  const log = (s: string) => {
    if (!opts.quiet) process.stderr.write(`[data] ${s}\n`);
  };
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const fingerprint = denseDigitsFingerprint(r, mnistPackageHash(cacheDir));
  const file = cacheFile(cacheDir, NAME, fingerprint);
  let arrays = readArrayCache(file, fingerprint);
  if (arrays && !cachedShapesFit(arrays, r)) arrays = null;
  if (!arrays) {
    const t0 = performance.now();
    log(`building ${NAME} (${r.trainSize}/${r.valSize}/${r.testSize} scenes at ${r.side}×${r.side}, seed ${r.seed})`);
    const built = buildDenseDigits(r, loadMnistPackageDigits());
    const flat: Record<string, CachedArray> = {};
    for (const s of splitNames) for (const k of ['x', 'seg', 'depth', 'normal'] as const) flat[`${s}/${k}`] = built.splits[s][k];
    arrays = flat;
    try {
      writeArrayCache(file, fingerprint, flat);
    } catch (e) {
      log(`could not write the cache ${file}: ${(e as Error).message}`);
    }
    log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const got = arrays;
  const split = (s: SplitName, n: number): Split => ({ x: got[`${s}/x`] as Float32Array, y: [got[`${s}/seg`] as Int32Array, got[`${s}/depth`] as Float32Array, got[`${s}/normal`] as Float32Array], n });
  const S = r.side;
  return {
    name: NAME,
    fingerprint,
    inputShape: [S, S, 1],
    taskNames: [...taskNames],
    numClasses: [BACKGROUND_CLASS + 1, 1, 3],
    taskKinds: [...taskKinds],
    labelShapes: [[S, S], [S, S], [S, S, 3]],
    train: split('train', r.trainSize),
    val: split('val', r.valSize),
    test: split('test', r.testSize),
  };
}

export const denseDigitsDataset: DatasetEntry = {
  name: NAME,
  description: 'per-pixel scenes of 2–3 embedded MNIST digits on tilted planes at their own depths (tasks seg: 10 digits + background, depth, normal; 32×32 grey, --resolution N)',
  load: (opts) => loadDenseDigits(opts),
};
