import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';
import { explainSystemError } from './system-errors.js';

/**
 * One writer per artifact: `withLock(dir, fn)` holds `dir/.lock` (created exclusively, holding the
 * writer's PID) while fn runs. A lock whose PID is no longer running is stale (a crash or a SIGKILL)
 * and is taken over. Hand-written rather than proper-lockfile: the refusal must name the PID that
 * holds the lock, and staleness is decided by that PID's liveness, not by mtime refresh timers.
 */
export async function withLock<T>(dir: string, what: string, fn: () => Promise<T>, opts: { keepIfAny?: string[] } = {}): Promise<T> {
  // the directories this lock makes: removed again, when still empty, if fn fails (no empty folders left)
  const made: string[] = [];
  for (let d = path.resolve(dir); path.dirname(d) !== d && !(await fsp.stat(d).then(() => true, () => false)); d = path.dirname(d)) made.push(d);
  await fsp.mkdir(dir, { recursive: true }).catch((e: unknown) => {
    throw explainSystemError(e, dir);
  });
  // empty ones always; with `keepIfAny`, also what fn wrote there when none of those files exists (a
  // training that failed before its first checkpoint leaves no half-made folder)
  const removeMade = async (): Promise<void> => {
    if (made.length && opts.keepIfAny) {
      const kept = await Promise.all(opts.keepIfAny.map((f) => fsp.stat(f).then(() => true, () => false)));
      if (!kept.includes(true)) await fsp.rm(made[0], { recursive: true, force: true }).catch(() => undefined);
    }
    for (const d of made) if (!(await fsp.rmdir(d).then(() => true, (e: NodeJS.ErrnoException) => e.code === 'ENOENT'))) break;
  };
  const file = path.join(dir, '.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await fsp.open(file, 'wx');
      try {
        await fh.writeFile(JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
      } catch (e) {
        // a full disk: no empty lock is left behind to outlive this command
        await fh.close().catch(() => undefined);
        await fsp.rm(file, { force: true }).catch(() => undefined);
        await removeMade();
        throw e;
      }
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw explainSystemError(e, file);
      const holder = await readHolder(file);
      if (holder && holder.pid !== process.pid && alive(holder.pid)) {
        throw new ExtraInputError(`${what} is in use by PID ${holder.pid} (since ${holder.since}); wait for it or stop it (${file})`);
      }
      if (holder && holder.pid === process.pid) {
        throw new ExtraInputError(`${what} is already being written by this command (${file})`);
      }
      await fsp.rm(file, { force: true }); // stale: its writer is gone
    }
  }
  try {
    return await fn();
  } catch (e) {
    await fsp.rm(file, { force: true }).catch(() => undefined);
    await removeMade();
    throw e;
  } finally {
    await fsp.rm(file, { force: true }).catch(() => undefined);
  }
}

/** A lock left by a writer that is gone (or an empty one a full disk left, older than a minute). */
export async function isStaleLock(file: string): Promise<boolean> {
  const holder = await readHolder(file);
  if (holder) return holder.pid !== process.pid && !alive(holder.pid);
  const st = await fsp.stat(file).catch(() => null);
  return st !== null && st.isFile() && Date.now() - st.mtimeMs > 60_000;
}

async function readHolder(file: string): Promise<{ pid: number; since: string } | null> {
  try {
    const v = JSON.parse(await fsp.readFile(file, 'utf8')) as { pid?: unknown; since?: unknown };
    return Number.isSafeInteger(v.pid) && (v.pid as number) > 0 ? { pid: v.pid as number, since: String(v.since ?? '?') } : null;
  } catch {
    return null; // torn or foreign: treated as stale
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
