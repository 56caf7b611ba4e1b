import { z } from 'zod';
import { stripTrailingSlash } from '../../config/index.ts';

/**
 * Credly's hosts as docs/providers.md gives them, by environment. `endpoints:` in the inventory
 * overrides either (a sandbox, a proxy, the local fakes). URLs come out without a trailing slash.
 */
export const credlyEnvironment = z.enum(['production', 'sandbox']);
export type CredlyEnvironment = z.output<typeof credlyEnvironment>;

export interface CredlyEndpoints {
  /** API base, e.g. `https://api.credly.com/v1`. */
  apiBase: string;
  /** OAuth token endpoint: on the web host, not the API host. */
  tokenUrl: string;
}

const CREDLY: Record<CredlyEnvironment, CredlyEndpoints> = {
  production: { apiBase: 'https://api.credly.com/v1', tokenUrl: 'https://www.credly.com/oauth/token' },
  // The sandbox token host is unconfirmed (docs/providers.md); override `endpoints.tokenUrl` if it differs.
  sandbox: { apiBase: 'https://sandbox-api.credly.com/v1', tokenUrl: 'https://sandbox.credly.com/oauth/token' },
};

export function credlyEndpoints(environment: CredlyEnvironment, overrides: Partial<CredlyEndpoints> = {}): CredlyEndpoints {
  const base = CREDLY[environment];
  return {
    apiBase: stripTrailingSlash(overrides.apiBase ?? base.apiBase),
    tokenUrl: stripTrailingSlash(overrides.tokenUrl ?? base.tokenUrl),
  };
}
