import { defineConfig } from 'vitest/config';
import SlowestFirst from './test/slowest-first.js';

// one name per test session, inherited by the test files' processes: what they share is made once per session (test/fixtures.ts)
process.env.EXTRA_TEST_SESSION ??= `${process.pid}-${Date.now()}`;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // removes what the session's test files shared (test/session.ts)
    globalSetup: ['./test/session.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs backends are process-global; one file per worker process keeps them isolated.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    // the longest files first, so that the two workers end together (test/slowest-first.ts)
    sequence: { sequencer: SlowestFirst },
  },
});
