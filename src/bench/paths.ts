import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: two folders above this file (src/bench or dist/bench). */
export const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The CLI launcher, for benchmarks that time whole processes. */
export const extraBin = path.join(packageRoot, 'bin', 'extra.js');

/** A comparison script that stays a script (the PyTorch twins in scripts/*.py). */
export function scriptFile(name: string): string {
  return path.join(packageRoot, 'scripts', name);
}
