import { RotatorError } from './rotator-error.ts';

/** The provider's name in messages, lower case (each kind's client names its own). */
export type ProviderName = string;

export interface ProviderErrorOptions {
  provider: ProviderName;
  /** The call that failed, e.g. `list-tokens`. */
  operation: string;
  status?: number | undefined;
  /** The provider's own error code, e.g. OAuth's `invalid_client` or `invalid_scope`. */
  code?: string | undefined;
  cause?: unknown;
}

/**
 * A provider call failed. Messages read `<provider> <operation>: <status> <text> — <reason>` and
 * never carry a credential, an Authorization header or a response body as is: they reach Redis as
 * a job's failure reason and the alert sinks.
 */
export class ProviderError extends RotatorError {
  readonly provider: ProviderName;
  readonly operation: string;
  readonly status: number | undefined;
  readonly code: string | undefined;

  constructor(message: string, options: ProviderErrorOptions & { permanent: boolean }) {
    super(`${options.provider} ${options.operation}: ${message}`, { cause: options.cause, permanent: options.permanent });
    this.provider = options.provider;
    this.operation = options.operation;
    this.status = options.status;
    this.code = options.code;
  }
}

/** 401 or 403: the credential is refused, or lacks the permission. A retry cannot help. */
export class ProviderAuthError extends ProviderError {
  constructor(message: string, options: ProviderErrorOptions) {
    super(message, { ...options, permanent: true });
  }
}

/** Other 4xx: the request itself is wrong (unknown organization, validation). A retry cannot help. */
export class ProviderRequestError extends ProviderError {
  constructor(message: string, options: ProviderErrorOptions) {
    super(message, { ...options, permanent: true });
  }
}

/**
 * 429, 5xx, a reset or refused connection, a timeout, or an answer that cannot be read: the
 * provider may answer later, so the job retries.
 */
export class ProviderUnavailableError extends ProviderError {
  /** The provider's Retry-After, when it gave one: the job layer retries no sooner (queue/retry-delay.ts). */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ProviderErrorOptions & { retryAfterMs?: number | undefined }) {
    super(message, { ...options, permanent: false });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * A provider's answer about the credential itself does not fit the documented shape (a token of
 * this credential listed without its expiry): the same answer comes back on every retry, so a
 * person must look. Names the record and its fields, never a value.
 */
export class ProviderAnswerError extends ProviderError {
  constructor(message: string, options: ProviderErrorOptions) {
    super(message, { ...options, permanent: true });
  }
}
