/**
 * File-system and network errors that come from the user's paths or hosts (an --out that is a file,
 * a full disk, a read-only run folder, a --host that does not resolve, a port in use...), turned into
 * the one-line message of a bad input. The table lives in src/util/system-errors.ts, shared with the
 * explorer server and the run store's writers; anything else stays an internal error.
 */
export { describeSystemError } from '../util/system-errors.js';
