#!/usr/bin/env node
// Benchmark dispatcher: `npm run bench <name> [-- args]` runs scripts/bench-<name>.js (built code in dist/).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const known = readdirSync(here)
  .filter((f) => /^bench-.*\.js$/.test(f) && !/-(core|worker)\.js$/.test(f))
  .map((f) => f.slice(6, -3));
const [name, ...rest] = process.argv.slice(2);
if (!name || !known.includes(name)) {
  console.error(`usage: npm run bench -- <${known.join('|')}> [options]${name ? ` (unknown benchmark '${name}')` : ''}`);
  process.exit(2);
}
if (!existsSync(path.join(here, '..', 'dist', 'index.js')) && !existsSync(path.join(here, '..', 'dist', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
process.argv = [process.argv[0], path.join(here, `bench-${name}.js`), ...rest];
await import(pathToFileURL(path.join(here, `bench-${name}.js`)).href);
