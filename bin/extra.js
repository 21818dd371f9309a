#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run automatically on install).
import v8 from 'node:v8';

// Compile WebAssembly (tfjs-wasm and our SIMD kernels) with the optimizing compiler from the start:
// V8's baseline code runs these kernels several times slower until tier-up, which is most of a short
// command such as `extra query` (measured: 2.15 s → 1.81 s). Must run before any module is compiled.
v8.setFlagsFromString('--no-liftoff');

const { main } = await import('../dist/cli/main.js');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`extra: internal error: ${err?.stack ?? err}`); process.exitCode = 1; },
);
