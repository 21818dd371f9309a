import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NpyArray } from 'npyjs';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { deriveSeed, makeRng, permutation } from '../util/rng.js';
import { readArrayCache, writeArrayCache, type CachedArray } from './array-cache.js';
import { cacheFile, defaultCacheDir } from './cache.js';
import { channelsOf, checkDenseLabels, labelShapeOf, segLabels, type DenseKind } from './dense-labels.js';
import { readNpy } from './npy.js';
import { assertValidPixels } from './npy-dense.js';
import { areaResize, nearestResize, resizeDepth, resizeNormals, resizedWidth } from './resample.js';
import type { DatasetOptions, MultiTaskDataset, Split } from './types.js';

/**
 * The per-sample .npy layout the MTAN and LibMTL repositories write for NYUv2 and CityScapes:
 *   DIR/{train,val}/image/{i}.npy    H×W×C floats (0–1; uint8 0–255 is scaled)
 *   DIR/{train,val}/<task folder>/{i}.npy   per task: H×W (or H×W×1) class maps (floats or integers,
 *                                    −1 = ignored pixel, or --ignore-label), H×W×1 depths (0 = none),
 *                                    H×W×3 normals ((0,0,0) = none)
 * i runs over 0..N−1 in every folder. val/ is the test split (those repositories evaluate on it); the
 * validation split is a seeded --val-fraction (default 0.1) of train/. --resolution h downsamples to h
 * rows (the width keeps the aspect ratio; resample.ts says how each kind is resampled). The built
 * arrays are cached under a key made of the used files' sizes and modification times; the fingerprint
 * is the hash of their contents (and the recipe), so a copy of the same data keeps its fingerprint.
 */
export interface LayoutTask {
  /** the task's name (LibMTL's) */
  name: string;
  folder: string;
  /** the folder some copies use instead (LibMTL's CityScapes has label/ where MTAN's has label_7/) */
  fallback?: string;
  kind: DenseKind;
  /** classes of a seg task; 1 for depth, 3 for normal */
  numClasses: number;
}

export interface LayoutDefinition {
  name: string;
  tasks: LayoutTask[];
}

const LAYOUT_VERSION = 1;
const INDEX = /^(\d+)\.npy$/;

/** The indices 0..N−1 of a folder's {i}.npy files; a gap is a missing file. */
async function indicesOf(folder: string, what: string): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(folder);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExtraInputError(code === 'ENOENT' ? `missing folder ${folder} (${what})` : `cannot read ${folder} (${code ?? 'error'})`);
  }
  const idx = names.flatMap((n) => (INDEX.exec(n) ? [Number(INDEX.exec(n)![1])] : [])).sort((a, b) => a - b);
  idx.forEach((v, i) => {
    if (v !== i) throw new FileFormatError(`missing ${path.join(folder, `${i}.npy`)} (${folder} has ${idx.length} files up to ${idx[idx.length - 1]}.npy)`);
  });
  return idx.length;
}

/** A file's values as numbers (int64 files come as BigInt arrays). */
function valuesOf(arr: NpyArray): ArrayLike<number> {
  const d = arr.data as unknown;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float64Array.from(d, Number);
  return d as ArrayLike<number>;
}

/** Read one sample file, checking its per-sample shape against [H, W, ...channels]. */
async function readSample(file: string, H: number, W: number, channels: number, first: string, hash: ReturnType<typeof createHash>): Promise<ArrayLike<number>> {
  const { arr, bytes } = await readNpy(file);
  hash.update(bytes);
  if (arr.fortranOrder) throw new FileFormatError(`${file} is in Fortran order; save it with np.ascontiguousarray`);
  const s = arr.shape;
  const fits = s[0] === H && s[1] === W && (s.length === 3 ? s[2] === channels : s.length === 2 && channels === 1);
  if (!fits) throw new FileFormatError(`${file} has shape [${s.join(',')}], expected [${H},${W}${channels === 1 ? '' : `,${channels}`}] like ${first}`);
  return valuesOf(arr);
}

interface Plan {
  /** source folder (train/ or val/) and the indices in it, per split */
  picks: Record<'train' | 'val' | 'test', { folder: string; idx: number[] }>;
  H: number;
  W: number;
  C: number;
  h: number;
  w: number;
}

async function plan(def: LayoutDefinition, dir: string, opts: DatasetOptions): Promise<Plan> {
  const sub = { train: path.join(dir, 'train'), test: path.join(dir, 'val') };
  const counts = { train: 0, test: 0 };
  for (const s of ['train', 'test'] as const) {
    const n = await indicesOf(path.join(sub[s], 'image'), `${def.name} layout: {train,val}/{image,${def.tasks.map((t) => t.folder).join(',')}}/{i}.npy`);
    if (n === 0) throw new ExtraInputError(`${path.join(sub[s], 'image')} holds no {i}.npy files`);
    for (const t of def.tasks) {
      const m = await indicesOf(path.join(sub[s], t.folder), `${def.name} task ${t.name}`);
      if (m !== n) throw new FileFormatError(`${path.join(sub[s], t.folder)} has ${m} files, ${path.join(sub[s], 'image')} ${n}: ${m < n ? `missing ${path.join(sub[s], t.folder, `${m}.npy`)}` : `no image for ${path.join(sub[s], t.folder, `${n}.npy`)}`}`);
    }
    counts[s] = n;
  }
  const first = path.join(sub.train, 'image', '0.npy');
  const { arr } = await readNpy(first);
  if (arr.shape.length !== 3) throw new FileFormatError(`${first} has shape [${arr.shape.join(',')}]; images are H×W×C`);
  const [H, W, C] = arr.shape;
  const f = opts.valFraction ?? 0.1;
  if (!(f > 0 && f < 1)) throw new ExtraInputError(`--val-fraction must be between 0 and 1, got ${f}`);
  const order = permutation(counts.train, makeRng(deriveSeed(opts.seed ?? 0, `${def.name}/val-split`)));
  const nVal = Math.max(1, Math.round(counts.train * f));
  if (counts.train - nVal < 1) throw new ExtraInputError(`${sub.train}: ${counts.train} samples are too few to hold out a validation split`);
  const take = (all: number[], n: number | undefined, what: string, from: string): number[] => {
    if (n !== undefined && n > all.length) throw new ExtraInputError(`--${what}-size ${n} is more than the ${all.length} ${what} samples of ${from}`);
    return all.slice(0, n ?? all.length);
  };
  const sorted = (a: ArrayLike<number>) => Array.from(a).sort((x, y) => x - y);
  const picks = {
    train: { folder: sub.train, idx: take(sorted(order.subarray(nVal)), opts.trainSize, 'train', sub.train) },
    val: { folder: sub.train, idx: take(sorted(order.subarray(0, nVal)), opts.valSize, 'val', `${sub.train} (--val-fraction ${f})`) },
    test: { folder: sub.test, idx: take(Array.from({ length: counts.test }, (_, i) => i), opts.testSize, 'test', sub.test) },
  };
  const h = opts.resolution ?? H;
  if (!Number.isInteger(h) || h < 2 || h > H) throw new ExtraInputError(`--resolution must be an integer from 2 to the images' height ${H}, got ${h}`);
  return { picks, H, W, C, h, w: resizedWidth(H, W, h) };
}

/** Refuse a set that would not fit at the requested resolution before reading it: its arrays, counted twice to leave room for what training builds from them. */
function assertFits(def: LayoutDefinition, p: Plan, dir: string): void {
  const samples = p.picks.train.idx.length + p.picks.val.idx.length + p.picks.test.idx.length;
  const perPixel = p.C + def.tasks.reduce((a, t) => a + channelsOf(t.kind), 0);
  const bytes = samples * p.h * p.w * perPixel * 4 * 2;
  if (bytes > os.totalmem() / 2) {
    throw new ExtraInputError(`${def.name} in ${dir}: ${samples} samples at ${p.h}×${p.w} need ${(bytes / 2 ** 30).toFixed(1)} GiB, more than half of this machine's ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; use a smaller --resolution or --train-size/--val-size/--test-size`);
  }
}

type SplitName = 'train' | 'val' | 'test';
const splitNames: SplitName[] = ['train', 'val', 'test'];

async function build(def: LayoutDefinition, p: Plan, opts: DatasetOptions, log: (s: string) => void): Promise<{ arrays: Record<string, CachedArray>; fingerprint: string }> {
  const hash = createHash('sha256').update(JSON.stringify({ v: LAYOUT_VERSION, name: def.name, seed: opts.seed ?? 0, valFraction: opts.valFraction ?? 0.1, h: p.h, ignoreLabel: opts.ignoreLabel ?? null, picks: splitNames.map((s) => p.picks[s].idx) }));
  const { H, W, C, h, w } = p;
  const first = path.join(p.picks.train.folder, 'image', '0.npy');
  const arrays: Record<string, CachedArray> = {};
  const t0 = performance.now();
  let last = t0;
  let done = 0;
  const total = splitNames.reduce((a, s) => a + p.picks[s].idx.length, 0);
  for (const s of splitNames) {
    const { folder, idx } = p.picks[s];
    const n = idx.length;
    const x = new Float32Array(n * h * w * C);
    const ys = def.tasks.map((t) => (t.kind === 'seg' ? new Int32Array(n * h * w) : new Float32Array(n * h * w * channelsOf(t.kind))));
    for (let k = 0; k < n; k++) {
      const file = path.join(folder, 'image', `${idx[k]}.npy`);
      const img = await readSample(file, H, W, C, first, hash);
      const scale = img instanceof Uint8Array ? 1 / 255 : 1;
      let bad = 0;
      while (bad < img.length && Number.isFinite(img[bad])) bad++;
      if (bad < img.length) throw new FileFormatError(`${file}: pixel (${Math.floor(bad / C / W)}, ${Math.floor(bad / C) % W}) holds ${img[bad]}; images are finite numbers`);
      const small = h === H ? Float32Array.from(img) : areaResize(img, H, W, C, h, w);
      for (let i = 0; i < small.length; i++) x[k * small.length + i] = small[i] * scale;
      for (const [j, t] of def.tasks.entries()) {
        const tf = path.join(folder, t.folder, `${idx[k]}.npy`);
        const c = channelsOf(t.kind);
        const v = await readSample(tf, H, W, c, path.join(p.picks.train.folder, t.folder, '0.npy'), hash);
        checkDenseLabels(t.kind, v, H, W, tf, t.kind === 'seg' ? { numClasses: t.numClasses, ignoreLabel: opts.ignoreLabel } : {});
        // at full resolution depth and normals are kept as they are (the resampling would renormalize normals)
        const out = t.kind === 'seg' ? nearestResize(segLabels(v, opts.ignoreLabel), H, W, 1, h, w) : h === H ? v : t.kind === 'depth' ? resizeDepth(v, H, W, h, w) : resizeNormals(v, H, W, h, w);
        ys[j].set(out, k * h * w * c);
      }
      if (++done && performance.now() - last > 5000) {
        last = performance.now();
        log(`${def.name}: ${done}/${total} samples read`);
      }
    }
    arrays[`${s}/x`] = x;
    ys.forEach((y, j) => (arrays[`${s}/${def.tasks[j].name}`] = y));
  }
  log(`${def.name}: ${total} samples at ${h}×${w} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { arrays, fingerprint: hash.digest('hex') };
}

/** The cache key: the recipe and every used file's size and modification time (no file is read). */
async function statKey(def: LayoutDefinition, p: Plan, opts: DatasetOptions): Promise<string> {
  const h = createHash('sha256').update(JSON.stringify({ v: LAYOUT_VERSION, name: def.name, seed: opts.seed ?? 0, valFraction: opts.valFraction ?? 0.1, h: p.h, ignoreLabel: opts.ignoreLabel ?? null, picks: splitNames.map((s) => [p.picks[s].folder, p.picks[s].idx]) }));
  for (const s of splitNames) {
    for (const folder of ['image', ...def.tasks.map((t) => t.folder)]) {
      for (const i of p.picks[s].idx) {
        const st = await fsp.stat(path.join(p.picks[s].folder, folder, `${i}.npy`));
        h.update(`${folder}/${i}:${st.size}:${st.mtimeMs};`);
      }
    }
  }
  return h.digest('hex');
}

/** The arrays a cache file must hold for this plan, with their types and lengths. */
function cacheFits(a: Record<string, CachedArray>, def: LayoutDefinition, p: Plan): boolean {
  if (!(a.fingerprint instanceof Uint8Array) || a.fingerprint.length !== 64) return false;
  return splitNames.every((s) => {
    const px = p.picks[s].idx.length * p.h * p.w;
    return a[`${s}/x`] instanceof Float32Array && a[`${s}/x`].length === px * p.C && def.tasks.every((t) => {
      const y = a[`${s}/${t.name}`];
      return (t.kind === 'seg' ? y instanceof Int32Array : y instanceof Float32Array) && y.length === px * channelsOf(t.kind);
    });
  });
}

/** Each task's folder as this copy has it: `folder`, or its `fallback` where only that exists in train/. */
async function resolveFolders(def: LayoutDefinition, dir: string): Promise<LayoutDefinition> {
  const isDir = (f: string) => fsp.stat(path.join(dir, 'train', f)).then((s) => s.isDirectory(), () => false);
  const tasks = await Promise.all(def.tasks.map(async (t) => (t.fallback && !(await isDir(t.folder)) && (await isDir(t.fallback)) ? { ...t, folder: t.fallback } : t)));
  return { ...def, tasks };
}

/** Load a data set in the MTAN/LibMTL layout (see the top of this file). */
export async function loadLayoutDataset(def: LayoutDefinition, opts: DatasetOptions): Promise<MultiTaskDataset> {
  const dir = opts.dataDir;
  if (!dir) throw new ExtraInputError(`${def.name} needs --data-dir DIR holding train/ and val/ ({image,${def.tasks.map((t) => t.folder).join(',')}}/{i}.npy)`);
  if (opts.attributes !== undefined) throw new ExtraInputError(`--attributes is for celeba; ${def.name} has the tasks ${def.tasks.map((t) => t.name).join(', ')}`);
  const st = await fsp.stat(dir).catch(() => null);
  if (!st) throw new ExtraInputError(`data directory ${dir} does not exist`);
  if (!st.isDirectory()) throw new ExtraInputError(`--data-dir ${dir} is a file; ${def.name} is a folder with train/ and val/`);
  const log = (s: string) => {
    if (!opts.quiet) process.stderr.write(`[data] ${s}\n`);
  };
  def = await resolveFolders(def, dir);
  const p = await plan(def, dir, opts);
  assertFits(def, p, dir);
  const key = await statKey(def, p, opts);
  const file = cacheFile(opts.cacheDir ?? defaultCacheDir(), def.name, key);
  let arrays = readArrayCache(file, key);
  if (arrays && !cacheFits(arrays, def, p)) arrays = null;
  if (!arrays) {
    const built = await build(def, p, opts, log);
    arrays = { ...built.arrays, fingerprint: Uint8Array.from(Buffer.from(built.fingerprint)) };
    try {
      writeArrayCache(file, key, arrays);
    } catch (e) {
      log(`could not write the cache ${file}: ${(e as Error).message}`);
    }
  }
  const got = arrays;
  const split = (s: SplitName): Split => ({ x: got[`${s}/x`] as Float32Array, y: def.tasks.map((t) => got[`${s}/${t.name}`] as Int32Array | Float32Array), n: p.picks[s].idx.length });
  const ds = { train: split('train'), val: split('val'), test: split('test') };
  const kinds = def.tasks.map((t) => t.kind);
  const names = def.tasks.map((t) => t.name);
  assertValidPixels(kinds, names, splitNames.map((s) => [s, ds[s]] as [string, Split]), dir);
  return {
    name: def.name,
    fingerprint: Buffer.from(got.fingerprint).toString(),
    inputShape: [p.h, p.w, p.C],
    taskNames: names,
    numClasses: def.tasks.map((t) => t.numClasses),
    taskKinds: kinds,
    labelShapes: def.tasks.map((t) => labelShapeOf(t.kind, p.h, p.w)),
    ...ds,
  };
}
