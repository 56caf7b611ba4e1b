import { stripTrailingSlash } from '../../config/index.ts';
import { ProviderUnavailableError } from '../../errors/provider-errors.ts';
import { readAllPages } from './pages.ts';
import { createProviderHttp, type ProviderHttpOptions } from '../../provider-http/http.ts';
import { API_HOST_FIELD, type DeleteResult } from './token-client.ts';
import { fittingRecords, type OddRecordHandler } from './listed-records.ts';
import {
  credlyAccessTokenSchema,
  credlyApplicationAnswerSchema,
  credlyApplicationSchema,
  credlyApplicationPageSchema,
  pageInfo,
  type CredlyApplicationJson,
  type CredlyPageMetadataJson,
} from './wire-schemas.ts';

export interface CredlyApplication {
  id: number;
  name: string;
  description: string | null;
  /** The OAuth client id. */
  uid: string;
  createdAt: Date;
}

/** A new application: the only answer that ever shows its client secret. */
export interface CreatedApplication extends CredlyApplication {
  secret: string;
}

export interface CredlyGrant {
  /** Scopes granted, from the answer's space-separated `scope`. */
  scopes: string[];
  expiresInSeconds: number | undefined;
}

/** Credly's OAuth applications (managed with an authorization token) and its token endpoint. */
export interface CredlyOAuthClient {
  /** Every application, all pages; one listed in a shape the pages do not give goes to `odd` (see listTokens). */
  listApplications(auth: string, organizationId: string, odd?: OddRecordHandler): Promise<CredlyApplication[]>;
  /** Not repeated after a lost answer: it may exist (without a secret anyone can read back). */
  createApplication(auth: string, organizationId: string, name: string, description: string): Promise<CreatedApplication>;
  deleteApplication(auth: string, organizationId: string, applicationId: number): Promise<DeleteResult>;
  /**
   * A client_credentials grant at the web host's token endpoint (form-encoded unless `encoding` is
   * `json`; scopes space-separated). The access token is dropped at once: only what was granted is returned.
   */
  grant(tokenUrl: string, clientId: string, clientSecret: string, scopes: string[], encoding?: 'form' | 'json'): Promise<CredlyGrant>;
}

export interface CredlyOAuthClientOptions extends Omit<ProviderHttpOptions, 'provider'> {
  apiBase: string;
  /** Pages a listing may span. Default 200. */
  maxPages?: number;
}

function toApplication(a: CredlyApplicationJson): CredlyApplication {
  return { id: a.id, name: a.name, description: a.description ?? null, uid: a.uid, createdAt: new Date(a.created_at) };
}

export function createCredlyOAuthClient(options: CredlyOAuthClientOptions): CredlyOAuthClient {
  const apiBase = stripTrailingSlash(options.apiBase);
  const origin = new URL(apiBase).origin;
  const maxPages = options.maxPages ?? 200;
  const http = createProviderHttp({ ...options, provider: 'credly' });
  const apps = (organizationId: string) => `${apiBase}/organizations/${encodeURIComponent(organizationId)}/oauth_applications`;
  const auth = (token: string) => ({
    headers: { authorization: `Basic ${Buffer.from(`${token}:`).toString('base64')}` },
    secrets: [token],
    hostField: API_HOST_FIELD,
  });
  // One budget per organization: Credly's limits, whatever they are, apply per organization.
  const budget = (organizationId: string) => ({ rateKey: `credly:${organizationId}` });

  return {
    async listApplications(token, organizationId, odd) {
      return readAllPages({
        first: `${apps(organizationId)}?per=100`,
        origin,
        maxPages,
        operation: 'list-applications',
        read: async (url) => {
          const page: { body: { data: unknown[]; metadata?: CredlyPageMetadataJson | undefined } } = await http.request({
            operation: 'list-applications',
            method: 'GET',
            url,
            parse: credlyApplicationPageSchema,
            ...auth(token),
            ...budget(organizationId),
          });
          const items = fittingRecords(page.body.data, credlyApplicationSchema, toApplication, { operation: 'list-applications', what: 'application', odd });
          return { items, ...pageInfo(page.body.metadata) };
        },
      });
    },

    async createApplication(token, organizationId, name, description) {
      const answer = await http.request({
        operation: 'create-application',
        method: 'POST',
        url: apps(organizationId),
        json: { name, description },
        expect: [200, 201],
        parse: credlyApplicationAnswerSchema,
        ...auth(token),
        ...budget(organizationId),
      });
      const { secret } = answer.body.data;
      if (!secret) {
        throw new ProviderUnavailableError('the new application came without its client secret', { provider: 'credly', operation: 'create-application' });
      }
      return { ...toApplication(answer.body.data), secret };
    },

    async deleteApplication(token, organizationId, applicationId) {
      const answer = await http.request({
        operation: 'delete-application',
        method: 'DELETE',
        url: `${apps(organizationId)}/${applicationId}`,
        expect: [200, 202, 204, 404, 405],
        ...auth(token),
        ...budget(organizationId),
      });
      if (answer.status === 404) return 'not-found';
      if (answer.status === 405) return 'unsupported';
      return 'deleted';
    },

    async grant(tokenUrl, clientId, clientSecret, scopes, encoding = 'form') {
      const fields = { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: scopes.join(' ') };
      const answer = await http.request({
        operation: 'token-grant',
        method: 'POST',
        url: tokenUrl,
        // The page lists the fields, not the body's encoding (`tokenRequestEncoding`).
        ...(encoding === 'json' ? { json: fields } : { form: fields }),
        parse: credlyAccessTokenSchema,
        // A grant creates nothing worth guarding: repeating it is safe.
        idempotent: true,
        secrets: [clientSecret],
        hostField: 'endpoints.tokenUrl (or environment)',
      });
      return { scopes: (answer.body.scope ?? '').split(' ').filter(Boolean), expiresInSeconds: answer.body.expires_in };
    },
  };
}
