#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run automatically on install).
import { main } from '../dist/cli/main.js';
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`extra: internal error: ${err?.stack ?? err}`); process.exitCode = 1; },
);
