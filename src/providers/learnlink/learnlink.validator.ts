import { z } from 'zod';
import type { LearnlinkConfig } from '../../config/index.ts';
import { learnlinkTokenUrl } from '../../config/index.ts';
import type { LearnlinkSecret } from '../../secrets/secret-values.ts';
import { classifyValidationError, isScopeRefusal, probeFailure } from '../../validation/classify.ts';
import { ValidationError, type CredentialValidator, type ValidationResult } from '../../validation/validator.ts';
import { createProviderHttp, type ProviderHttpOptions } from '../http.ts';

const grantSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'is not bearer'),
  expires_in: z.number().positive().optional(),
  scope: z.string().optional(),
});
const readSchema = z.object({ results: z.array(z.unknown()) });
// Learn.link answers 403 for scopes and 401 for credentials; any 403 is about scopes.
const SCOPE_HINT = /./;

export type LearnlinkValidatorOptions = Omit<ProviderHttpOptions, 'provider'>;

/**
 * Learn.link (Thrive) client secrets come from the vendor: this proves the stored one still obtains
 * a token for the tenant, on the audience's token host, with the required scopes (space-separated),
 * and optionally reads one user. Tokens obtained are never kept.
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
    });
    return answer.body;
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
        if (isScopeRefusal(error, SCOPE_HINT) && config.scopes.length > 0) {
          const missing: string[] = [];
          for (const scope of config.scopes) {
            await grant(config, tenantId, secret, [scope]).catch((e: unknown) => {
              if (isScopeRefusal(e, SCOPE_HINT)) missing.push(scope);
            });
          }
          if (missing.length) {
            throw new ValidationError('missing-scope', `tenant ${tenantId} is not allowed ${missing.join(', ')}`, {
              advice: context.scopeAdvice.replace('{scopes}', missing.join(', ')),
              missingScopes: missing,
              cause: error,
            });
          }
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
      // A webhooks token is not for the REST API: probing with it would only ever be refused.
      const probe = config.probe && config.audience === 'api';
      if (probe) {
        try {
          await http.request({
            operation: 'probe',
            method: 'GET',
            url: `${config.endpoints.apiBase}/users?page=1&perPage=1`,
            headers: { authorization: `Bearer ${token.access_token}` },
            parse: readSchema,
            secrets: [token.access_token, secret.clientSecret],
          });
          probed = true;
        } catch (error) {
          throw probeFailure(error, context);
        }
      }
      const expires = token.expires_in === undefined ? '' : `; expires in ${token.expires_in} s`;
      const skipped = config.probe && !probe ? '; probe skipped (a webhooks token cannot read the API)' : '';
      const summary = `token granted (scopes ${granted.join(' ') || '(none asked)'}${expires})${probed ? '; probe ok' : ''}${skipped}`;
      return { grantedScopes: granted, ...(token.expires_in === undefined ? {} : { expiresInSeconds: token.expires_in }), probed, loggedOut: false, summary };
    },
  };
}
