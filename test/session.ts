import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * vitest's global setup: nothing to set up; at the end of the session, the session's shared tiny run
 * (test/fixtures.ts) and its lock are removed.
 */
export default function session(): () => void {
  return () => {
    const shared = path.join(tmpdir(), `extra-tiny-run-${process.env.EXTRA_TEST_SESSION ?? ''}`);
    if (!process.env.EXTRA_TEST_SESSION) return;
    rmSync(shared, { recursive: true, force: true });
    rmSync(`${shared}.lock`, { force: true });
  };
}
