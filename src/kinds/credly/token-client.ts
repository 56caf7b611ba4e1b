import { stripTrailingSlash } from '../../config/index.ts';
import { ProviderRequestError, ProviderUnavailableError } from '../../errors/provider-errors.ts';
import { readAllPages } from './pages.ts';
import { createProviderHttp, type ProviderHttpOptions } from '../../provider-http/http.ts';
import { fittingRecords, type OddRecordHandler } from './listed-records.ts';
import {
  credlyOrganizationSchema,
  credlyTokenSchema,
  pageInfo,
  credlyTokenAnswerSchema,
  credlyTokenPageSchema,
  type CredlyTokenJson,
  type CredlyTokenPageJson,
} from './wire-schemas.ts';

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
  /**
   * Every token the caller may see (a read-only token sees only read-only ones), all pages:
   * `next_page_url` is followed on the API origin only; elsewhere the pages are asked with
   * `page`/`per` on the API base up to `total_pages` (pages.ts). A listing that loops is refused.
   * A token listed in a shape the pages do not give goes to `odd` (listed-records.ts): skipped
   * when it returns; without `odd`, the listing fails.
   */
  listTokens(auth: string, organizationId: string, odd?: OddRecordHandler): Promise<CredlyToken[]>;
  /** A new token (200 or 201); the calling one stays valid. Not repeated after a lost answer: it may exist. */
  createToken(auth: string, organizationId: string, description: string): Promise<CredlyToken>;
  /** `GET /organizations/{org}`: in no vendor page, so only an optional extra proof (`testWithOrganizationEndpoint`). */
  getOrganization(auth: string, organizationId: string): Promise<{ id: string; name: string }>;
  /** 204/200 → `deleted`; 404 → `not-found` (done, for a revoke); 405/501 → `unsupported`. */
  deleteToken(auth: string, organizationId: string, tokenId: string): Promise<DeleteResult>;
}

export interface CredlyClientOptions extends Omit<ProviderHttpOptions, 'provider'> {
  /** API base, e.g. `https://api.credly.com/v1` (a trailing slash is ignored). */
  apiBase: string;
  /** Pages a listing may span before it is refused as a loop. Default 200 (20 000 tokens). */
  maxPages?: number;
}

/** Where an API host comes from in the inventory, for a host that does not exist. */
export const API_HOST_FIELD = 'endpoints.apiBase (or environment)';

const REFUSED = 'the token is refused: it is unknown, expired or revoked';
const lacks = (what: string, flag: string) => `the token lacks the permission to ${what} (it must be ${flag} and belong to this organization)`;
/** What Credly's refusals mean per call: its own error bodies are not documented. */
const EXPLAIN = {
  'list-tokens': { 401: REFUSED, 403: lacks('list authorization tokens', 'read-enabled'), 404: 'no such organization' },
  'create-token': { 401: REFUSED, 403: lacks('create authorization tokens', 'write-enabled'), 404: 'no such organization' },
  'get-organization': { 401: REFUSED, 403: 'the token may not read this organization (it belongs to another one)', 404: 'no such organization' },
  'delete-token': { 401: REFUSED, 403: lacks('delete authorization tokens', 'delete-enabled') },
} as const;

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

/**
 * One path segment. Empty, `.` and `..` are refused: the URL parser would fold them into another
 * path, and a DELETE of the wrong path answers 404 — which would read as "already gone".
 */
function segment(operation: string, what: string, value: string): string {
  if (value === '' || value === '.' || value === '..') {
    throw new ProviderRequestError(`the ${what} "${value}" cannot be part of a URL`, { provider: 'credly', operation });
  }
  return encodeURIComponent(value);
}

export function createCredlyClient(options: CredlyClientOptions): CredlyClient {
  const apiBase = stripTrailingSlash(options.apiBase);
  const origin = new URL(apiBase).origin;
  const maxPages = options.maxPages ?? 200;
  const http = createProviderHttp({ ...options, provider: 'credly' });
  const org = (operation: string, organizationId: string) => `${apiBase}/organizations/${segment(operation, 'organization id', organizationId)}`;
  // The http layer also scrubs the Authorization header (the base64 form) from every message.
  const auth = (token: string) => ({ headers: { authorization: basic(token) }, secrets: [token], hostField: API_HOST_FIELD });
  // One budget per organization: Credly's limits, whatever they are, apply per organization.
  const budget = (organizationId: string) => ({ rateKey: `credly:${organizationId}` });

  return {
    async listTokens(token, organizationId, odd) {
      return readAllPages({
        first: `${org('list-tokens', organizationId)}/authorization_tokens?per=100`,
        origin,
        maxPages,
        operation: 'list-tokens',
        read: async (url) => {
          const page: { body: CredlyTokenPageJson } = await http.request({
            operation: 'list-tokens',
            method: 'GET',
            url,
            parse: credlyTokenPageSchema,
            explain: EXPLAIN['list-tokens'],
            ...auth(token),
            ...budget(organizationId),
          });
          const items = fittingRecords(page.body.data, credlyTokenSchema, toToken, { operation: 'list-tokens', what: 'token', odd });
          return { items, ...pageInfo(page.body.metadata) };
        },
      });
    },

    async createToken(token, organizationId, description) {
      const answer = await http.request({
        operation: 'create-token',
        method: 'POST',
        url: `${org('create-token', organizationId)}/authorization_tokens`,
        json: { description },
        expect: [200, 201],
        parse: credlyTokenAnswerSchema,
        // A create whose answer was lost may have happened: the rotation looks for it by description.
        idempotent: false,
        explain: EXPLAIN['create-token'],
        ...auth(token),
        ...budget(organizationId),
      });
      return toToken(answer.body.data);
    },

    async getOrganization(token, organizationId) {
      const answer = await http.request({
        operation: 'get-organization',
        method: 'GET',
        url: org('get-organization', organizationId),
        parse: credlyOrganizationSchema,
        explain: EXPLAIN['get-organization'],
        ...auth(token),
        ...budget(organizationId),
      });
      const { id, name } = answer.body.data;
      // The id is the proof that the token works for this organization: an answer about another one proves nothing.
      if (id.toLowerCase() !== organizationId.toLowerCase()) {
        throw new ProviderUnavailableError(`${answer.status} with an answer that names another organization, not ${organizationId}`, {
          provider: 'credly',
          operation: 'get-organization',
          status: answer.status,
        });
      }
      return { id, name };
    },

    async deleteToken(token, organizationId, tokenId) {
      const answer = await http.request({
        operation: 'delete-token',
        method: 'DELETE',
        url: `${org('delete-token', organizationId)}/authorization_tokens/${segment('delete-token', 'token id', tokenId)}`,
        // Deleting twice ends in 404, which is what a repeated revoke wants: safe to retry.
        idempotent: true,
        expect: [200, 202, 204, 404, 405, 501],
        explain: EXPLAIN['delete-token'],
        ...auth(token),
        ...budget(organizationId),
      });
      if (answer.status === 404) return 'not-found';
      if (answer.status === 405 || answer.status === 501) return 'unsupported';
      return 'deleted';
    },
  };
}
