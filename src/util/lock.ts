import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';

/**
 * One writer per artifact: `withLock(dir, fn)` holds `dir/.lock` (created exclusively, holding the
 * writer's PID) while fn runs. A lock whose PID is no longer running is stale (a crash or a SIGKILL)
 * and is taken over. Hand-written rather than proper-lockfile: the refusal must name the PID that
 * holds the lock, and staleness is decided by that PID's liveness, not by mtime refresh timers.
 */
export async function withLock<T>(dir: string, what: string, fn: () => Promise<T>): Promise<T> {
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, '.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await fsp.open(file, 'wx');
      await fh.writeFile(JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
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
  } finally {
    await fsp.rm(file, { force: true });
  }
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
