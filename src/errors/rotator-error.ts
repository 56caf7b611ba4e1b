/**
 * Base of the rotator's own errors. `permanent` says a retry cannot help (bad input, a dead
 * credential): the job fails at once instead of retrying. Messages name ids and steps, never a
 * secret value: they reach Redis as a job's failure reason.
 */
export class RotatorError extends Error {
  readonly permanent: boolean;

  constructor(message: string, options: { cause?: unknown; permanent?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.permanent = options.permanent ?? false;
  }
}

/** True when the error (or a RotatorError it wraps) says retrying cannot help. */
export function isPermanent(error: unknown): boolean {
  return error instanceof RotatorError && error.permanent;
}
