import { isPermanent, RotatorError } from '../errors/rotator-error.ts';

/**
 * Another job holds the credential's lock. Not a failure: the job layer puts the job back on the
 * queue for a moment without spending an attempt.
 */
export class CredentialBusyError extends RotatorError {
  readonly credentialId: string;
  constructor(credentialId: string) {
    super(`credential "${credentialId}" is being rotated by another job`);
    this.credentialId = credentialId;
  }
}

/**
 * A step of the rotation protocol failed. The message names the credential, the step and the
 * cause (whose own message never holds a secret); permanence is the cause's.
 */
export class RotationStepError extends RotatorError {
  readonly credentialId: string;
  readonly step: string;

  constructor(credentialId: string, step: string, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`credential "${credentialId}": ${step} failed: ${reason}`, { cause, permanent: isPermanent(cause) });
    this.credentialId = credentialId;
    this.step = step;
  }
}

/** The provider does not list the credential the secret holds: it was deleted, or the secret is stale. */
export class CredentialNotListedError extends RotatorError {
  constructor(credentialId: string, what: string) {
    super(`credential "${credentialId}": the provider no longer lists ${what}; it was deleted or the secret holds a stale value`, {
      permanent: true,
    });
  }
}

/** A revoke that would hit the credential in AWSCURRENT: refused, whatever asked for it. */
export class RefusedRevokeError extends RotatorError {
  constructor(credentialId: string, ref: string) {
    super(`credential "${credentialId}": refused to revoke ${ref}, which is the current credential`, { permanent: true });
  }
}

/**
 * The holder of a credential's lock cannot prove its lease any more (renewals failing or late,
 * or another holder has the lock): it stops before its next write. Transient: the job is retried,
 * and then waits for the lock or finds the rotation continued by the new holder.
 */
export class LeaseLostError extends RotatorError {
  readonly credentialId: string;
  constructor(credentialId: string, why: string) {
    super(`credential "${credentialId}": lock lease not proven (${why}); stopped before the next write`);
    this.credentialId = credentialId;
  }
}
