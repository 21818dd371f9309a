import { mkdirSync, rmdirSync, existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { ExtraInputError } from '../errors.js';

/**
 * The one place that turns a system error (a full disk, a read-only folder, a directory where a file
 * should be, a path or a host the user gave...) into the one-line message of a bad input. The CLI
 * prints it (exit 2), the explorer answers it (4xx, or 507 for a full disk), and the run store's
 * writers throw it as a `SystemFileError` naming the file they were writing. Anything else stays an
 * internal error.
 */
const reasons: Record<string, string> = {
  EEXIST: 'already exists (and is not a directory extra can use)',
  ENOTDIR: 'is not a directory (or lies under a file)',
  EISDIR: 'is a directory where a file is needed',
  EACCES: 'is not accessible (permission denied)',
  EPERM: 'is not permitted',
  EROFS: 'is read-only (on a read-only file system)',
  ENOENT: 'does not exist',
  ENOSPC: 'could not be written: the disk is full',
  EDQUOT: 'could not be written: the disk quota is used up',
  EFBIG: 'could not be written: the file is too large for this file system',
  ENAMETOOLONG: 'is too long a name',
  ELOOP: 'has too many symbolic links (a symlink loop)',
  EMFILE: 'could not be opened: too many open files (raise ulimit -n)',
  ENFILE: 'could not be opened: too many open files on this machine',
  ENOTFOUND: 'does not resolve (unknown host)',
  EAI_AGAIN: 'could not be resolved (DNS unavailable)',
  EADDRINUSE: 'is already in use',
  EADDRNOTAVAIL: 'is not an address of this machine',
};

/** Calls that write: EACCES from one of these means the place is read-only for this user. */
const WRITE_CALLS = new Set(['open', 'mkdir', 'rename', 'unlink', 'rmdir', 'write', 'copyfile', 'symlink', 'link', 'utime', 'chmod', 'ftruncate', 'fsync']);

type SysErr = NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number; dest?: string };

/** The error code of a system error extra can explain, or null. */
export function systemErrorCode(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  const code = (e as SysErr).code;
  return typeof code === 'string' && code in reasons ? code : null;
}

/**
 * The one-line message for a system error, naming its path (or `where`, the file being written when
 * the error itself names none, as a failed `write` does); null for anything that is not one.
 */
export function describeSystemError(e: unknown, where?: string): string | null {
  if (e instanceof SystemFileError) return e.message;
  const real = realMkdirError(e);
  if (real !== e) return describeSystemError(real, where);
  const code = systemErrorCode(e);
  if (!code) return null;
  const err = e as SysErr;
  const subject = err.hostname ?? (err.address !== undefined ? `${err.address}${err.port !== undefined ? `:${err.port}` : ''}` : undefined) ?? err.dest ?? err.path ?? where;
  const call = `${code}${err.syscall ? ` in ${err.syscall}` : ''}`;
  if (code === 'ENOSPC' || code === 'EDQUOT') return `the disk is full${code === 'EDQUOT' ? ' (quota)' : ''}: could not write ${subject ?? 'a file'} (${call}); free some space and run the command again (what was there before is kept)`;
  if (!subject) return code === 'EMFILE' || code === 'ENFILE' ? `a file ${reasons[code]} (${call})` : null;
  const dangling = (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EEXIST') && typeof subject === 'string' ? danglingLink(subject) : null;
  if (dangling) return `${dangling} is a symbolic link to ${dangling === subject ? 'something that does not exist' : 'something that does not exist, so ' + subject + ' cannot be made'} (${call})`;
  if (code === 'EACCES' && err.syscall && WRITE_CALLS.has(err.syscall)) return `${subject} is read-only for this user (permission denied, ${call})`;
  if (code === 'EROFS') return `${subject} is read-only (a read-only file system: ${call})`;
  return `${subject} ${reasons[code]} (${call})`;
}

/** `p` or the first of its folders that is a symbolic link to nothing, or null. */
function danglingLink(p: string): string | null {
  const parts: string[] = [];
  for (let d = path.resolve(p); path.dirname(d) !== d; d = path.dirname(d)) parts.unshift(d);
  for (const d of parts) {
    try {
      if (lstatSync(d).isSymbolicLink() && !existsSync(d)) return d;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Node's recursive mkdir says ENOENT when a directory cannot be made for another reason (a read-only
 * file system, a permission): make the outermost missing directory alone to learn the real one.
 */
function realMkdirError(e: unknown): unknown {
  const err = e as SysErr;
  if (!(e instanceof Error) || err.code !== 'ENOENT' || err.syscall !== 'mkdir' || !err.path) return e;
  let missing = path.resolve(err.path);
  while (path.dirname(missing) !== missing && !existsSync(path.dirname(missing))) missing = path.dirname(missing);
  try {
    mkdirSync(missing);
    rmdirSync(missing); // it could be made after all (a race): the original error stands
    return e;
  } catch (again) {
    return (again as SysErr).code && (again as SysErr).code !== 'ENOENT' ? again : e;
  }
}

/** A system error explained: a bad input (exit 2) that keeps its code (the explorer answers 507 for a full disk). */
export class SystemFileError extends ExtraInputError {
  constructor(message: string, readonly errno: string) {
    super(message, errno);
  }
  /** The HTTP status the explorer answers with: 507 for a full disk, 403 for a read-only place, else 409. */
  get httpStatus(): number {
    return this.errno === 'ENOSPC' || this.errno === 'EDQUOT' || this.errno === 'EFBIG' ? 507 : this.errno === 'EROFS' || this.errno === 'EACCES' || this.errno === 'EPERM' ? 403 : 409;
  }
}

/** `e` as a SystemFileError when it is a system error extra can explain (writing `where`), else `e` itself. */
export function explainSystemError(e: unknown, where?: string): unknown {
  if (e instanceof SystemFileError) return e;
  const said = describeSystemError(e, where);
  return said ? new SystemFileError(said, systemErrorCode(e)!) : e;
}

/** Run `fn` (which writes `where`); a system error it throws comes back explained. */
export async function explainingErrors<T>(where: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw explainSystemError(e, where);
  }
}
