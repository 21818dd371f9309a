import os from 'node:os';
import { ExtraInputError } from '../errors.js';
import { cacheFile, defaultCacheDir, readCache, writeCache, type CachedSplit } from './cache.js';
import { buildMulti, loadSources, multiDefinitions, recipeOf, multiFingerprint, MULTI_SHAPE, type MultiRecipe } from './multi.js';
import type { DatasetOptions, MultiTaskDataset, Split } from './types.js';
import { mnistPackageHash } from './sources.js';

function toSplit(s: CachedSplit): Split {
  const x = new Float32Array(s.pixels.length);
  for (let i = 0; i < x.length; i++) x[i] = s.pixels[i] / 255;
  return { x, y: s.labels.map((l) => Int32Array.from(l)), n: s.n };
}

/**
 * Refuse sizes whose images could not be held (bytes in the cache plus float32 copies) before any
 * allocation: a run.json or flag asking for 1e12 images must be a one-line error, not a heap abort.
 */
function assertFitsInMemory(r: MultiRecipe): void {
  const sizes: [string, number][] = [['train', r.trainSize], ['val', r.valSize], ['test', r.testSize]];
  for (const [k, n] of sizes) {
    if (!Number.isSafeInteger(n) || n < 1) throw new ExtraInputError(`data set ${r.name}: ${k} size must be a positive integer, got ${n}`);
  }
  const images = r.trainSize + r.valSize + r.testSize;
  const bytes = images * MULTI_SHAPE[0] * MULTI_SHAPE[1] * 5;
  const budget = os.totalmem() / 2;
  if (bytes > budget) {
    throw new ExtraInputError(
      `data set ${r.name}: ${images} images need ${(bytes / 2 ** 30).toFixed(1)} GiB, more than half of this machine's ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; use smaller --train-size/--val-size/--test-size`,
    );
  }
}

/**
 * Load (building and caching on first use) one of the two-item composition sets (multi-mnist,
 * multi-fashion, multi-fashion-mnist). Deterministic from its recipe (name, seed, sizes) and the
 * source data; the fingerprint covers all of them.
 */
export async function loadMultiDataset(name: MultiRecipe['name'], opts: DatasetOptions = {}): Promise<MultiTaskDataset> {
  const recipe = recipeOf(name, opts);
  const def = multiDefinitions[recipe.name];
  assertFitsInMemory(recipe);
  // an option the data set does not use is refused rather than silently ignored
  if (opts.resolution !== undefined || opts.attributes !== undefined) throw new ExtraInputError(`--resolution is for celeba, dense-digits, nyuv2 and cityscapes, --attributes for celeba; ${recipe.name} is 36×36 with its own tasks`);
  if (opts.valFraction !== undefined) throw new ExtraInputError(`--val-fraction is for your own data (--data DIR); ${recipe.name} has its own validation split`);
  if (opts.ignoreLabel !== undefined) throw new ExtraInputError(`--ignore-label is for per-pixel class maps; ${recipe.name} has one label per image`);
  if (opts.dataDir !== undefined && recipe.name === 'multi-mnist') {
    throw new ExtraInputError(`--data-dir is only used by the Fashion-MNIST data sets; ${recipe.name} is embedded`);
  }
  const log = (s: string) => {
    if (!opts.quiet) process.stderr.write(`[data] ${s}\n`);
  };
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  // multi-mnist's source hash is memoized, so a cached set loads without touching the sources
  let sources = recipe.name === 'multi-mnist' ? null : loadSources(recipe.name, opts);
  const hashes = !sources
    ? [mnistPackageHash(cacheDir), '']
    : sources.a === sources.b
      ? [sources.a.hash, sources.aTest?.hash ?? '']
      : [sources.a.hash, sources.aTest?.hash ?? '', sources.b.hash, sources.bTest?.hash ?? ''];
  const fingerprint = multiFingerprint(recipe, hashes);
  const file = cacheFile(cacheDir, recipe.name, fingerprint);
  let splits = readCache(file, fingerprint) as Record<'train' | 'val' | 'test', CachedSplit> | null;
  if (!splits) {
    sources ??= loadSources(recipe.name, opts);
    const t0 = performance.now();
    log(`building ${recipe.name} (${recipe.trainSize}/${recipe.valSize}/${recipe.testSize}, seed ${recipe.seed})`);
    const built = buildMulti(recipe as MultiRecipe, sources);
    splits = built.splits;
    try {
      writeCache(file, fingerprint, MULTI_SHAPE[0] * MULTI_SHAPE[1], splits);
    } catch (e) {
      log(`could not write the cache ${file}: ${(e as Error).message}`);
    }
    log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return {
    name: recipe.name,
    fingerprint,
    inputShape: [...MULTI_SHAPE],
    taskNames: [...def.taskNames],
    numClasses: [...def.numClasses],
    train: toSplit(splits.train),
    val: toSplit(splits.val),
    test: toSplit(splits.test),
  };
}
