/**
 * Typed errors. Anything the user can fix (bad flags, bad files, bad numbers) is an
 * `ExtraInputError`: the CLI prints its one-line message and exits with code 2.
 */
export class ExtraInputError extends Error {
  readonly exitCode = 2;
  constructor(message: string, readonly code: string = 'BAD_INPUT') {
    super(message);
    this.name = new.target.name;
  }
}

/** A numeric argument outside its domain (NaN, t outside [0,1], non-positive weight, ...). */
export class DomainError extends ExtraInputError {
  constructor(message: string) {
    super(message, 'DOMAIN');
  }
}

/** A file that is missing, truncated, or not what it claims to be. */
export class FileFormatError extends ExtraInputError {
  constructor(message: string) {
    super(message, 'FILE_FORMAT');
  }
}

export function isExtraInputError(e: unknown): e is ExtraInputError {
  return e instanceof ExtraInputError;
}

/**
 * A queued job that failed on its worker for a reason other than bad input (after BullMQ's retries):
 * the CLI prints its one-line message and exits with code 1.
 */
export class RemoteJobError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
