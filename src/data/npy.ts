import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseNpy, type NpyArray } from 'npyjs';
import { z } from 'zod';
import { ExtraInputError, FileFormatError } from '../errors.js';
import { readJsonWith } from '../io/json-file.js';
import { makeRng, permutation, deriveSeed } from '../util/rng.js';
import { dataTaskKinds, type DataTaskKind, type DatasetEntry, type DatasetOptions, type Labels, type MultiTaskDataset, type Split } from './types.js';
import { assertValidPixels, pixelArray, resolveKinds } from './npy-dense.js';

/**
 * Your own arrays (`--data DIR`), NumPy .npy files read with npyjs:
 *   x_train.npy   N × H × W (× C) images (uint8 0–255 or floats) or N × D features
 *   y_train.npy   N × K labels (one column per task) or N labels (one task),
 *                 or one y_train_<task>.npy per task. Integer arrays are class indices
 *                 (classification); float arrays are real targets (regression tasks, loss mse).
 * and the same for `test` and `val`. Without val files, a --val-fraction of the training rows
 * (default 0.1, drawn with the run's seed) is held out. Optional `tasks.json` names the tasks
 * (["left", "right"]), or names them and gives their kinds ([{"name": "seg", "kind": "seg"}, ...]);
 * otherwise y_<split>_<task>.npy names them, or they are task0, task1, ...
 * Per-pixel labels (npy-dense.ts): y_<split>_<task>.npy of N×H×W (integers: seg, −1 or --ignore-label
 * = ignored; floats: depth, 0 = none) or N×H×W×3 (floats: normal, (0,0,0) = none), H×W the images'.
 * Everything is checked before use: dtype, shape, NaN, label range, with the file and row named.
 */
const SPLITS = ['train', 'val', 'test'] as const;
type SplitName = (typeof SPLITS)[number];

interface Arrays {
  x: NpyArray;
  ys: NpyArray[];
  files: string[];
}

/** Item sizes of the dtypes the arrays may have (NumPy's `descr` without its byte-order character). */
const ITEM_BYTES: Record<string, number> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };
const DTYPE_NAMES: Record<string, string> = { c8: 'complex64', c16: 'complex128', O: 'object', U: 'unicode string', S: 'byte string', V: 'void/structured', M: 'datetime', m: 'timedelta' };

/**
 * The .npy layout (NumPy's format spec: magic, version, header length, a Python dict literal with
 * descr / fortran_order / shape, then the data) checked before npyjs parses it: npyjs' own errors on a
 * truncated header, an unsupported dtype or a shape that disagrees with the data are misleading
 * ("Invalid typed array length"), so each of those is named here.
 */
function checkNpyLayout(bytes: Buffer, file: string): void {
  const bad = (why: string): never => {
    throw new FileFormatError(`${file} is not a valid .npy file (${why})`);
  };
  if (bytes.length < 6 || bytes[0] !== 0x93 || bytes.subarray(1, 6).toString('latin1') !== 'NUMPY') bad('no \\x93NUMPY magic at its start');
  if (bytes.length < 8) bad(`the header is truncated (the file has ${bytes.length} bytes)`);
  const major = bytes[6];
  if (major < 1 || major > 3) bad(`format version ${major} is unknown`);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) bad(`the header is truncated (the file has ${bytes.length} bytes)`);
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > bytes.length) bad(`the header is truncated: it declares ${headerLen} bytes, the file ends after ${bytes.length - 8 - lenBytes}`);
  const header = bytes.subarray(8 + lenBytes, dataStart).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || shapeText === undefined) bad(`its header has no descr or shape: ${JSON.stringify(header.trim().slice(0, 80))}`);
  const order = descr![0];
  const code = /^[<>|=]/.test(descr!) ? descr!.slice(1) : descr!;
  if (!(code in ITEM_BYTES)) {
    const kind = DTYPE_NAMES[code] ?? DTYPE_NAMES[code.replace(/\d+$/, '')];
    bad(`dtype '${descr}'${kind ? ` (${kind})` : ''} is not supported; inputs are uint8 or float, labels integers or floats`);
  }
  if (order === '>' && ITEM_BYTES[code] > 1) bad(`dtype '${descr}' is big-endian; save it with .astype('<${code}')`);
  const dims = shapeText!.split(',').map((d) => d.trim()).filter((d) => d !== '');
  if (!dims.every((d) => /^\d+$/.test(d))) bad(`its shape (${shapeText}) is not a tuple of sizes`);
  const shape = dims.map(Number);
  const need = shape.reduce((a, b) => a * b, 1) * ITEM_BYTES[code];
  const have = bytes.length - dataStart;
  if (have < need) bad(`its data ends after ${have} bytes, the header's shape [${shape.join(',')}] of ${descr} needs ${need} (truncated)`);
  if (have > need) bad(`it holds ${have} bytes of data, but the header's shape [${shape.join(',')}] of ${descr} declares ${need} (header and data disagree)`);
}

export async function readNpy(file: string): Promise<{ arr: NpyArray; bytes: Buffer }> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExtraInputError(code === 'ENOENT' ? `missing data file ${file}` : code === 'EISDIR' ? `${file} is a directory, not a .npy file` : `cannot read ${file} (${code ?? 'error'})`);
  }
  checkNpyLayout(bytes, file);
  try {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const arr = parseNpy(ab);
    const n = arr.shape.reduce((a, b) => a * b, 1);
    if ((arr.data as unknown as ArrayLike<number>).length !== n) throw new Error('data shorter than its shape');
    return { arr, bytes };
  } catch (e) {
    throw new FileFormatError(`${file} is not a valid .npy file (${(e as Error).message})`);
  }
}

async function exists(file: string): Promise<boolean> {
  return fsp.stat(file).then((s) => s.isFile()).catch(() => false);
}

const taskName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'task names are letters, digits, _ . -');
// a task is its name, or its name and kind (src/tasks): {"name": "depth", "kind": "depth"}
const taskEntry = z.union([taskName, z.object({ name: taskName, kind: z.enum(dataTaskKinds as unknown as [DataTaskKind, ...DataTaskKind[]]) }).strict()]);
const nameOf = (t: z.infer<typeof taskEntry>) => (typeof t === 'string' ? t : t.name);
const tasksSchema = z
  .array(taskEntry)
  .min(1)
  .refine((tasks) => new Set(tasks.map(nameOf)).size === tasks.length, 'the task names must differ');

/**
 * tasks.json beside per-task label files (y_<split>_<task>.npy) is matched to them by name, never by
 * position: every split's columns are put in tasks.json's order, and a name in one but not the other
 * is refused. (With one y_<split>.npy of K columns, tasks.json names the columns in their order.)
 */
function matchTasksToFiles(wanted: string[], read: Partial<Record<SplitName, { split: Split; names: string[] | null; files: string[]; pixelShapes: (number[] | null)[] }>>, tasksFile: string): void {
  for (const s of SPLITS) {
    const r = read[s];
    if (!r?.names) continue;
    const files = r.names;
    const missing = wanted.filter((n) => !files.includes(n));
    const unnamed = files.filter((n) => !wanted.includes(n));
    if (missing.length || unnamed.length) {
      const why = [missing.length ? `no y_${s}_<task>.npy for ${missing.map((n) => `'${n}'`).join(', ')}` : '', unnamed.length ? `y_${s}_${unnamed[0]}.npy${unnamed.length > 1 ? ` (and ${unnamed.length - 1} more)` : ''} is not named in it` : ''].filter(Boolean).join('; ');
      throw new FileFormatError(`${tasksFile} does not match the label files (${why}); tasks.json names the tasks of y_<split>_<task>.npy by their <task>`);
    }
    if (r.split.y.length !== files.length) continue;
    const order = wanted.map((n) => files.indexOf(n));
    r.split.y = order.map((i) => r.split.y[i]);
    r.files = order.map((i) => r.files[i]);
    r.pixelShapes = order.map((i) => r.pixelShapes[i]);
    r.names = [...wanted];
  }
}

/** The y files of a split, with the task names their layout implies. */
async function labelFiles(dir: string, split: SplitName): Promise<{ files: string[]; names: string[] | null } | null> {
  const whole = path.join(dir, `y_${split}.npy`);
  if (await exists(whole)) return { files: [whole], names: null };
  const prefix = `y_${split}_`;
  const per = (await fsp.readdir(dir)).filter((f) => f.startsWith(prefix) && f.endsWith('.npy')).sort();
  if (!per.length) return null;
  return { files: per.map((f) => path.join(dir, f)), names: per.map((f) => f.slice(prefix.length, -4)) };
}

function toInputs(arr: NpyArray, file: string): { x: Float32Array; shape: number[] } {
  if (arr.fortranOrder) throw new FileFormatError(`${file} is in Fortran order; save it with np.ascontiguousarray`);
  if (arr.shape.length < 2 || arr.shape.length > 4) throw new FileFormatError(`${file} has shape [${arr.shape.join(',')}]; inputs are N×D, N×H×W or N×H×W×C`);
  const n = arr.shape[0];
  const data = arr.data as unknown as ArrayLike<number>;
  const scale = arr.dtype === 'u1' ? 1 / 255 : 1;
  if (!['u1', 'f4', 'f8', 'f2'].includes(arr.dtype)) throw new FileFormatError(`${file} has dtype ${arr.dtype}; inputs are uint8 (0–255) or float`);
  const x = new Float32Array(data.length);
  const d = data.length / Math.max(1, n);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) throw new FileFormatError(`${file}: row ${Math.floor(i / d)} holds a non-finite value (${v})`);
    x[i] = v * scale;
  }
  // an N×H×W image gets its channel axis
  const shape = arr.shape.length === 3 ? [...arr.shape.slice(1), 1] : arr.shape.slice(1);
  return { x, shape };
}

const FLOAT_DTYPES = ['f2', 'f4', 'f8'];
const INT_DTYPES = ['i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'b1'];

/** One label array per column: class indices from an integer array, real targets from a float one. */
function toLabels(arr: NpyArray, file: string, n: number): Labels[] {
  if (arr.shape[0] !== n) throw new FileFormatError(`${file} has ${arr.shape[0]} rows but its inputs have ${n}`);
  if (arr.shape.length > 2) throw new FileFormatError(`${file} has shape [${arr.shape.join(',')}]; labels are N or N×K`);
  if (arr.fortranOrder && arr.shape.length === 2 && arr.shape[1] > 1) throw new FileFormatError(`${file} is in Fortran order; save it with np.ascontiguousarray`);
  const real = FLOAT_DTYPES.includes(arr.dtype);
  if (!real && !INT_DTYPES.includes(arr.dtype)) throw new FileFormatError(`${file} has dtype ${arr.dtype}; labels are integers (classes) or floats (regression targets)`);
  const k = arr.shape.length === 2 ? arr.shape[1] : 1;
  const raw = arr.data as unknown as ArrayLike<number | bigint>;
  const out = Array.from({ length: k }, () => (real ? new Float32Array(n) : new Int32Array(n)));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const v = Number(raw[i * k + j]);
      const where = `${file}: row ${i}${k > 1 ? ` column ${j}` : ''} holds ${v}`;
      if (real) {
        if (!Number.isFinite(v) || Math.abs(v) > 3e38) throw new FileFormatError(`${where}; regression targets are finite float32 numbers`);
      } else if (!Number.isInteger(v) || v < 0 || v > 1_000_000) throw new FileFormatError(`${where}; labels are class indices 0, 1, 2, ...`);
      out[j][i] = v;
    }
  }
  return out;
}

async function readSplit(dir: string, split: SplitName): Promise<{ split: Split; shape: number[]; names: string[] | null; bytes: Buffer[]; files: string[]; pixelShapes: (number[] | null)[] } | null> {
  const xFile = path.join(dir, `x_${split}.npy`);
  const labels = await labelFiles(dir, split);
  if (!(await exists(xFile))) {
    if (labels) throw new ExtraInputError(`${dir} has labels for ${split} but no x_${split}.npy`);
    return null;
  }
  if (!labels) throw new ExtraInputError(`missing data file ${path.join(dir, `y_${split}.npy`)} (or y_${split}_<task>.npy per task)`);
  const xs = await readNpy(xFile);
  const { x, shape } = toInputs(xs.arr, xFile);
  const n = xs.arr.shape[0];
  const bytes = [xs.bytes];
  const y: Labels[] = [];
  // per task: its file, and its label shape per sample when it is per pixel (rank ≥ 3, npy-dense.ts)
  const files: string[] = [];
  const pixelShapes: (number[] | null)[] = [];
  for (const f of labels.files) {
    const r = await readNpy(f);
    bytes.push(r.bytes);
    const dense = r.arr.shape.length >= 3;
    const got = dense ? [pixelArray(r.arr, f, n)] : toLabels(r.arr, f, n);
    y.push(...got);
    files.push(...got.map(() => f));
    pixelShapes.push(...got.map(() => (dense ? r.arr.shape.slice(1) : null)));
  }
  return { split: { x, y, n }, shape, names: labels.names, bytes, files, pixelShapes };
}

function rows(s: Split, idx: ArrayLike<number>): Split {
  const d = s.n ? s.x.length / s.n : 0;
  const x = new Float32Array(idx.length * d);
  for (let i = 0; i < idx.length; i++) x.set(s.x.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
  // a sample's labels are a block (one value, or a per-pixel map)
  const pick = (l: Labels): Labels => {
    const per = s.n ? l.length / s.n : 1;
    const out = l instanceof Float32Array ? new Float32Array(idx.length * per) : new Int32Array(idx.length * per);
    for (let i = 0; i < idx.length; i++) out.set(l.subarray(idx[i] * per, (idx[i] + 1) * per), i * per);
    return out;
  };
  return { x, y: s.y.map(pick), n: idx.length };
}

function firstRows(s: Split, n: number | undefined, what: string, dir: string): Split {
  if (n === undefined || n === s.n) return s;
  if (n > s.n) throw new ExtraInputError(`--${what}-size ${n} is more than the ${s.n} rows of ${dir}'s ${what} split`);
  return rows(s, Int32Array.from({ length: n }, (_, i) => i));
}

/** Load `--data DIR` (see the comment at the top of this file). */
export async function loadNpyDataset(opts: DatasetOptions): Promise<MultiTaskDataset> {
  const dir = opts.dataDir;
  if (opts.resolution !== undefined || opts.attributes !== undefined) throw new ExtraInputError('--resolution is for celeba, dense-digits, nyuv2 and cityscapes, --attributes for celeba; your arrays are used as they are');
  if (!dir) throw new ExtraInputError('the npy data set needs --data DIR (x_train.npy, y_train.npy, x_test.npy, y_test.npy, ...)');
  const st = await fsp.stat(dir).catch(() => null);
  if (!st) throw new ExtraInputError(`data directory ${dir} does not exist`);
  if (!st.isDirectory()) throw new ExtraInputError(`--data ${dir} is a file; it must be a directory holding x_train.npy, y_train.npy, ...`);
  // refuse what could not be held before reading it
  let total = 0;
  for (const f of await fsp.readdir(dir)) if (f.endsWith('.npy')) total += (await fsp.stat(path.join(dir, f))).size;
  if (total * 4 > os.totalmem() / 2) throw new ExtraInputError(`${dir}: the .npy files (${(total / 2 ** 30).toFixed(1)} GiB) would need more than half of this machine's memory as float32`);
  const read: Partial<Record<SplitName, NonNullable<Awaited<ReturnType<typeof readSplit>>>>> = {};
  for (const s of SPLITS) {
    const r = await readSplit(dir, s);
    if (r) read[s] = r;
  }
  if (!read.train) throw new ExtraInputError(`missing data file ${path.join(dir, 'x_train.npy')}`);
  if (!read.test) throw new ExtraInputError(`missing data file ${path.join(dir, 'x_test.npy')}`);
  const shape = read.train.shape;
  const K = read.train.split.y.length;
  for (const s of SPLITS) {
    const r = read[s];
    if (!r) continue;
    if (r.shape.join(',') !== shape.join(',')) throw new FileFormatError(`${path.join(dir, `x_${s}.npy`)} has rows of shape [${r.shape.join(',')}], x_train.npy [${shape.join(',')}]`);
    if (r.split.y.length !== K) throw new FileFormatError(`${dir}: ${s} has ${r.split.y.length} label columns, train ${K}`);
    if (r.names && read.train.names && r.names.join('\0') !== read.train.names.join('\0')) throw new FileFormatError(`${dir}: the ${s} labels are for tasks ${r.names.join(', ')}, the train labels for ${read.train.names.join(', ')}; give every split the same y_<split>_<task>.npy files`);
    r.pixelShapes.forEach((p, k) => {
      const t = read.train!.pixelShapes[k];
      if (JSON.stringify(p) !== JSON.stringify(t)) throw new FileFormatError(`${r.files[k]} has labels of shape [${p?.join(',') ?? ''}] per sample, ${read.train!.files[k]} [${t?.join(',') ?? ''}]`);
    });
    r.split.y.forEach((l, k) => {
      if (l instanceof Float32Array !== read.train!.split.y[k] instanceof Float32Array) {
        throw new FileFormatError(`${dir}: label column ${k} is ${l instanceof Float32Array ? 'float (regression)' : 'integer (classes)'} in ${s} but ${l instanceof Float32Array ? 'integer' : 'float'} in train; save every split with the same dtype`);
      }
    });
  }
  const tasksFile = path.join(dir, 'tasks.json');
  const fromTasksFile = (await exists(tasksFile)) ? await readJsonWith(tasksSchema, tasksFile, ' (a JSON list of task names, one per label file)') : null;
  if (fromTasksFile) matchTasksToFiles(fromTasksFile.map(nameOf), read, tasksFile);
  const names = fromTasksFile?.map(nameOf) ?? read.train.names ?? Array.from({ length: K }, (_, k) => `task${k}`);
  if (names.length !== K) throw new FileFormatError(`${path.join(dir, 'tasks.json')} names ${names.length} tasks, the labels have ${K}`);
  // each task's kind (given by tasks.json or implied by its files); per-pixel values checked for it
  const given = new Map(fromTasksFile?.flatMap((t) => (typeof t === 'string' ? [] : [[t.name, t.kind] as const])) ?? []);
  const present = SPLITS.filter((s) => read[s]);
  const resolved = resolveKinds({ ys: present.map((s) => read[s]!.split.y), files: present.map((s) => read[s]!.files), pixelShapes: read.train.pixelShapes, given: names.map((t) => given.get(t)), names, imageShape: shape, ignoreLabel: opts.ignoreLabel });
  present.forEach((s, i) => (read[s]!.split.y = resolved.y[i]));
  const perPixel = resolved.labelShapes.some((l) => l.length > 0);
  if (opts.ignoreLabel !== undefined && !resolved.kinds.includes('seg')) throw new ExtraInputError(`--ignore-label is for per-pixel seg labels; ${dir} has none`);
  const seed = opts.seed ?? 0;
  let train = read.train.split;
  let val: Split;
  const valFraction = read.val ? undefined : (opts.valFraction ?? 0.1);
  if (read.val) {
    if (opts.valFraction !== undefined) throw new ExtraInputError(`--val-fraction is for data without val files; ${dir} has x_val.npy`);
    val = read.val.split;
  } else {
    const f = valFraction!;
    if (!(f > 0 && f < 1)) throw new ExtraInputError(`--val-fraction must be between 0 and 1, got ${f}`);
    const order = permutation(train.n, makeRng(deriveSeed(seed, 'npy/val-split')));
    const nVal = Math.max(1, Math.round(train.n * f));
    if (train.n - nVal < 2) throw new ExtraInputError(`${dir}: ${train.n} training rows are too few to hold out a validation split`);
    val = rows(train, order.subarray(0, nVal));
    train = rows(train, order.subarray(nVal));
  }
  train = firstRows(train, opts.trainSize, 'train', dir);
  val = firstRows(val, opts.valSize, 'val', dir);
  const test = firstRows(read.test.split, opts.testSize, 'test', dir);
  assertValidPixels(resolved.kinds, names, [['train', train], ['val', val], ['test', test]], dir);
  // a regression task (float targets) has one output: numClasses 1
  const classesOf = (l: Labels) => {
    let c = 0;
    for (let i = 0; i < l.length; i++) c = Math.max(c, l[i] + 1);
    return c;
  };
  const numClasses = names.map((_, k) => (resolved.kinds[k] === 'normal' ? 3 : train.y[k] instanceof Float32Array ? 1 : Math.max(2, ...[train, val, test].map((s) => classesOf(s.y[k])))));
  // which tasks are regressions enters the fingerprint (float class labels were once read as classes);
  // data without regression tasks keeps the fingerprint it always had
  const regression = numClasses.map((c) => c === 1);
  const h = createHash('sha256').update(JSON.stringify({ v: 1, names, valFraction, seed: valFraction ? seed : null, sizes: [opts.trainSize, opts.valSize, opts.testSize], ...(regression.some(Boolean) ? { regression } : {}), ...(perPixel || given.size ? { kinds: resolved.kinds, ignoreLabel: opts.ignoreLabel ?? null } : {}) }));
  for (const s of SPLITS) read[s]?.bytes.forEach((b) => h.update(b));
  const kinds = perPixel || given.size ? { taskKinds: resolved.kinds, labelShapes: resolved.labelShapes } : {};
  return { name: 'npy', fingerprint: h.digest('hex'), inputShape: shape, taskNames: names, numClasses, ...kinds, train, val, test };
}

export const npyDataset: DatasetEntry = {
  name: 'npy',
  description: 'your own NumPy arrays: --data DIR with x_train.npy, y_train.npy, x_test.npy, y_test.npy (+ val, or --val-fraction)',
  load: (opts) => loadNpyDataset(opts),
};
