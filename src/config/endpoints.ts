/**
 * Provider hosts as docs/providers.md gives them, derived from a credential's environment, data
 * center or audience. `endpoints:` in the inventory overrides any of them (sandboxes, proxies,
 * the local fakes). Every URL comes out without a trailing slash, so callers append `/path`.
 */
export type CredlyEnvironment = 'production' | 'sandbox';
export type DegreedEnvironment = 'production' | 'betatest';
export type DegreedDataCenter = 'US' | 'EU' | 'CA';
export type LearnlinkEnvironment = 'staging' | 'production' | 'staging-mea' | 'production-mea';
export type LearnlinkAudience = 'api' | 'webhooks';

export interface CredlyEndpoints {
  /** API base, e.g. `https://api.credly.com/v1`. */
  apiBase: string;
  /** OAuth token endpoint: on the web host, not the API host. */
  tokenUrl: string;
}
export interface DegreedEndpoints {
  tokenUrl: string;
  apiBase: string;
  /** Unset when no logout path is configured: logout is then skipped. */
  logoutUrl?: string;
}
export interface LearnlinkEndpoints {
  /** Contains `{tenantId}`; fill it with learnlinkTokenUrl(). */
  tokenUrl: string;
  apiBase: string;
}

/** What resolveEndpoints needs of a credential: its kind, where it lives, and optional overrides. */
export interface CredlyEndpointSource {
  kind: 'credly-authorization-token' | 'credly-oauth-application';
  environment: CredlyEnvironment;
  endpoints?: Partial<CredlyEndpoints> | undefined;
}
export interface DegreedEndpointSource {
  kind: 'degreed-client-credentials';
  environment: DegreedEnvironment;
  dataCenter: DegreedDataCenter;
  /** `/oauth/logout`-style path on the token host; unset = no logout. */
  logoutPath?: string | undefined;
  endpoints?: Partial<DegreedEndpoints> | undefined;
}
export interface LearnlinkEndpointSource {
  kind: 'learnlink-client-credentials';
  environment: LearnlinkEnvironment;
  audience: LearnlinkAudience;
  endpoints?: Partial<LearnlinkEndpoints> | undefined;
}
export type EndpointSource = CredlyEndpointSource | DegreedEndpointSource | LearnlinkEndpointSource;

const CREDLY: Record<CredlyEnvironment, CredlyEndpoints> = {
  production: { apiBase: 'https://api.credly.com/v1', tokenUrl: 'https://www.credly.com/oauth/token' },
  // The sandbox token host is unconfirmed (docs/providers.md); override `endpoints.tokenUrl` if it differs.
  sandbox: { apiBase: 'https://sandbox-api.credly.com/v1', tokenUrl: 'https://sandbox.credly.com/oauth/token' },
};

const DEGREED_HOSTS: Record<DegreedEnvironment, Record<DegreedDataCenter, string>> = {
  production: { US: 'degreed.com', EU: 'eu.degreed.com', CA: 'ca.degreed.com' },
  betatest: { US: 'betatest.degreed.com', EU: 'eu.betatest.degreed.com', CA: 'ca.betatest.degreed.com' },
};

const LEARNLINK_DOMAINS: Record<LearnlinkEnvironment, string> = {
  staging: 'learnstaging.link',
  production: 'learn.link',
  'staging-mea': 'meastaging.learn.tech',
  'production-mea': 'mea.learn.tech',
};

const LEARNLINK_FAMILY: Record<LearnlinkAudience, string> = { api: 'public', webhooks: 'user' };

export function stripTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export function credlyEndpoints(environment: CredlyEnvironment, overrides: Partial<CredlyEndpoints> = {}): CredlyEndpoints {
  const base = CREDLY[environment];
  return {
    apiBase: stripTrailingSlash(overrides.apiBase ?? base.apiBase),
    tokenUrl: stripTrailingSlash(overrides.tokenUrl ?? base.tokenUrl),
  };
}

export function degreedHost(environment: DegreedEnvironment, dataCenter: DegreedDataCenter): string {
  return DEGREED_HOSTS[environment][dataCenter];
}

/**
 * The logout URL is `https://{host}{logoutPath}`, taken from the token URL's origin: logout lives
 * on the token host, and when `tokenUrl` is overridden (a proxy, the fakes) the access token must
 * not be sent anywhere else.
 */
export function degreedEndpoints(
  environment: DegreedEnvironment,
  dataCenter: DegreedDataCenter,
  logoutPath: string | undefined,
  overrides: Partial<DegreedEndpoints> = {},
): DegreedEndpoints {
  const host = degreedHost(environment, dataCenter);
  const tokenUrl = stripTrailingSlash(overrides.tokenUrl ?? `https://${host}/oauth/token`);
  // The CA betatest API host follows the pattern of the others; it is unconfirmed (docs/providers.md).
  const apiBase = stripTrailingSlash(overrides.apiBase ?? `https://api.${host}/api/v2`);
  const logout = overrides.logoutUrl ?? (logoutPath ? `${new URL(tokenUrl).origin}${logoutPath}` : undefined);
  return logout ? { tokenUrl, apiBase, logoutUrl: stripTrailingSlash(logout) } : { tokenUrl, apiBase };
}

export function learnlinkEndpoints(
  environment: LearnlinkEnvironment,
  audience: LearnlinkAudience,
  overrides: Partial<LearnlinkEndpoints> = {},
): LearnlinkEndpoints {
  const domain = LEARNLINK_DOMAINS[environment];
  return {
    tokenUrl: stripTrailingSlash(overrides.tokenUrl ?? `https://${LEARNLINK_FAMILY[audience]}.api.${domain}/oauth2/token/{tenantId}`),
    // Both audiences read the API on the `public` host; only the token host differs.
    apiBase: stripTrailingSlash(overrides.apiBase ?? `https://public.api.${domain}/rest/v1`),
  };
}

/** Fills the tenant into a Learn.link token URL template. A template without `{tenantId}` is used as is. */
export function learnlinkTokenUrl(template: string, tenantId: string): string {
  return template.replaceAll('{tenantId}', encodeURIComponent(tenantId));
}

/**
 * A credential's provider endpoints: derived from its environment (and data center or audience),
 * with `endpoints` overrides winning. Resolving an already resolved credential gives the same result.
 */
export function resolveEndpoints(credential: CredlyEndpointSource): CredlyEndpoints;
export function resolveEndpoints(credential: DegreedEndpointSource): DegreedEndpoints;
export function resolveEndpoints(credential: LearnlinkEndpointSource): LearnlinkEndpoints;
export function resolveEndpoints(credential: EndpointSource): CredlyEndpoints | DegreedEndpoints | LearnlinkEndpoints;
export function resolveEndpoints(credential: EndpointSource): CredlyEndpoints | DegreedEndpoints | LearnlinkEndpoints {
  switch (credential.kind) {
    case 'credly-authorization-token':
    case 'credly-oauth-application':
      return credlyEndpoints(credential.environment, credential.endpoints);
    case 'degreed-client-credentials':
      return degreedEndpoints(credential.environment, credential.dataCenter, credential.logoutPath, credential.endpoints);
    case 'learnlink-client-credentials':
      return learnlinkEndpoints(credential.environment, credential.audience, credential.endpoints);
  }
}
