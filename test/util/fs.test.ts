import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { removeStaleTemps } from '../../src/util/fs.js';
import { readRun } from '../../src/run/index.js';

describe('stale temporary files of killed atomic writes', () => {
  it('removes only our temp files whose writer is dead, also in sub-directories, when a run opens', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'extra-tmp-'));
    // the pid of a process that has exited
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    mkdirSync(path.join(dir, 'curve'));
    const files = {
      deadTop: path.join(dir, `run.json.${dead}.0a1b2c3d.tmp`),
      deadSub: path.join(dir, 'curve', `controls.safetensors.${dead}.deadbeef.tmp`),
      live: path.join(dir, `profile.json.${process.pid}.01234567.tmp`),
      foreign: path.join(dir, 'notes.tmp'),
      alsoForeign: path.join(dir, `data.${dead}.xyz.tmp`),
    };
    for (const f of Object.values(files)) writeFileSync(f, 'x');
    const spec = { arch: 'mlp-mtl', inputShape: [4], hidden: [2], numClasses: [2, 2], taskNames: ['a', 'b'] };
    const info = { format: 'extra-run', version: 1, created: 'now', dataset: { name: 'x', seed: 0, fingerprint: 'f', taskNames: ['a', 'b'], numClasses: [2, 2], inputShape: [4] }, model: spec, seed: 0, backend: 'cpu', packages: {} };
    writeFileSync(path.join(dir, 'run.json'), JSON.stringify(info));
    await readRun(dir);
    expect(existsSync(files.deadTop)).toBe(false);
    expect(existsSync(files.deadSub)).toBe(false);
    expect(existsSync(files.live)).toBe(true);
    expect(existsSync(files.foreign)).toBe(true);
    expect(existsSync(files.alsoForeign)).toBe(true);
    expect(await removeStaleTemps(dir)).toBe(0);
  });
});
