import { RotatorError } from '../errors/rotator-error.ts';

/**
 * Proving that client credentials a provider issued by hand still work:
 * they obtain a token with the scopes the integration needs. Nothing obtained is kept.
 */

/** Why a validation failed, for the alert and for what a person must do. */
export type ValidationFailureKind = 'invalid-credential' | 'missing-scope' | 'provider-unavailable' | 'misconfiguration';

export interface ValidationResult {
  /** Scopes the provider granted, when it says; otherwise the ones asked for. */
  grantedScopes: string[];
  /** Lifetime of the token obtained, when the provider says. */
  expiresInSeconds?: number;
  /** The optional cheap read ran and passed. */
  probed: boolean;
  /** The token was logged out afterwards (where the kind logs out, and a logout URL is configured). */
  loggedOut: boolean;
  /** One line for people, e.g. `token granted for users:read,content:read; probe ok; logged out`. */
  summary: string;
}

/**
 * A validation that failed. `kind` classifies it; `advice` says what to do (ask the vendor's admin
 * for a new key with scopes X, Y; update secret Z). Only `provider-unavailable` is worth a retry.
 */
export class ValidationError extends RotatorError {
  readonly kind: ValidationFailureKind;
  readonly advice: string;
  readonly missingScopes: string[];

  constructor(kind: ValidationFailureKind, message: string, options: { advice: string; missingScopes?: string[]; cause?: unknown }) {
    super(`${kind}: ${message} — ${options.advice}`, { cause: options.cause, permanent: kind !== 'provider-unavailable' });
    this.kind = kind;
    this.advice = options.advice;
    this.missingScopes = options.missingScopes ?? [];
  }
}

export interface CredentialValidator<C, S> {
  validate(credential: C, secret: S): Promise<ValidationResult>;
}
