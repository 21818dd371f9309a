import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { cacheFile, defaultCacheDir, readCache, writeCache, type CachedSplit } from './cache.js';
import type { DatasetEntry, DatasetOptions, MultiTaskDataset, Split } from './types.js';

/**
 * CelebA (Liu et al. 2015) in its own folder layout — the many-task benchmark of the EXTRA paper:
 *   DIR/img_align_celeba/000001.jpg ...   aligned 178×218 JPEGs
 *   DIR/list_attr_celeba.txt              count, the 40 attribute names, then "000001.jpg -1 1 ..." rows
 *   DIR/list_eval_partition.txt           "000001.jpg 0" rows: 0 train, 1 val, 2 test
 * Each attribute is a binary task (label 1 where the file says 1). Images are cropped to their
 * centre square and downsampled to --resolution (default 64) by bilinear resizing to a multiple of
 * it followed by box averaging (antialiased). CelebA cannot be downloaded by extra: get it from its
 * authors (mmlab.ie.cuhk.edu.hk/projects/CelebA.html) and pass the folder with --data-dir (default
 * ~/data/celeba). Decoded images are cached like the built-in sets.
 */
export const CELEBA_DEFAULT_DIR = path.join(os.homedir(), 'data', 'celeba');
const CELEBA_VERSION = 1;

interface Listing {
  names: string[];
  rows: Map<string, number[]>;
  partition: Map<string, number>;
  text: string;
}

async function readText(file: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExtraInputError(code === 'ENOENT' ? `missing data file ${file} (CelebA's own layout; see 'extra train --help')` : `cannot read ${file} (${code ?? 'error'})`);
  }
}

async function readListing(dir: string): Promise<Listing> {
  const attrFile = path.join(dir, 'list_attr_celeba.txt');
  const partFile = path.join(dir, 'list_eval_partition.txt');
  const attr = (await readText(attrFile)).split(/\r?\n/);
  const count = Number(attr[0]?.trim());
  const names = (attr[1] ?? '').trim().split(/\s+/).filter(Boolean);
  if (!Number.isInteger(count) || count < 1 || !names.length) throw new FileFormatError(`${attrFile}: the first two lines must be the image count and the attribute names`);
  const rows = new Map<string, number[]>();
  for (let i = 2; i < attr.length; i++) {
    const line = attr[i].trim();
    if (!line) continue;
    const parts = line.split(/\s+/);
    if (parts.length !== names.length + 1) throw new FileFormatError(`${attrFile}: line ${i + 1} has ${parts.length - 1} values for ${names.length} attributes`);
    const v = parts.slice(1).map(Number);
    const bad = v.findIndex((x) => x !== 1 && x !== -1 && x !== 0);
    if (bad >= 0) throw new FileFormatError(`${attrFile}: line ${i + 1} gives ${names[bad]} the value '${parts[bad + 1]}' (1 or -1 expected)`);
    rows.set(parts[0], v.map((x) => (x === 1 ? 1 : 0)));
  }
  if (rows.size !== count) throw new FileFormatError(`${attrFile} announces ${count} images but lists ${rows.size}`);
  const partText = await readText(partFile);
  const partition = new Map<string, number>();
  partText.split(/\r?\n/).forEach((l, i) => {
    const line = l.trim();
    if (!line) return;
    const [file, p] = line.split(/\s+/);
    const n = Number(p);
    if (!(n === 0 || n === 1 || n === 2)) throw new FileFormatError(`${partFile}: line ${i + 1} gives partition '${p}' (0, 1 or 2 expected)`);
    partition.set(file, n);
  });
  return { names, rows, partition, text: JSON.stringify([names, [...rows.entries()], [...partition.entries()]]) };
}

/** One JPEG → r×r×3 bytes: centre square, then antialiased downsampling. */
function decodeImage(bytes: Buffer, file: string, r: number): Uint8Array {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 256 });
  } catch (e) {
    throw new FileFormatError(`${file} is not a readable JPEG (${(e as Error).message})`);
  }
  const side = Math.min(img.width, img.height);
  if (side < r) throw new FileFormatError(`${file} is ${img.width}×${img.height}, smaller than --resolution ${r}`);
  return tf.tidy(() => {
    const full = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32').toFloat();
    const top = Math.floor((img.height - side) / 2);
    const left = Math.floor((img.width - side) / 2);
    const square = tf.slice(full, [top, left, 0], [side, side, 3]);
    // bilinear to k·r, then k×k box averages: an antialiased resize from two tfjs ops
    const k = Math.max(1, Math.floor(side / r));
    const big = tf.image.resizeBilinear(square as tf.Tensor3D, [k * r, k * r], false, true);
    const small = k > 1 ? tf.avgPool(big, k, k, 'valid') : big;
    return Uint8Array.from(small.round().clipByValue(0, 255).dataSync());
  });
}

export async function loadCelebA(opts: DatasetOptions): Promise<MultiTaskDataset> {
  const dir = opts.dataDir ?? CELEBA_DEFAULT_DIR;
  const st = await fsp.stat(dir).catch(() => null);
  if (!st) throw new ExtraInputError(`CelebA folder ${dir} does not exist (get CelebA from its authors; --data-dir DIR with img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt)`);
  if (!st.isDirectory()) throw new ExtraInputError(`--data-dir ${dir} is a file; CelebA is a folder`);
  if (opts.valFraction !== undefined) throw new ExtraInputError('--val-fraction is for your own arrays (--data DIR); CelebA has its own validation partition');
  if (opts.ignoreLabel !== undefined) throw new ExtraInputError('--ignore-label is for per-pixel class maps; CelebA has one label per attribute');
  const r = opts.resolution ?? 64;
  if (!Number.isInteger(r) || r < 8 || r > 218) throw new ExtraInputError(`--resolution must be an integer from 8 to 218, got ${r}`);
  const log = (s: string) => {
    if (!opts.quiet) process.stderr.write(`[data] ${s}\n`);
  };
  const listing = await readListing(dir);
  const picked = opts.attributes ?? listing.names;
  const unknown = picked.filter((a) => !listing.names.includes(a));
  if (unknown.length) throw new ExtraInputError(`unknown CelebA attribute(s) ${unknown.join(', ')} (known: ${listing.names.join(', ')})`);
  if (new Set(picked).size !== picked.length || !picked.length) throw new ExtraInputError('--attributes must name each attribute once');
  const columns = picked.map((a) => listing.names.indexOf(a));
  const files: string[][] = [[], [], []];
  for (const f of [...listing.rows.keys()].sort()) {
    const p = listing.partition.get(f);
    if (p === undefined) throw new FileFormatError(`${path.join(dir, 'list_eval_partition.txt')} has no partition for ${f}`);
    files[p].push(f);
  }
  const sizes = [opts.trainSize, opts.valSize, opts.testSize];
  const names = ['train', 'val', 'test'] as const;
  names.forEach((s, i) => {
    const want = sizes[i];
    if (want !== undefined && want > files[i].length) throw new ExtraInputError(`--${s}-size ${want} is more than CelebA's ${files[i].length} ${s} images in ${dir}`);
    if (want !== undefined) files[i] = files[i].slice(0, want);
    if (!files[i].length) throw new ExtraInputError(`${dir} has no ${s} images`);
  });
  const d = r * r * 3;
  const images = files.reduce((a, f) => a + f.length, 0);
  if (images * d * 5 > os.totalmem() / 2) throw new ExtraInputError(`CelebA at ${r}×${r}: ${images} images need ${((images * d * 5) / 2 ** 30).toFixed(1)} GiB, more than half of this machine's memory; use --train-size/--val-size/--test-size or a smaller --resolution`);
  // fingerprint: the listings, the recipe, and every used image's size (hashing 1.4 GB of JPEGs on each load would cost more than decoding a cached set)
  const h = createHash('sha256').update(JSON.stringify({ v: CELEBA_VERSION, r, picked, files })).update(listing.text);
  const imgDir = path.join(dir, 'img_align_celeba');
  for (const f of files.flat()) {
    const s = await fsp.stat(path.join(imgDir, f)).catch(() => null);
    if (!s) throw new ExtraInputError(`missing image ${path.join(imgDir, f)}`);
    h.update(`${f}:${s.size}`);
  }
  const fingerprint = h.digest('hex');
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const cache = cacheFile(cacheDir, 'celeba', fingerprint);
  let splits = readCache(cache, fingerprint) as Record<'train' | 'val' | 'test', CachedSplit> | null;
  if (!splits) {
    const t0 = performance.now();
    let done = 0;
    let last = t0;
    const build = async (list: string[]): Promise<CachedSplit> => {
      const pixels = new Uint8Array(list.length * d);
      const labels = columns.map(() => new Uint8Array(list.length));
      for (let i = 0; i < list.length; i++) {
        const file = path.join(imgDir, list[i]);
        pixels.set(decodeImage(await fsp.readFile(file), file, r), i * d);
        const row = listing.rows.get(list[i])!;
        columns.forEach((c, k) => (labels[k][i] = row[c]));
        if (++done && performance.now() - last > 5000) {
          last = performance.now();
          log(`CelebA: ${done}/${images} images decoded`);
        }
      }
      return { pixels, labels, n: list.length };
    };
    splits = { train: await build(files[0]), val: await build(files[1]), test: await build(files[2]) };
    try {
      writeCache(cache, fingerprint, d, splits);
    } catch (e) {
      log(`could not write the cache ${cache}: ${(e as Error).message}`);
    }
    log(`CelebA: ${images} images at ${r}×${r} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const toSplit = (s: CachedSplit): Split => ({ x: Float32Array.from(s.pixels, (v) => v / 255), y: s.labels.map((l) => Int32Array.from(l)), n: s.n });
  return { name: 'celeba', fingerprint, inputShape: [r, r, 3], taskNames: picked, numClasses: picked.map(() => 2), train: toSplit(splits.train), val: toSplit(splits.val), test: toSplit(splits.test) };
}

export const celebaDataset: DatasetEntry = {
  name: 'celeba',
  description: "CelebA's 40 binary face attributes (your copy, in its own folder layout: --data-dir DIR; --resolution, --attributes)",
  load: (opts) => loadCelebA(opts),
};
