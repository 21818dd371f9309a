import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ExtraInputError } from '../errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

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
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
    return { values: r.values as Record<string, string | boolean | string[] | undefined>, positionals: r.positionals };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
    throw new ExtraInputError(`${command}: ${msg}`);
  }
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
  if (s.trim() === '' || !Number.isFinite(n)) throw new ExtraInputError(`${command}: --${name} must be ${what}, got '${s}'`);
  if (check.integer && !Number.isInteger(n)) throw new ExtraInputError(`${command}: --${name} must be an integer, got '${s}'`);
  if (check.positive && !(n > 0)) throw new ExtraInputError(`${command}: --${name} must be positive, got ${s}`);
  if (check.min !== undefined && n < check.min) throw new ExtraInputError(`${command}: --${name} must be at least ${check.min}, got ${s}`);
  if (check.max !== undefined && n > check.max) throw new ExtraInputError(`${command}: --${name} must be at most ${check.max}, got ${s}`);
  return n;
}

export function optList(v: Record<string, unknown>, name: string): string[] {
  const x = v[name];
  if (Array.isArray(x)) return x.map(String);
  if (typeof x === 'string') return [x];
  return [];
}
