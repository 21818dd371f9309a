import { statSync } from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, longest first (seconds on the 2-core CI machine, each file alone; a rough
 * guide, update it when a file's time changes a lot). vitest's own order needs its duration cache, which a clean
 * clone does not have: it would start the files by size, and a long file started last keeps one worker
 * busy after the other has finished. Longest first lets the two workers end together.
 */
export const slowFiles: Record<string, number> = {
  'test/cli/round-trip.test.ts': 63,
  'test/reliability/machine-faults.test.ts': 55,
  'test/cli/demo.test.ts': 53,
  'test/cli/cli.test.ts': 50,
  'test/queue/queue.test.ts': 43,
  'test/cli/reliability.test.ts': 43,
  'test/cli/run-files.test.ts': 42,
  'test/bench/front.test.ts': 32,
  'test/reliability/files.test.ts': 30,
  'test/reliability/isa-bits.test.ts': 29,
  'test/cli/onnx-zoo.test.ts': 28,
  'test/cli/dense.test.ts': 17,
  'test/server/server.test.ts': 17,
};

export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (f: TestSpecification) => slowFiles[path.relative(this.ctx.config.root, f.moduleId).split(path.sep).join('/')] ?? 0;
    // the others by size, larger first (what vitest does without its cache), whatever the cache says
    const size = (f: TestSpecification) => statSync(f.moduleId).size;
    return [...files].sort((a, b) => seconds(b) - seconds(a) || size(b) - size(a) || (a.moduleId < b.moduleId ? -1 : 1));
  }
}
