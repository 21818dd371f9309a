import { ExtraInputError } from '../errors.js';
import { DECIMAL } from '../util/number.js';

/**
 * Largest accepted preference entry. Entries are relative weights (0.8,0.2 or 80,20); one beyond a
 * million is a typo or a unit mistake, not a trade-off anyone means, so it is refused, not normalized.
 */
export const MAX_PREFERENCE_ENTRY = 1e6;

/** Validate and normalize a preference vector to sum 1 (one non-negative entry per task). */
export function normalizePreference(pref: readonly number[], nTasks: number, what = 'preference'): number[] {
  if (pref.length !== nTasks) {
    const unit = /groups/.test(what) ? '' : ` but there are ${nTasks} tasks`;
    throw new ExtraInputError(`${what} has ${pref.length} entries${unit || ` but needs ${nTasks}`}`);
  }
  pref.forEach((v, k) => {
    if (Number.isNaN(v)) throw new ExtraInputError(`${what} entry ${k + 1} is NaN`);
    if (!Number.isFinite(v)) throw new ExtraInputError(`${what} entry ${k + 1} is not finite`);
    if (v < 0) throw new ExtraInputError(`${what} entry ${k + 1} is negative (${v})`);
    if (v > MAX_PREFERENCE_ENTRY) {
      throw new ExtraInputError(`${what} entry ${k + 1} is too large (${v}; entries are relative weights, at most ${MAX_PREFERENCE_ENTRY})`);
    }
  });
  // scale-invariant: divide by the largest entry first, so tiny entries (3e-320,1e-320) do not underflow to 0
  const m = Math.max(...pref);
  if (!(m > 0)) throw new ExtraInputError(`${what} is all zero`);
  const scaled = pref.map((v) => v / m);
  const s = scaled.reduce((a, b) => a + b, 0);
  return scaled.map((v) => v / s);
}


/** Parse "0.8,0.2" (commas or spaces) into a normalized preference. */
export function parsePreference(text: string, nTasks: number, what = 'preference'): number[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new ExtraInputError(`preference '${text}' is empty`);
  // entries separated by commas (or, without commas, by spaces); an empty entry is an error, not skipped
  const parts = trimmed.includes(',') ? trimmed.split(/\s*,\s*/) : trimmed.split(/\s+/);
  const nums = parts.map((s, k) => {
    if (s === '') throw new ExtraInputError(`${what} '${text}': entry ${k + 1} is empty`);
    if (/^nan$/i.test(s)) return NaN; // reported as 'is NaN' by normalizePreference
    if (/^[+-]?inf(inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (!DECIMAL.test(s)) throw new ExtraInputError(`${what} entry '${s}' is not a decimal number`);
    return Number(s);
  });
  return normalizePreference(nums, nTasks, what);
}
