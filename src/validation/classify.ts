import { ProviderAuthError, ProviderError, ProviderRequestError, ProviderUnavailableError } from '../errors/provider-errors.ts';
import { ValidationError } from './validator.ts';

export interface ClassifyContext {
  /** What to do about a refused credential, e.g. `ask the provider's technical admin for a new API key with scopes …`. */
  invalidAdvice: string;
  /** What to do about missing scopes; `{scopes}` is replaced by the missing ones. */
  scopeAdvice: string;
  /** Codes and words by which the provider says "scope" in a 403. */
  scopeHint: RegExp;
  /**
   * OAuth error codes (RFC 6749 §5.2) that refuse the credential or a scope whatever the status
   * (a 400 `invalid_client`, a 400 `invalid_scope`), for providers that answer them. Default: none.
   */
  refusalCodes?: RefusalCodes;
}

export interface RefusalCodes {
  credential: readonly string[];
  scope: readonly string[];
}

const codeOf = (error: unknown) => (error instanceof ProviderError ? error.code : undefined);

/**
 * Turns a provider error met while validating into a classified ValidationError: refused
 * credential, missing scope, provider unavailable (the only retryable one), or misconfiguration.
 */
export function classifyValidationError(error: unknown, ctx: ClassifyContext): unknown {
  if (error instanceof ValidationError) return error;
  if (error instanceof ProviderUnavailableError) {
    return new ValidationError('provider-unavailable', `provider unavailable: ${error.message}`, {
      advice: 'nothing to do unless it persists; the check is retried',
      cause: error,
    });
  }
  const code = codeOf(error);
  if (code !== undefined && ctx.refusalCodes?.scope.includes(code)) {
    return new ValidationError('missing-scope', `scopes refused: ${(error as Error).message}`, {
      advice: ctx.scopeAdvice.replace('{scopes}', 'the required scopes'),
      cause: error,
    });
  }
  if (code !== undefined && ctx.refusalCodes?.credential.includes(code)) {
    return new ValidationError('invalid-credential', `credential refused: ${(error as Error).message}`, { advice: ctx.invalidAdvice, cause: error });
  }
  if (error instanceof ProviderAuthError) {
    const scope = error.status === 403 && ctx.scopeHint.test(`${error.code ?? ''} ${error.message}`);
    if (scope)
      return new ValidationError('missing-scope', `scopes refused: ${error.message}`, {
        advice: ctx.scopeAdvice.replace('{scopes}', 'the required scopes'),
        cause: error,
      });
    return new ValidationError('invalid-credential', `credential refused: ${error.message}`, { advice: ctx.invalidAdvice, cause: error });
  }
  if (error instanceof ProviderRequestError || error instanceof ProviderError) {
    return new ValidationError('misconfiguration', `request refused: ${error.message}`, {
      advice: "check the credential's environment, data center or tenant and its endpoints in the inventory",
      cause: error,
    });
  }
  return error;
}

/** True when a grant failed because of its scopes (so asking for fewer may pass): a 403 saying so, or one of `codes.scope`. */
export function isScopeRefusal(error: unknown, scopeHint: RegExp, codes?: RefusalCodes): boolean {
  const code = codeOf(error);
  if (code !== undefined && codes?.scope.includes(code)) return true;
  return error instanceof ProviderAuthError && error.status === 403 && scopeHint.test(`${error.code ?? ''} ${error.message}`);
}

/**
 * A probe refused with 401 right after the grant succeeded: the token is good, so the API host
 * belongs to another data center or environment than the token host.
 */
export function probeFailure(error: unknown, ctx: ClassifyContext): unknown {
  if (error instanceof ProviderAuthError && error.status === 401) {
    return new ValidationError('misconfiguration', `the API refused a token its own token endpoint just granted: ${error.message}`, {
      advice: "check the credential's environment, data center and apiBase: the API host does not match the token host",
      cause: error,
    });
  }
  return classifyValidationError(error, ctx);
}
