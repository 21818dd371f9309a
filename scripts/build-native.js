#!/usr/bin/env node
// Builds the optional native kernels (native/*.cc → build/Release/extra_kernels.node) with node-gyp
// at `npm install`. Never fails the install: where the build cannot run (no compiler, no Node headers,
// another OS), it records why in build/native-build.json, says so in one line, and extra uses its
// WebAssembly kernels. EXTRA_NATIVE_BUILD=0 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const buildDir = path.join(root, 'build');
const record = (ok, reason) => {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(path.join(buildDir, 'native-build.json'), JSON.stringify(ok ? { ok } : { ok, reason }) + '\n');
};
const giveUp = (reason) => {
  rmSync(path.join(buildDir, 'Release', 'extra_kernels.node'), { force: true });
  record(false, reason);
  process.stderr.write(`extra: native kernels not built (${reason}); the WebAssembly kernels will be used\n`);
  process.exit(0);
};

if (process.env.EXTRA_NATIVE_BUILD === '0') giveUp('skipped: EXTRA_NATIVE_BUILD=0');

// npm hands its own node-gyp to install scripts; otherwise look beside this Node's npm
const prefix = path.dirname(path.dirname(process.execPath));
const gyp = [process.env.npm_config_node_gyp, path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find(
  (f) => f && existsSync(f),
);
if (!gyp) giveUp('node-gyp not found');
// Node's own headers (no download): npm's nodedir setting, else the headers installed beside node
const nodedir = process.env.npm_config_nodedir || (existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
const args = [gyp, 'rebuild', '--loglevel=error', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 600_000 });
if (r.error || r.status !== 0) {
  const lines = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('gyp info'));
  const why = r.error ? r.error.message : (lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? `node-gyp exited with ${r.status}`);
  giveUp(why.slice(0, 300));
}
if (!existsSync(path.join(buildDir, 'Release', 'extra_kernels.node'))) giveUp('node-gyp finished without build/Release/extra_kernels.node');
record(true);
