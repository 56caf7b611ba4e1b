import { stripTrailingSlash } from '../../config/index.ts';
import { ProviderUnavailableError } from '../errors.ts';
import { createProviderHttp, type ProviderHttpOptions } from '../http.ts';
import { credlyOrganizationSchema, credlyTokenAnswerSchema, credlyTokenPageSchema, type CredlyTokenJson } from './credly-schemas.ts';

export interface CredlyToken {
  id: string;
  /** The secret value itself. */
  token: string;
  description: string | null;
  writeEnabled: boolean;
  readEnabled: boolean;
  deleteEnabled: boolean;
  createdAt: Date;
  expiresAt: Date;
}

/** `unsupported`: the provider has no DELETE for tokens (405/501). */
export type DeleteResult = 'deleted' | 'not-found' | 'unsupported';

/** Credly's authorization-token API, acting with a given token (`auth`). */
export interface CredlyClient {
  /** Every token the caller may see, all pages (`next_page_url` followed until null). */
  listTokens(auth: string, organizationId: string): Promise<CredlyToken[]>;
  /** A new token; the calling one stays valid. Not repeated after a lost answer: it may exist. */
  createToken(auth: string, organizationId: string, description: string): Promise<CredlyToken>;
  /** The cheap call that proves a token works. */
  getOrganization(auth: string, organizationId: string): Promise<{ id: string; name?: string | undefined }>;
  /** 404 counts as done (`not-found`). */
  deleteToken(auth: string, organizationId: string, tokenId: string): Promise<DeleteResult>;
}

export interface CredlyClientOptions extends Omit<ProviderHttpOptions, 'provider'> {
  /** API base, e.g. `https://api.credly.com/v1`. */
  apiBase: string;
  /** Pages a listing may span before it is refused as a loop. Default 200 (10 000 tokens). */
  maxPages?: number;
}

/** Token as user name, empty password. */
function basic(token: string): string {
  return `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
}

function toToken(t: CredlyTokenJson): CredlyToken {
  return {
    id: t.id,
    token: t.token,
    description: t.description ?? null,
    writeEnabled: t.write_enabled,
    readEnabled: t.read_enabled,
    deleteEnabled: t.delete_enabled,
    createdAt: new Date(t.created_at),
    expiresAt: new Date(t.expires_at),
  };
}

export function createCredlyClient(options: CredlyClientOptions): CredlyClient {
  const apiBase = stripTrailingSlash(options.apiBase);
  const origin = new URL(apiBase).origin;
  const maxPages = options.maxPages ?? 200;
  const http = createProviderHttp({ ...options, provider: 'credly' });
  const org = (organizationId: string) => `${apiBase}/organizations/${encodeURIComponent(organizationId)}`;
  const auth = (token: string) => ({ headers: { authorization: basic(token) }, secrets: [token] });
  // One budget per organization: Credly's limits, whatever they are, apply per organization.
  const budget = (organizationId: string) => ({ rateKey: `credly:${organizationId}` });

  return {
    async listTokens(token, organizationId) {
      const tokens: CredlyToken[] = [];
      const seen = new Set<string>();
      let url: string | null = `${org(organizationId)}/authorization_tokens?per=100`;
      while (url) {
        // The token goes wherever next_page_url points: only ever to the API's own origin.
        if (new URL(url).origin !== origin) {
          throw new ProviderUnavailableError('next_page_url points to another host; refused', { provider: 'credly', operation: 'list-tokens' });
        }
        if (seen.has(url) || seen.size >= maxPages) {
          throw new ProviderUnavailableError(`the listing does not end (page ${seen.size + 1})`, { provider: 'credly', operation: 'list-tokens' });
        }
        seen.add(url);
        const page: { body: { data: CredlyTokenJson[]; metadata?: { next_page_url?: string | null | undefined } | undefined } } = await http.request({ operation: 'list-tokens', method: 'GET', url, parse: credlyTokenPageSchema, ...auth(token), ...budget(organizationId) });
        tokens.push(...page.body.data.map(toToken));
        url = page.body.metadata?.next_page_url ?? null;
      }
      return tokens;
    },

    async createToken(token, organizationId, description) {
      const answer = await http.request({
        operation: 'create-token',
        method: 'POST',
        url: `${org(organizationId)}/authorization_tokens`,
        json: { description },
        expect: [200, 201],
        parse: credlyTokenAnswerSchema,
        ...auth(token),
        ...budget(organizationId),
      });
      return toToken(answer.body.data);
    },

    async getOrganization(token, organizationId) {
      const answer = await http.request({ operation: 'get-organization', method: 'GET', url: org(organizationId), parse: credlyOrganizationSchema, ...auth(token), ...budget(organizationId) });
      return answer.body.data;
    },

    async deleteToken(token, organizationId, tokenId) {
      const answer = await http.request({
        operation: 'delete-token',
        method: 'DELETE',
        url: `${org(organizationId)}/authorization_tokens/${encodeURIComponent(tokenId)}`,
        expect: [200, 202, 204, 404, 405, 501],
        ...auth(token),
        ...budget(organizationId),
      });
      if (answer.status === 404) return 'not-found';
      if (answer.status === 405 || answer.status === 501) return 'unsupported';
      return 'deleted';
    },
  };
}
