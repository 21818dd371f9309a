import { promises as fsp, constants as fsConstants, writeFileSync, renameSync, mkdirSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ExtraInputError } from '../errors.js';
import { SystemFileError, describeSystemError, explainSystemError } from './system-errors.js';
import { isStaleLock } from './lock.js';

/** Free bytes for an unprivileged writer on the file system of `dir` (null when it cannot be told). */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const st = await fsp.statfs(dir);
    return st.bavail * st.bsize;
  } catch {
    return null;
  }
}

/** Writes at least this large check the free space first (cheap: one statfs). */
const CHECK_SPACE_FROM = 1 << 20;

/** Refuse a write of `bytes` into `file` before it starts when the disk plainly cannot hold it. */
async function checkSpace(file: string, bytes: number): Promise<void> {
  if (bytes < CHECK_SPACE_FROM) return;
  const free = await freeBytes(path.dirname(file));
  if (free !== null && free < bytes) {
    throw new SystemFileError(`the disk is full: ${file} needs ${mib(bytes)} and ${path.dirname(file)} has ${mib(free)} free; free some space and run the command again (what was there before is kept)`, 'ENOSPC');
  }
}

const mib = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);

/** `mkdir -p`, with the real reason (read-only, a file in the way) when a directory cannot be made. */
export async function makeDir(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw explainSystemError(e, dir);
  }
}

/**
 * Write a file atomically: a temporary sibling, fsync'd, then renamed over the target. On any failure
 * (a full disk, a read-only folder...) the temporary file is removed, the previous file is left as it
 * was, and a system error comes back explained, naming `file`.
 */
/** Read a whole file; a system error (a directory in its place, a symlink loop...) comes back explained, naming it. */
export async function readFileExplained(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    throw explainSystemError(e, file);
  }
}

/** A system error about our temporary file names the file the user knows instead. */
function namingTarget(e: unknown, tmp: string, file: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof Error && err.path === tmp) err.path = file;
  return e;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await makeDir(path.dirname(file));
  await checkSpace(file, typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw explainSystemError(namingTarget(e, tmp, file), file);
  }
}

export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw explainSystemError(namingTarget(e, tmp, file), file);
  }
}

/**
 * writeFileAtomicSync for data in pieces, written one after another and never joined: a cache of
 * several GiB is more than one Buffer can hold (4 GiB) or one write call can take (2 GiB).
 */
export function writeChunksAtomicSync(file: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const fd = openSync(tmp, 'w');
    try {
      for (const c of chunks) {
        for (let off = 0; off < c.byteLength; ) off += writeSync(fd, c, off, Math.min(c.byteLength - off, 1 << 30));
      }
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw explainSystemError(namingTarget(e, tmp, file), file);
  }
}

/**
 * Refuse output paths on Linux's virtual file systems: Node's recursive mkdir never returns for some
 * /proc paths, and nothing written there would persist anyway.
 */
export function assertRealOutputPath(p: string, what: string): void {
  const abs = path.resolve(p);
  for (const root of ['/proc', '/sys', '/dev']) {
    if (abs === root || abs.startsWith(root + path.sep)) throw new ExtraInputError(`${what} ${p} is under ${root}, a virtual file system; choose a directory on disk`);
  }
}

/** Temporary files of writeFileAtomic (`<target>.<pid>.<8 hex>.tmp`) and directories of replaceDirAtomic (`.<dir>.<pid>.<8 hex>.tmp[.old]`). */
const TEMP_NAME = /^.+\.(\d+)\.[0-9a-f]{8}\.tmp$/;
const TEMP_DIR_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp(\.old)?$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporary files our atomic writes left behind when their process was killed (only ours,
 * by name, and only those whose writer is no longer running), anywhere under `dir`. Returns how many.
 */
export async function removeStaleTemps(dir: string, depth = 4): Promise<number> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let removed = 0;
  for (const e of entries) {
    const full = path.join(dir, e.name);
    const d = e.isDirectory() ? TEMP_DIR_NAME.exec(e.name) : null;
    if (d && !processAlive(Number(d[1]))) {
      await fsp.rm(full, { recursive: true, force: true }).catch(() => undefined);
      removed++;
      continue;
    }
    if (e.isDirectory() && depth > 0) removed += await removeStaleTemps(full, depth - 1);
    if (e.isFile() && e.name === '.lock' && (await isStaleLock(full))) {
      await fsp.rm(full, { force: true }).catch(() => undefined);
      removed++;
      continue;
    }
    const m = e.isFile() ? TEMP_NAME.exec(e.name) : null;
    if (m && !processAlive(Number(m[1]))) {
      await fsp.rm(full, { force: true }).catch(() => undefined);
      removed++;
    }
  }
  return removed;
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Replace a whole directory atomically enough for our purposes: build it under a temporary
 * name, then swap. A crash leaves either the old or the new directory (plus a stray temp dir).
 */
export async function replaceDirAtomic(dir: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(dir);
  await makeDir(parent);
  const tmp = path.join(parent, `.${path.basename(dir)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await fsp.mkdir(tmp, { recursive: true });
    await build(tmp);
    const old = `${tmp}.old`;
    let hadOld = false;
    try {
      await fsp.rename(dir, old);
      hadOld = true;
    } catch {
      /* no previous directory */
    }
    await fsp.rename(tmp, dir);
    if (hadOld) await fsp.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw explainSystemError(e, dir);
  }
}

/** Append one line; on a full disk the part of the line that was written is cut off again. */
export async function appendLine(file: string, line: string): Promise<void> {
  await makeDir(path.dirname(file));
  const before = await fsp.stat(file).then((s) => s.size, () => null);
  try {
    await fsp.appendFile(file, line.endsWith('\n') ? line : line + '\n');
  } catch (e) {
    if (before !== null) await fsp.truncate(file, before).catch(() => undefined);
    else await fsp.rm(file, { force: true }).catch(() => undefined);
    throw explainSystemError(e, file);
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Check, before any work, that `dir` can be an output directory: nothing in its path is a file (or a
 * link to nothing), and the deepest folder that exists is writable (not read-only). One line naming
 * the path otherwise.
 */
export async function assertOutputDir(dir: string, what: string): Promise<void> {
  assertRealOutputPath(dir, what);
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const l = await fsp.lstat(d).catch(() => null);
    if (l) {
      const st = await fsp.stat(d).catch(() => null);
      if (!st) throw new ExtraInputError(`${what} ${dir}: ${d} is a symbolic link to something that does not exist`);
      if (!st.isDirectory()) throw new ExtraInputError(d === path.resolve(dir) ? `${what} ${dir} already exists and is a file, not a directory` : `${what} ${dir} is not a directory: it lies under ${d}, which is a file`);
      try {
        await fsp.access(d, fsConstants.W_OK);
      } catch (e) {
        throw new ExtraInputError(`${what} ${dir}: ${describeSystemError(e, d) ?? `${d} is not writable`}`);
      }
      return;
    }
    if (path.dirname(d) === d) return;
  }
}

/** The outermost directory of `dir`'s path that does not exist yet (what `mkdir -p dir` would create), or null. */
export async function firstMissingDir(dir: string): Promise<string | null> {
  let missing: string | null = null;
  // lstat: a symbolic link to nothing is there (it is the user's, and never removed as ours)
  for (let d = path.resolve(dir); !(await fsp.lstat(d).then(() => true, () => false)); d = path.dirname(d)) {
    missing = d;
    if (path.dirname(d) === d) break;
  }
  return missing;
}

/**
 * Run `fn`, which may create `dir`; when it fails, remove again what it created under a directory that
 * did not exist before (nothing half-made is left behind). A directory that existed is left to `fn`;
 * `keep` says when what was made is worth keeping after all (a checkpoint that `--resume` continues).
 */
export async function removeCreatedOnFailure<T>(dir: string, fn: () => Promise<T>, keep?: () => Promise<boolean>): Promise<T> {
  const created = await firstMissingDir(dir);
  try {
    return await fn();
  } catch (e) {
    if (created !== null && !(await keep?.().catch(() => true))) await fsp.rm(created, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}

/** Whether a file of this name exists anywhere under `dir` (to `depth` levels). */
export async function containsFile(dir: string, name: string, depth = 3): Promise<boolean> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    if (e.isFile() && e.name === name) return true;
    if (e.isDirectory() && depth > 0 && (await containsFile(path.join(dir, e.name), name, depth - 1))) return true;
  }
  return false;
}
