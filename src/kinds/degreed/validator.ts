import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { DegreedConfig, DegreedSecret } from './schema.ts';
import { classifyValidationError, isScopeRefusal, probeFailure } from '../../validation/classify.ts';
import { ValidationError, type CredentialValidator, type ValidationResult } from '../../validation/validator.ts';
import { createProviderHttp, type ProviderHttp, type ProviderHttpOptions } from '../../provider-http/http.ts';
import type { FailedLogout } from '../kind.ts';

const grantSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'is not bearer'),
  expires_in: z.number().positive(),
  refresh_token: z.string().optional(),
  scope: z.string().optional(),
});
const readSchema = z.object({ data: z.array(z.unknown()) });
const SCOPE_HINT = /scope/i;
/** RFC 6749 §5.2: Degreed's token endpoint may answer 400 with these, which refuse the key or a scope. */
export const DEGREED_REFUSAL_CODES = { credential: ['invalid_client'], scope: ['invalid_scope'] } as const;

/** What the validator makes of a failed grant: a scope refusal (403 naming a scope, or 400 invalid_scope). */
export const isDegreedScopeRefusal = (error: unknown) => isScopeRefusal(error, SCOPE_HINT, DEGREED_REFUSAL_CODES);

/** The class the validator gives a failed grant (`invalid-credential`, `missing-scope`, …); the probe holds it to the same evidence. */
export function degreedGrantFailure(error: unknown): string | undefined {
  const classified = classifyValidationError(error, { invalidAdvice: '', scopeAdvice: '', scopeHint: SCOPE_HINT, refusalCodes: DEGREED_REFUSAL_CODES });
  return classified instanceof ValidationError ? classified.kind : undefined;
}

export interface DegreedValidatorOptions extends Omit<ProviderHttpOptions, 'provider'> {
  /** Longest wait for a rate-limit window to reset (X-Rate-Limit-Remaining: 0), in ms. Default 60000. */
  maxRateLimitWaitMs?: number;
  /**
   * Told when the key worked but the logout of the token obtained failed: the validation stays a
   * success (the key works), and the worker warns (at most once a day per credential) and counts it.
   */
  onLogoutFailed?: (failed: FailedLogout) => void;
}

/**
 * Degreed API keys cannot be rotated by API: this proves the stored key still obtains a token with
 * the required scopes (form-encoded grant, scopes comma-separated), optionally reads what the scopes allow, and
 * logs the token out again. Tokens obtained are never kept.
 */
export function createDegreedValidator(options: DegreedValidatorOptions = {}): CredentialValidator<DegreedConfig, DegreedSecret> {
  const http: ProviderHttp = createProviderHttp({ ...options, provider: 'degreed' });
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const maxWait = options.maxRateLimitWaitMs ?? 60_000;

  /** Degreed's rate-limit headers: with none left in the window, wait for its reset before the next call. */
  async function respectRateLimit(headers: Headers): Promise<void> {
    if (headers.get('x-rate-limit-remaining') !== '0') return;
    const reset = Date.parse(headers.get('x-rate-limit-reset') ?? '');
    if (!Number.isNaN(reset)) await sleep(Math.min(maxWait, Math.max(0, reset - Date.now())));
  }

  async function grant(config: DegreedConfig, secret: DegreedSecret, scopes: string[]) {
    const answer = await http.request({
      operation: 'token-grant',
      method: 'POST',
      url: config.endpoints.tokenUrl,
      form: { grant_type: 'client_credentials', client_id: secret.clientId, client_secret: secret.clientSecret, scope: scopes.join(',') },
      parse: grantSchema,
      idempotent: true,
      secrets: [secret.clientSecret],
      hostField: 'endpoints.tokenUrl (or environment and dataCenter)',
    });
    await respectRateLimit(answer.headers);
    return answer.body;
  }

  /**
   * Expires the token at once; false when that did not work. GET (the default) follows the vendor
   * page's example: bearer token and `Content-Type: application/json`, no body — so the refresh
   * token, whose way in the page does not show, is not sent (the page says it is of no use to
   * parties outside Degreed). POST sends it in a JSON body.
   */
  async function logout(config: DegreedConfig, accessToken: string, refreshToken: string | undefined): Promise<true | string> {
    if (!config.endpoints.logoutUrl) return 'no logout configured';
    const post = config.logoutMethod === 'POST';
    try {
      await http.request({
        operation: 'logout',
        method: config.logoutMethod,
        url: config.endpoints.logoutUrl,
        headers: { authorization: `Bearer ${accessToken}`, ...(post ? {} : { 'content-type': 'application/json' }) },
        ...(post ? { json: refreshToken ? { refresh_token: refreshToken } : {} } : {}),
        idempotent: true,
        secrets: [accessToken, ...(refreshToken ? [refreshToken] : [])],
        hostField: 'endpoints.logoutUrl (or endpoints.tokenUrl, environment and dataCenter)',
      });
      return true;
    } catch (error) {
      // The error's own text: provider errors carry no value sent or received.
      return error instanceof Error ? error.message : 'failed';
    }
  }

  /** After a scope refusal: which of the required scopes the key does not hold, asked one by one. */
  async function missingScopes(config: DegreedConfig, secret: DegreedSecret): Promise<string[] | undefined> {
    const missing: string[] = [];
    for (const scope of config.scopes) {
      try {
        const token = await grant(config, secret, [scope]);
        await logout(config, token.access_token, token.refresh_token);
      } catch (error) {
        if (!isDegreedScopeRefusal(error)) return undefined;
        missing.push(scope);
      }
    }
    return missing.length === config.scopes.length ? undefined : missing;
  }

  return {
    async validate(config, secret): Promise<ValidationResult> {
      const context = {
        invalidAdvice: `ask the Degreed technical admin for a new API key with scopes ${config.scopes.join(', ')}, then put it into secret "${config.secretId}"`,
        scopeAdvice: `ask the Degreed technical admin to add {scopes} to the API key, or issue a new key with scopes ${config.scopes.join(', ')} and put it into secret "${config.secretId}"`,
        scopeHint: SCOPE_HINT,
        refusalCodes: DEGREED_REFUSAL_CODES,
      };
      let token: z.infer<typeof grantSchema>;
      try {
        token = await grant(config, secret, config.scopes);
      } catch (error) {
        if (isDegreedScopeRefusal(error)) {
          const missing = await missingScopes(config, secret).catch(() => undefined);
          if (missing?.length) {
            throw new ValidationError('missing-scope', `the Degreed API key does not hold ${missing.join(', ')}`, {
              advice: context.scopeAdvice.replace('{scopes}', missing.join(', ')),
              missingScopes: missing,
              cause: error,
            });
          }
        }
        throw classifyValidationError(error, context);
      }
      const granted = token.scope ? token.scope.split(/[ ,]+/).filter(Boolean) : config.scopes;
      const notGranted = config.scopes.filter((s) => !granted.includes(s));
      let probed = false;
      try {
        if (notGranted.length) {
          throw new ValidationError('missing-scope', `the token was granted without ${notGranted.join(', ')}`, {
            advice: context.scopeAdvice.replace('{scopes}', notGranted.join(', ')),
            missingScopes: notGranted,
          });
        }
        if (config.probe) {
          const read = await http.request({
            operation: 'probe',
            method: 'GET',
            url: `${config.endpoints.apiBase}${config.probePath ?? ''}`,
            headers: { authorization: `Bearer ${token.access_token}` },
            parse: readSchema,
            secrets: [token.access_token, secret.clientSecret],
            hostField: 'endpoints.apiBase (or environment and dataCenter)',
          });
          await respectRateLimit(read.headers);
          probed = true;
        }
      } catch (error) {
        await logout(config, token.access_token, token.refresh_token);
        throw probeFailure(error, context);
      }
      const logoutResult = await logout(config, token.access_token, token.refresh_token);
      const loggedOut = logoutResult === true;
      if (config.endpoints.logoutUrl && logoutResult !== true) {
        options.onLogoutFailed?.({ provider: 'degreed', kind: config.kind, credentialId: config.id, detail: logoutResult });
      }
      const parts = [
        `token granted (scopes ${granted.join(',')}; expires in ${token.expires_in} s)`,
        ...(probed ? ['probe ok'] : []),
        config.endpoints.logoutUrl ? (loggedOut ? 'logged out' : 'logout FAILED') : 'no logout configured',
      ];
      return { grantedScopes: granted, expiresInSeconds: token.expires_in, probed, loggedOut, summary: parts.join('; ') };
    },
  };
}
