import type { Io } from '../context.js';

/** Parsed flags of a benchmark (read them with optNumber / optString of ../args.js). */
export type BenchFlags = Record<string, string | boolean | string[] | undefined>;

/**
 * One benchmark of `extra bench NAME` (a line of the table in ./index.ts): its flags by name, its help,
 * and a front end that reads the parsed flags, calls the measurement code in src/bench and prints.
 */
export interface BenchmarkEntry {
  /** one line of `extra bench --help` */
  summary: string;
  /** `extra bench NAME --help` */
  help: string;
  /** flags that take a value and switches (flagTable); --help is always there */
  flags: { values?: readonly string[]; switches?: readonly string[] };
  run: (v: BenchFlags, io: Io) => Promise<number>;
}
