import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, mkdirSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTinyRun } from '../fixtures.js';
import { attempt, bindReadOnly, expectKept, expectNoLeftovers, expectReopens, fillDisk, mountSkipReason, mountTmpfs, tree, unmount } from './helpers.js';

/**
 * A full disk and a read-only run folder, for real: every command that writes ends in exit 2 with one
 * line saying so and where, leaves no temporary file, lock, half pair or empty folder, and keeps every
 * complete file from before; afterwards the run reopens with every command.
 */

/** The commands that write, on a run at `run`, with outputs under `out` and a tfjs model to import. */
function writers(run: string, out: string, endpoint: string): [string, string[]][] {
  return [
    ['train (a new preference)', ['train', '--run', run, '--pref', '0.5,0.5', '--epochs', '1', '--batch-size', '64', '--quiet']],
    ['train --resume', ['train', '--run', run, '--pref', '0.8,0.2', '--pref', '0.2,0.8', '--epochs', '2', '--batch-size', '64', '--resume', '--quiet']],
    ['import', ['import', '--run', run, '--endpoint', `again=${endpoint}`, '--quiet']],
    ['curve fit', ['curve', 'fit', '--run', run, '--epochs', '1', '--batch-size', '64', '--eval-points', '0', '--quiet']],
    ['curve eval', ['curve', 'eval', '--run', run, '--points', '5', '--quiet']],
    ['plane', ['plane', '--run', run, '--grid', '3', '--quiet']],
    ['report', ['report', '--run', run, '--no-png']],
    ['export tfjs', ['export', '--run', run, '--pref', '0.5,0.5', '--format', 'tfjs', '--out', path.join(out, 'tfjs')]],
    ['export safetensors', ['export', '--run', run, '--pref', '0.5,0.5', '--format', 'safetensors', '--out', path.join(out, 'st')]],
    ['export onnx', ['export', '--run', run, '--pref', '0.5,0.5', '--format', 'onnx', '--out', path.join(out, 'onnx')]],
    ['query --tune', ['query', '--run', run, '--pref', '0.5,0.5', '--tune', '2', '--quiet']],
    ['export --tune', ['export', '--run', run, '--pref', '0.5,0.5', '--tune', '2', '--format', 'tfjs', '--out', path.join(out, 'tuned')]],
  ];
}

describe.skipIf(mountSkipReason !== null)(`a full disk and a read-only run folder${mountSkipReason ? ` (skipped: ${mountSkipReason})` : ''}`, () => {
  let base: string;
  let root: string;
  const mounts: string[] = [];
  beforeAll(() => {
    base = makeTinyRun('extra-faults-base-');
    root = mkdtempSync(path.join(tmpdir(), 'extra-faults-'));
  }, 300_000);
  afterAll(() => {
    for (const m of mounts.reverse()) unmount(m);
    if (root) rmSync(root, { recursive: true, force: true });
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('a full disk: exit 2 "the disk is full" naming the file, nothing half-written, everything from before kept; then the run reopens', () => {
    const disk = path.join(root, 'disk');
    mkdirSync(disk);
    // 16 MiB: the run (about 2.5 MiB) and, once freed, a report (plotly.js is 9.6 MiB)
    mountTmpfs(disk, '16m');
    mounts.push(disk);
    const run = path.join(disk, 'run');
    const out = path.join(disk, 'out');
    const endpoint = path.join(base, 'endpoints', readdirSync(path.join(base, 'endpoints'))[0]);
    let refusedAtSome = 0;
    // nothing free at all, and a little (the lock and small files fit, the checkpoints do not)
    for (const free of [0, 300]) {
      // with nothing free every writer is tried; with a little free, every other one (the suite's time)
      for (const [what, args] of writers(run, out, endpoint).filter((_, i) => free === 0 || i % 2 === 0)) {
        for (const name of readdirSync(disk)) rmSync(path.join(disk, name), { recursive: true, force: true });
        cpSync(base, run, { recursive: true });
        fillDisk(disk, free);
        const before = tree(run);
        const r = attempt(args);
        const label = `${what} with ${free} KiB free`;
        if (free === 0) expect(r.code, label).toBe(2);
        if (r.code !== 0) {
          expect(r.line, label).toMatch(/the disk is full: .*(could not write \/|needs)/);
          expectKept(before, run, label);
          refusedAtSome++;
        }
        expectNoLeftovers(disk, label);
      }
    }
    expect(refusedAtSome).toBeGreaterThan(writers(run, out, endpoint).length);
    // space again: the run of the last attempt reopens with every command, on the same disk
    rmSync(path.join(disk, 'filler'), { force: true });
    expectReopens(run, out);
    expectNoLeftovers(disk, 'the reopen');
  }, 900_000);

  it('a read-only run folder: exit 2 "… is read-only" for every command that writes into it, nothing changed; reading commands still work', () => {
    const src = path.join(root, 'ro-src');
    const ro = path.join(root, 'ro');
    cpSync(base, src, { recursive: true });
    mkdirSync(ro);
    bindReadOnly(src, ro);
    mounts.push(ro);
    const before = tree(src);
    const writable = path.join(root, 'writable-out');
    const endpoint = path.join(base, 'endpoints', readdirSync(path.join(base, 'endpoints'))[0]);
    for (const [what, args] of writers(ro, path.join(ro, 'out'), endpoint)) {
      const r = attempt(args);
      expect(r.code, what).toBe(2);
      expect(r.line, what).toMatch(/is read-only|read-only file system/);
      expect(r.line, what).not.toMatch(/does not exist|ENOENT/);
    }
    // reading the run is fine, and an export from it into a writable folder too
    expect(attempt(['query', '--run', ro, '--pref', '0.5,0.5']).code).toBe(0);
    expect(attempt(['export', '--run', ro, '--pref', '0.5,0.5', '--format', 'safetensors', '--out', writable]).code).toBe(0);
    expect(existsSync(path.join(writable, 'model.safetensors'))).toBe(true);
    unmount(ro);
    mounts.pop();
    expect(tree(src)).toEqual(before);
    // and the same run, writable again, reopens with every command
    expectReopens(src, path.join(root, 'ro-out'));
  }, 600_000);
});
