import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, lstatSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { extra } from '../fixtures.js';

/**
 * Faults of the machine made for real: a small tmpfs (a full disk) and a read-only bind mount. Both
 * need root (CAP_SYS_ADMIN); where mounting is not possible the tests that need it are skipped, and
 * `mountSkipReason` says why.
 */
function probeMount(): string | null {
  if (process.platform !== 'linux') return 'mounting a tmpfs needs Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = mkdtempSync(path.join(tmpdir(), 'extra-mount-probe-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `mount -t tmpfs failed here (${(r.stderr || r.error?.message || '').trim()})`;
  }
  spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  return null;
}

export const mountSkipReason = probeMount();

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** Mount a tmpfs of `size` (e.g. '8m') at `dir`. */
export function mountTmpfs(dir: string, size: string): void {
  run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

/** `dir` seen read-only at `at` (a bind mount remounted ro). */
export function bindReadOnly(dir: string, at: string): void {
  run('mount', ['--bind', dir, at]);
  run('mount', ['-o', 'remount,ro,bind', at]);
}

export function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

/** Fill the file system of `dir` with one file, then give back `freeKiB`. */
export function fillDisk(dir: string, freeKiB: number): string {
  const filler = path.join(dir, 'filler');
  spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { encoding: 'utf8' });
  if (freeKiB > 0) spawnSync('truncate', ['-s', `-${freeKiB}K`, filler]);
  return filler;
}

/** Every entry under `dir` (files by sha256, directories, links by target), relative paths. */
export function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      const rel = path.relative(dir, full);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out.set(rel, 'link');
      else if (st.isDirectory()) {
        out.set(rel + '/', readdirSync(full).length ? 'dir' : 'empty dir');
        walk(full);
      } else out.set(rel, createHash('sha256').update(readFileSync(full)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

/** What a failed command may leave: never temporary files, locks, half pairs or empty folders. */
export function expectNoLeftovers(dir: string, what: string): void {
  for (const [rel, kind] of tree(dir)) {
    expect(rel, `${what}: left ${rel}`).not.toMatch(/\.tmp(\.old)?\/?$|(^|\/)\.lock$|\.next\.(json|safetensors)$/);
    expect(kind, `${what}: left an empty folder ${rel}`).not.toBe('empty dir');
  }
}

/** Files that were there before are all still there, byte for byte (training state that --resume continues aside). */
export function expectKept(before: Map<string, string>, dir: string, what: string, resumable = /(checkpoint\.safetensors|train\.jsonl)$/): void {
  const now = tree(dir);
  for (const [rel, hash] of before) {
    if (resumable.test(rel)) {
      expect(now.has(rel), `${what}: ${rel} is gone`).toBe(true);
      continue;
    }
    expect(now.get(rel), `${what}: ${rel} changed or is gone`).toBe(hash);
  }
}

export interface Outcome {
  code: number | null;
  line: string;
}

/** Run the CLI; the one line it says on failure (progress lines, which start with '[', aside). */
export function attempt(args: string[], env: Record<string, string> = {}): Outcome {
  const r = extra(args, env);
  const lines = r.err.trim().split('\n').filter((l) => l.trim() && !l.startsWith('['));
  if (r.code !== 0) {
    expect(r.err, `extra ${args.join(' ')}`).not.toMatch(/internal error|    at /);
    expect(lines.length, `extra ${args.join(' ')}: ${r.err}`).toBe(1);
  }
  return { code: r.code, line: r.code === 0 ? '' : lines[0] };
}

/**
 * Every command on a run, as the reopen check runs them (each must succeed). One worker thread each:
 * the check is that the run reopens, and with the suite's two test files on two cores a second thread
 * per command only adds its start-up.
 */
export function reopenCommands(run: string, out: string): string[][] {
  return [
    ['query', '--run', run, '--pref', '0.5,0.5', '--json'],
    ['curve', 'eval', '--run', run, '--points', '3', '--threads', '1', '--quiet'],
    ['export', '--run', run, '--pref', '0.5,0.5', '--format', 'tfjs', '--out', path.join(out, 'tfjs')],
    ['export', '--run', run, '--pref', '0.5,0.5', '--format', 'safetensors', '--out', path.join(out, 'st')],
    ['export', '--run', run, '--pref', '0.5,0.5', '--format', 'onnx', '--out', path.join(out, 'onnx')],
    ['plane', '--run', run, '--grid', '3', '--threads', '1', '--quiet'],
    ['report', '--run', run, '--no-png'],
    ['query', '--run', run, '--pref', '0.5,0.5', '--tune', '2', '--quiet'],
    ['curve', 'fit', '--run', run, '--epochs', '1', '--batch-size', '64', '--eval-points', '0', '--threads', '1', '--quiet'],
    ['train', '--run', run, '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '1', '--batch-size', '64', '--resume', '--workers', '1', '--quiet'],
  ];
}

export function expectReopens(run: string, out: string): void {
  for (const args of reopenCommands(run, out)) {
    const r = extra(args);
    expect(r.code, `extra ${args.join(' ')}\n${r.err}`).toBe(0);
  }
}
