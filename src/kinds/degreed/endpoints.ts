import { z } from 'zod';
import { stripTrailingSlash } from '../../config/index.ts';

export const environment = z.enum(['production', 'betatest']);
export const dataCenter = z.enum(['US', 'EU', 'CA']);
export type DegreedEnvironment = z.output<typeof environment>;
export type DegreedDataCenter = z.output<typeof dataCenter>;

export interface DegreedEndpoints {
  tokenUrl: string;
  apiBase: string;
  /** Unset when no logout path is configured: logout is then skipped. */
  logoutUrl?: string;
}

const HOSTS: Record<DegreedEnvironment, Record<DegreedDataCenter, string>> = {
  production: { US: 'degreed.com', EU: 'eu.degreed.com', CA: 'ca.degreed.com' },
  betatest: { US: 'betatest.degreed.com', EU: 'eu.betatest.degreed.com', CA: 'ca.betatest.degreed.com' },
};

export function degreedHost(env: DegreedEnvironment, center: DegreedDataCenter): string {
  return HOSTS[env][center];
}

/**
 * Degreed's hosts as docs/providers.md gives them, by environment and data center; `endpoints:`
 * overrides any. The logout URL is `https://{host}{logoutPath}`, taken from the token URL's origin:
 * logout lives on the token host, and when `tokenUrl` is overridden (a proxy, the fakes) the access
 * token must not be sent anywhere else.
 */
export function degreedEndpoints(
  env: DegreedEnvironment,
  center: DegreedDataCenter,
  logoutPath: string | undefined,
  overrides: Partial<DegreedEndpoints> = {},
): DegreedEndpoints {
  const host = degreedHost(env, center);
  const tokenUrl = stripTrailingSlash(overrides.tokenUrl ?? `https://${host}/oauth/token`);
  // The CA betatest API host follows the pattern of the others; it is unconfirmed (docs/providers.md).
  const apiBase = stripTrailingSlash(overrides.apiBase ?? `https://api.${host}/api/v2`);
  const logout = overrides.logoutUrl ?? (logoutPath ? `${new URL(tokenUrl).origin}${logoutPath}` : undefined);
  return logout ? { tokenUrl, apiBase, logoutUrl: stripTrailingSlash(logout) } : { tokenUrl, apiBase };
}
