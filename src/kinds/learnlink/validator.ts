import { z } from 'zod';
import { LEARNLINK_PROBE, LEARNLINK_READ_SCOPES, learnlinkTokenUrl, type LearnlinkConfig, type LearnlinkSecret } from './schema.ts';
import { classifyValidationError, probeFailure } from '../../validation/classify.ts';
import { ValidationError, type CredentialValidator, type ValidationResult } from '../../validation/validator.ts';
import { ProviderError } from '../../errors/provider-errors.ts';
import { createProviderHttp, type ProviderHttpOptions } from '../../provider-http/http.ts';

const grantSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'is not bearer'),
  expires_in: z.number().positive().optional(),
  scope: z.string().optional(),
});
const readSchema = z.object({ results: z.array(z.unknown()) });
// Learn.link answers 401 for credentials; a 403 is about scopes.
const SCOPE_HINT = /./;
const isScopeRefusalStatus = (error: unknown) => error instanceof ProviderError && (error.status === 400 || error.status === 403);

export type LearnlinkValidatorOptions = Omit<ProviderHttpOptions, 'provider'>;

/**
 * Learn.link (Thrive) client secrets come from the vendor: this proves the stored one still obtains
 * a token for the tenant, on the audience's token host, with the required scopes (space-separated),
 * and optionally reads what the scopes allow (`probePath`). Tokens obtained are never kept.
 */
export function createLearnlinkValidator(options: LearnlinkValidatorOptions = {}): CredentialValidator<LearnlinkConfig, LearnlinkSecret> {
  const http = createProviderHttp({ ...options, provider: 'learnlink' });

  async function grant(config: LearnlinkConfig, tenantId: string, secret: LearnlinkSecret, scopes: string[]) {
    const form: Record<string, string> = { grant_type: 'client_credentials', ...(scopes.length ? { scope: scopes.join(' ') } : {}) };
    const headers: Record<string, string> = {};
    // The tenant id doubles as the client id (docs/providers.md).
    if (config.credentialsIn === 'basic') headers.authorization = `Basic ${Buffer.from(`${tenantId}:${secret.clientSecret}`).toString('base64')}`;
    else Object.assign(form, { client_id: tenantId, client_secret: secret.clientSecret });
    const answer = await http.request({
      operation: 'token-grant',
      method: 'POST',
      url: learnlinkTokenUrl(config.endpoints.tokenUrl, tenantId),
      headers,
      form,
      parse: grantSchema,
      idempotent: true,
      secrets: [secret.clientSecret],
      hostField: 'endpoints.tokenUrl (or environment)',
    });
    return answer.body;
  }

  /**
   * After the grant for the configured scopes was refused with 400 or 403 (the page documents only
   * 400; other sources show 403 for scopes): when a grant without any scope — optional on the page —
   * passes, the credentials are good and the scopes are the problem, so each is asked alone to name
   * the missing ones. Otherwise (or for any other refusal) none are named.
   */
  async function missingScopes(config: LearnlinkConfig, tenantId: string, secret: LearnlinkSecret, error: unknown): Promise<string[]> {
    if (!isScopeRefusalStatus(error) || config.scopes.length === 0) return [];
    const credentialsGood = await grant(config, tenantId, secret, []).then(
      () => true,
      () => false,
    );
    if (!credentialsGood) return [];
    const missing: string[] = [];
    for (const scope of config.scopes) {
      await grant(config, tenantId, secret, [scope]).catch((e: unknown) => {
        if (!isScopeRefusalStatus(e)) throw e;
        missing.push(scope);
      });
    }
    return missing;
  }

  return {
    async validate(config, secret): Promise<ValidationResult> {
      const tenantId = config.tenantId ?? secret.tenantId;
      if (!tenantId) {
        throw new ValidationError('misconfiguration', `no tenant id for "${config.id}"`, {
          advice: `set tenantId in the inventory, or put "tenantId" into secret "${config.secretId}"`,
        });
      }
      const context = {
        invalidAdvice: `ask Thrive (Learn.link) support for a new client secret for tenant ${tenantId}, then put it into secret "${config.secretId}"`,
        scopeAdvice: `ask Thrive (Learn.link) support to allow {scopes} for tenant ${tenantId} on the ${config.audience} audience`,
        scopeHint: SCOPE_HINT,
      };
      let token: z.infer<typeof grantSchema>;
      try {
        token = await grant(config, tenantId, secret, config.scopes);
      } catch (error) {
        const missing = await missingScopes(config, tenantId, secret, error);
        if (missing.length) {
          throw new ValidationError('missing-scope', `tenant ${tenantId} is not allowed ${missing.join(', ')}`, {
            advice: context.scopeAdvice.replace('{scopes}', missing.join(', ')),
            missingScopes: missing,
            cause: error,
          });
        }
        throw classifyValidationError(error, context);
      }
      const granted = token.scope ? token.scope.split(' ').filter(Boolean) : config.scopes;
      const notGranted = config.scopes.filter((s) => !granted.includes(s));
      if (notGranted.length) {
        throw new ValidationError('missing-scope', `the token was granted without ${notGranted.join(', ')}`, {
          advice: context.scopeAdvice.replace('{scopes}', notGranted.join(', ')),
          missingScopes: notGranted,
        });
      }
      let probed = false;
      if (config.probe) {
        // With no scopes configured, the tenant's own decide: the default read needs one that reads.
        if (token.scope !== undefined && config.probePath === LEARNLINK_PROBE && !granted.some((s) => LEARNLINK_READ_SCOPES.includes(s))) {
          throw new ValidationError(
            'misconfiguration',
            `the probe cannot read the API: the token was granted ${granted.join(' ') || 'no scope'}, none of ${LEARNLINK_READ_SCOPES.join(', ')}`,
            {
              advice: `add ${LEARNLINK_READ_SCOPES.join(' or ')} to the scopes of "${config.id}", set its probePath, or turn its probe off`,
            },
          );
        }
        try {
          await http.request({
            operation: 'probe',
            method: 'GET',
            url: `${config.endpoints.apiBase}${config.probePath ?? LEARNLINK_PROBE}`,
            headers: { authorization: `Bearer ${token.access_token}` },
            parse: readSchema,
            secrets: [token.access_token, secret.clientSecret],
            hostField: 'endpoints.apiBase (or environment)',
          });
          probed = true;
        } catch (error) {
          throw probeFailure(error, context);
        }
      }
      const expires = token.expires_in === undefined ? '' : `; expires in ${token.expires_in} s`;
      const summary = `token granted (scopes ${granted.join(' ') || '(none asked)'}${expires})${probed ? '; probe ok' : ''}`;
      return { grantedScopes: granted, ...(token.expires_in === undefined ? {} : { expiresInSeconds: token.expires_in }), probed, loggedOut: false, summary };
    },
  };
}
