import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** The ```js block after the library-example marker in README.md, exactly as a reader copies it. */
function readmeExample(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- library-example[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README.md has no library-example block');
  return m[1];
}

describe('README library example', () => {
  it('is at most 15 lines and imports the package by its name', () => {
    const code = readmeExample();
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(15);
    expect(code).toContain("from 'extra-mtl'");
  });

  it('runs as written: trains, fits, profiles, queries and exports through the package entry point', () => {
    // the script lives inside the package so that 'extra-mtl' resolves to it (package self-reference
    // through package.json "exports"); it runs in an empty directory, so its relative paths land there
    const dir = path.join(ROOT, 'test-output');
    mkdirSync(dir, { recursive: true });
    const script = path.join(dir, 'readme-example.mjs');
    writeFileSync(script, readmeExample());
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'extra-readme-'));
    try {
      const r = spawnSync(process.execPath, [script], { cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, EXTRA_BACKEND: 'wasm' } });
      expect(r.status, r.stderr).toBe(0);
      const hv = /test-loss HV: curve (\d\.\d{4}) vs endpoints (\d\.\d{4})/.exec(r.stdout);
      expect(hv, r.stdout).not.toBeNull();
      expect(Number(hv![1])).toBeGreaterThanOrEqual(Number(hv![2]) - 1e-9); // the curve contains its endpoints
      const t = /preference \(0\.3, 0\.7\) → t = (\d\.\d{4})/.exec(r.stdout);
      expect(t, r.stdout).not.toBeNull();
      expect(existsSync(path.join(cwd, 'runs/lib/profile.json'))).toBe(true);
      const model = JSON.parse(readFileSync(path.join(cwd, 'model-0.3/model.json'), 'utf8')) as { userDefinedMetadata: { extra: { curvePoint: { t: number } } } };
      expect(model.userDefinedMetadata.extra.curvePoint.t.toFixed(4)).toBe(t![1]);
      expect(existsSync(path.join(cwd, 'model-0.3/weights.bin'))).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 300_000);
});
