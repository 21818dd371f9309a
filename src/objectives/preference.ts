import { ExtraInputError } from '../errors.js';

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
  });
  const s = pref.reduce((a, b) => a + b, 0);
  if (!(s > 0)) throw new ExtraInputError(`${what} is all zero`);
  return pref.map((v) => v / s);
}

/** Parse "0.8,0.2" (commas or spaces) into a normalized preference. */
export function parsePreference(text: string, nTasks: number, what = 'preference'): number[] {
  const parts = text.split(/[,\s]+/).filter((s) => s.length > 0);
  if (parts.length === 0) throw new ExtraInputError(`preference '${text}' is empty`);
  const nums = parts.map((s) => {
    if (/^nan$/i.test(s)) return NaN; // reported as 'is NaN' by normalizePreference
    const v = Number(s);
    if (Number.isNaN(v)) throw new ExtraInputError(`preference entry '${s}' is not a number`);
    return v;
  });
  return normalizePreference(nums, nTasks, what);
}
