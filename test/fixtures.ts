import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { cpSync, existsSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const cacheDir = mkdtempSync(path.join(tmpdir(), 'extra-test-cache-'));

/** Run the built CLI (dist/) with a private data cache and the wasm backend. */
export function extra(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [path.resolve('bin/extra.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, EXTRA_CACHE_DIR: cacheDir, EXTRA_BACKEND: 'wasm', ...env },
    timeout: 300_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export const tinyData = ['--train-size', '512', '--val-size', '128', '--test-size', '128'];

/**
 * A small but complete run: two endpoints, a fitted NURBS curve, a 5-point profile. One worker thread
 * per command: the tests that use it look at the run, not at how it was made (the default of one
 * thread per core is tested by the pipeline in test/cli/cli.test.ts), and with the suite's two test
 * files on two cores a second thread only adds its start-up.
 *
 * Each caller gets its own copy of one run made once per test session (vitest.config.ts names the
 * session for the test files it starts): ten files made the same run, three commands each.
 */
export function makeTinyRun(prefix = 'extra-run-'): string {
  const run = mkdtempSync(path.join(tmpdir(), prefix));
  cpSync(tinyRunOfSession(), run, { recursive: true });
  return run;
}

function buildTinyRun(run: string): void {
  const steps: string[][] = [
    ['train', '--run', run, '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '1', '--batch-size', '64', '--workers', '1', ...tinyData],
    ['curve', 'fit', '--run', run, '--epochs', '1', '--batch-size', '64', '--eval-points', '0', '--threads', '1'],
    ['curve', 'eval', '--run', run, '--points', '5', '--threads', '1'],
  ];
  for (const s of steps) {
    const r = extra(s);
    if (r.code !== 0) throw new Error(`extra ${s.join(' ')} failed: ${r.err}`);
  }
}

/**
 * The session's tiny run: the first test file to ask builds it (an exclusive lock file), the others
 * wait for it; one that waits in vain (a builder that died) builds its own.
 */
function tinyRunOfSession(): string {
  const shared = path.join(tmpdir(), `extra-tiny-run-${process.env.EXTRA_TEST_SESSION ?? `ppid-${process.ppid}`}`);
  if (existsSync(shared)) return shared;
  let builder = false;
  try {
    writeFileSync(`${shared}.lock`, String(process.pid), { flag: 'wx' });
    builder = true;
  } catch {
    // another file of this session builds it
  }
  if (builder) {
    const partial = mkdtempSync(`${shared}-building-`);
    buildTinyRun(partial);
    // complete or absent: the rename is atomic
    renameSync(partial, shared);
    return shared;
  }
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < 240_000 && !existsSync(shared); waited += 250) Atomics.wait(sleeper, 0, 0, 250);
  if (existsSync(shared)) return shared;
  const own = mkdtempSync(path.join(tmpdir(), 'extra-tiny-run-own-'));
  buildTinyRun(own);
  return own;
}

/** Exit 2 with one line on stderr (progress lines, which start with '[', aside) matching `what`. */
export function refused(args: string[], what: RegExp): string {
  const r = extra(args);
  const lines = r.err.trim().split('\n').filter((l) => l.trim() && !l.startsWith('['));
  expect(r.code, `extra ${args.join(' ')}\n${r.err}`).toBe(2);
  expect(lines.length, r.err).toBe(1);
  expect(lines[0]).toMatch(what);
  expect(r.err).not.toMatch(/internal error|    at /);
  return lines[0];
}

