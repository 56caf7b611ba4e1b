import { RotatorError } from '../errors/rotator-error.ts';

/** The store operation that failed; error messages start with it. */
export type SecretOperation =
  'read-current' | 'read-pending' | 'read-stage' | 'unlabel' | 'read-version' | 'put-pending' | 'promote' | 'list-versions' | 'put-current' | 'create';

export interface SecretStoreErrorOptions {
  secretId: string;
  operation: SecretOperation;
  /** A retry cannot help (see RotatorError). */
  permanent: boolean;
  cause?: unknown;
}

/**
 * Errors of the secret store. Messages name the operation and the secret id, never a value: they
 * reach Redis as a job's failure reason. `permanent` (RotatorError's) tells the job layer whether
 * BullMQ should try again (every store step is idempotent, so a retry is always safe, but not always useful).
 */
export class SecretStoreError extends RotatorError {
  readonly secretId: string;
  readonly operation: SecretOperation;

  constructor(message: string, options: SecretStoreErrorOptions) {
    super(`${options.operation} "${options.secretId}": ${message}`, { cause: options.cause, permanent: options.permanent });
    this.secretId = options.secretId;
    this.operation = options.operation;
  }
}

/** The secret, or the asked-for version of it, does not exist (ResourceNotFoundException). */
export class SecretNotFoundError extends SecretStoreError {}

/** IAM refused the call, or KMS could not decrypt / encrypt the value. */
export class SecretAccessDeniedError extends SecretStoreError {}

/** Throttling, 5xx, network failures and timeouts: Secrets Manager may answer later. */
export class SecretStoreUnavailableError extends SecretStoreError {}

/**
 * The request contradicts the secret's state: a version id reused for other content, a secret
 * scheduled for deletion, a parameter Secrets Manager refuses.
 */
export class SecretConflictError extends SecretStoreError {}

/**
 * A rotation id that cannot serve as ClientRequestToken. The bad value is deliberately left out of
 * the message: with three string arguments, a swapped call could have passed the secret itself.
 */
export class InvalidRotationIdError extends SecretStoreError {
  constructor(secretId: string) {
    super('rotation id must be a UUID (it becomes the version id and ClientRequestToken)', {
      secretId,
      operation: 'put-pending',
      permanent: true,
    });
  }
}
