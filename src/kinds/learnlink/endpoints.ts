import { z } from 'zod';
import { stripTrailingSlash } from '../../config/index.ts';

export const environment = z.enum(['staging', 'production', 'staging-mea', 'production-mea']);
export const audience = z.enum(['api', 'webhooks']);
export type LearnlinkEnvironment = z.output<typeof environment>;
export type LearnlinkAudience = z.output<typeof audience>;

export interface LearnlinkEndpoints {
  /** Contains `{tenantId}`; fill it with learnlinkTokenUrl(). */
  tokenUrl: string;
  apiBase: string;
}

const DOMAINS: Record<LearnlinkEnvironment, string> = {
  staging: 'learnstaging.link',
  production: 'learn.link',
  'staging-mea': 'meastaging.learn.tech',
  'production-mea': 'mea.learn.tech',
};
const FAMILY: Record<LearnlinkAudience, string> = { api: 'public', webhooks: 'user' };

/** Learn.link's hosts as docs/providers.md gives them, by environment and audience; `endpoints:` overrides either. */
export function learnlinkEndpoints(env: LearnlinkEnvironment, aud: LearnlinkAudience, overrides: Partial<LearnlinkEndpoints> = {}): LearnlinkEndpoints {
  const domain = DOMAINS[env];
  return {
    tokenUrl: stripTrailingSlash(overrides.tokenUrl ?? `https://${FAMILY[aud]}.api.${domain}/oauth2/token/{tenantId}`),
    // Both audiences read the API on the `public` host; only the token host differs.
    apiBase: stripTrailingSlash(overrides.apiBase ?? `https://public.api.${domain}/rest/v1`),
  };
}

/** Fills the tenant into a token URL template. A template without `{tenantId}` is used as is. */
export function learnlinkTokenUrl(template: string, tenantId: string): string {
  return template.replaceAll('{tenantId}', encodeURIComponent(tenantId));
}
