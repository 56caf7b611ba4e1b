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

/** A revoke that is not provably the credential the rotation replaced (see revoke-guard.ts): never sent. */
export class RevokeRefusedError extends RotatorError {
  readonly ref: string;
  constructor(credentialId: string, ref: string, reason: string) {
    super(`credential "${credentialId}": refused to revoke ${ref}: ${reason}`, { permanent: true });
    this.ref = ref;
  }
}

/**
 * A delayed revoke that came due while a later rotation's overlap window still protects its
 * credential: the job layer puts the job back until `until`, without spending an attempt.
 */
export class RevokeDeferredError extends RotatorError {
  readonly until: Date;
  constructor(credentialId: string, until: Date) {
    super(`credential "${credentialId}": revoke deferred to ${until.toISOString()}, the end of an overlap window`);
    this.until = until;
  }
}

/**
 * The new credential has fewer rights than the one it replaces (whether a provider copies the
 * caller's rights is not documented): the rotation fails before promotion, and the new one is deleted.
 */
export class WeakerCredentialError extends RotatorError {
  readonly ref: string;
  constructor(credentialId: string, ref: string, missing: readonly string[]) {
    super(`credential "${credentialId}": the new credential ${ref} lacks ${missing.join(', ')}, which the one it replaces has; it was not promoted`, {
      permanent: true,
    });
    this.ref = ref;
  }
}

export { LeaseLostError } from '../lease/fence.ts';
