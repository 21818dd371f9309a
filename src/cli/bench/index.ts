import { ExtraInputError } from '../../errors.js';
import { flagTable, parseFlags } from '../args.js';
import { stdio, type Io } from '../context.js';
import type { BenchmarkEntry } from './entry.js';
import { frontBench } from './front.js';
import { kernelsBench } from './kernels.js';
import { trainBench } from './train.js';
import { curvesBench } from './curves.js';
import { groupingBench } from './grouping.js';
import { groupsFrontBench } from './groups-front.js';
import { queueBench } from './queue.js';
import { publishedBench } from './published.js';
import { tuneBench } from './tune.js';
import { denseBench } from './dense.js';

/** The benchmarks of `extra bench NAME`: one file each (its front end here, its measurement in src/bench). */
export const benchmarks: Record<string, BenchmarkEntry> = {
  front: frontBench,
  kernels: kernelsBench,
  train: trainBench,
  curves: curvesBench,
  grouping: groupingBench,
  'groups-front': groupsFrontBench,
  queue: queueBench,
  published: publishedBench,
  tune: tuneBench,
  dense: denseBench,
};

export function benchHelp(): string {
  const rows = Object.entries(benchmarks).map(([n, b]) => `  ${n.padEnd(13)} ${b.summary}`);
  return `usage: extra bench NAME [options]      (extra bench NAME --help for its options;
       npm run bench -- NAME [options] is the same)

${rows.join('\n')}

Each prints what it ran on (one JSON line), then its results as JSON lines and markdown tables (reports/*.md).`;
}

export async function benchCommand(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.out(benchHelp());
    return 0;
  }
  const entry = Object.hasOwn(benchmarks, name) ? benchmarks[name] : undefined;
  if (!entry) throw new ExtraInputError(`bench: unknown benchmark '${name}' (known: ${Object.keys(benchmarks).join(', ')})`);
  const { values, positionals } = parseFlags(`bench ${name}`, rest, flagTable(entry.flags));
  if (values.help) {
    io.out(entry.help);
    return 0;
  }
  if (positionals.length) throw new ExtraInputError(`bench ${name}: unexpected argument '${positionals[0]}'`);
  return entry.run(values, io);
}
