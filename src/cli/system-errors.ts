/**
 * File-system and network errors that come from the user's paths or hosts (an --out that is a file,
 * a --data-dir that is not a directory, a --host that does not resolve, a port in use...), turned into
 * the one-line message of a bad input. Anything else stays an internal error.
 */
const reasons: Record<string, string> = {
  EEXIST: 'already exists (and is not a directory extra can use)',
  ENOTDIR: 'is not a directory (or lies under a file)',
  EISDIR: 'is a directory where a file is needed',
  EACCES: 'is not accessible (permission denied)',
  EPERM: 'is not permitted',
  EROFS: 'is on a read-only file system',
  ENOENT: 'does not exist',
  ENOSPC: 'is on a full disk',
  ENAMETOOLONG: 'is too long a name',
  ELOOP: 'has too many symbolic links',
  ENOTFOUND: 'does not resolve (unknown host)',
  EAI_AGAIN: 'could not be resolved (DNS unavailable)',
  EADDRINUSE: 'is already in use',
  EADDRNOTAVAIL: 'is not an address of this machine',
};

export function describeSystemError(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  const err = e as NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number; dest?: string };
  const code = err.code;
  if (!code || !(code in reasons)) return null;
  const subject = err.hostname ?? (err.address !== undefined ? `${err.address}${err.port !== undefined ? `:${err.port}` : ''}` : undefined) ?? err.dest ?? err.path;
  if (!subject) return null;
  return `${subject} ${reasons[code]} (${code}${err.syscall ? ` in ${err.syscall}` : ''})`;
}
