import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ExtraInputError } from '../errors.js';
import { DECIMAL } from '../util/number.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** A value that starts with '-' but is a number or a list of numbers ('-1', '-0.5,2', '-.5', '-inf'). */
const NEGATIVE_VALUE = /^-(\d|\.\d|inf)/i;

/**
 * parseArgs reads `--lr -1` as a flag without its value followed by an unknown option ('ambiguous'),
 * which hides the real problem; a negative number after a flag that takes a value is that value, so the
 * flag's own check says what is wrong with it ('--lr must be positive', 'entry 1 is negative').
 */
function attachNegativeValues(argv: string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    const long = a.startsWith('--') && !a.includes('=') && Object.hasOwn(options, a.slice(2)) ? options[a.slice(2)] : undefined;
    const short = /^-[^-]$/.test(a) ? Object.values(options).find((o) => o.short === a[1]) : undefined;
    if ((long ?? short)?.type === 'string' && next !== undefined && NEGATIVE_VALUE.test(next)) {
      out.push(long ? `${a}=${next}` : a + next);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * The first flag that takes one value but was given twice (parseArgs silently keeps the last one, so
 * `export --t 0.1 --t 0.9` would export a point the user may not have meant). Flags declared
 * `multiple` (train --pref) and repeated booleans are fine.
 */
function repeatedSingleFlag(tokens: ReadonlyArray<{ kind: string; name?: string }>, options: OptionSpec): string | null {
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name === undefined) continue;
    const o = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
    if (!o || o.type !== 'string' || o.multiple) continue;
    if (seen.has(t.name)) return t.name;
    seen.add(t.name);
  }
  return null;
}

/**
 * Strict flag parsing on node:util's parseArgs: unknown flags and missing values become one-line
 * ExtraInputErrors (exit 2) that name the flag.
 */
export function parseFlags(
  command: string,
  argv: string[],
  options: OptionSpec,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: attachNegativeValues(argv, options), options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true, tokens: true });
    const twice = repeatedSingleFlag(r.tokens, options);
    if (twice) throw new ExtraInputError(`${command}: --${twice} given more than once (it takes one value)`);
    return { values: r.values as Record<string, string | boolean | string[] | undefined>, positionals: r.positionals };
  } catch (e) {
    if (e instanceof ExtraInputError) throw e;
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
    throw new ExtraInputError(`${command}: ${msg}`);
  }
}

/**
 * A command's flag table from names alone: flags that take one value, flags that take several
 * (repeated: `--pref a --pref b`), and switches (no value). Every value is a string, parsed by the
 * command with optNumber / optString.
 */
export function flagTable(spec: { values?: readonly string[]; lists?: readonly string[]; switches?: readonly string[] }): OptionSpec {
  const table: OptionSpec = {};
  for (const n of spec.values ?? []) table[n] = { type: 'string' };
  for (const n of spec.lists ?? []) table[n] = { type: 'string', multiple: true };
  for (const n of spec.switches ?? []) table[n] = { type: 'boolean' };
  return table;
}

export function optString(v: Record<string, unknown>, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

export function reqString(command: string, v: Record<string, unknown>, name: string): string {
  const x = optString(v, name);
  if (x === undefined || x === '') throw new ExtraInputError(`${command}: --${name} is required`);
  return x;
}

/**
 * Upper bounds of the numeric flags, one table for every command (a flag's own `max` wins): beyond
 * them a run would not finish or would exhaust memory before it could say so.
 */
const flagMax: Record<string, number> = {
  controls: 64,
  degree: 16,
  samples: 64,
  points: 10_001,
  'eval-points': 1_001,
  epochs: 100_000,
  'endpoint-epochs': 100_000,
  'curve-epochs': 100_000,
  'warmup-epochs': 10_000,
  'warm-start': 100_000,
  milestones: 100_000,
  steps: 1_000_000,
  batches: 1_000_000,
  'batch-size': 65_536,
  'train-size': 10_000_000,
  'val-size': 10_000_000,
  'test-size': 10_000_000,
  seed: 2 ** 31 - 1,
  threads: 64,
  workers: 64,
  k: 64,
};

export function optNumber(
  command: string,
  v: Record<string, unknown>,
  name: string,
  check: { integer?: boolean; min?: number; max?: number; positive?: boolean } = {},
): number | undefined {
  const s = optString(v, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  const what = check.integer ? 'an integer' : 'a number';
  if (!DECIMAL.test(s.trim()) || !Number.isFinite(n)) throw new ExtraInputError(`${command}: --${name} must be ${what}, got '${s}'`);
  if (check.integer && !Number.isInteger(n)) throw new ExtraInputError(`${command}: --${name} must be an integer, got '${s}'`);
  if (check.positive && !(n > 0)) throw new ExtraInputError(`${command}: --${name} must be positive, got ${s}`);
  if (check.min !== undefined && n < check.min) throw new ExtraInputError(`${command}: --${name} must be at least ${check.min}, got ${s}`);
  const max = check.max ?? flagMax[name];
  if (max !== undefined && n > max) throw new ExtraInputError(`${command}: --${name} must be at most ${max}, got ${s}`);
  return n;
}

export function optList(v: Record<string, unknown>, name: string): string[] {
  const x = v[name];
  if (Array.isArray(x)) return x.map(String);
  if (typeof x === 'string') return [x];
  return [];
}
