import { promises as fsp, writeFileSync, renameSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ExtraInputError } from '../errors.js';

/** Write a file atomically: a temporary sibling, fsync'd, then renamed over the target. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
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

/** Temporary files of writeFileAtomic: `<target>.<pid>.<8 hex>.tmp`. */
const TEMP_NAME = /^.+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

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
    if (e.isDirectory() && depth > 0) removed += await removeStaleTemps(full, depth - 1);
    const m = e.isFile() ? TEMP_NAME.exec(e.name) : null;
    if (m && !processAlive(Number(m[1]))) {
      await fsp.rm(full, { force: true });
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
  await fsp.mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await fsp.mkdir(tmp, { recursive: true });
  try {
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
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

export async function appendLine(file: string, line: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.appendFile(file, line.endsWith('\n') ? line : line + '\n');
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

/** The outermost directory of `dir`'s path that does not exist yet (what `mkdir -p dir` would create), or null. */
export async function firstMissingDir(dir: string): Promise<string | null> {
  let missing: string | null = null;
  for (let d = path.resolve(dir); !(await exists(d)); d = path.dirname(d)) {
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
