import { z } from 'zod';
import { commonFields, duration, formatDuration, type InventoryDefaults, type RawEntry } from '../../config/index.ts';
import { credlyEndpoints, credlyEnvironment } from './endpoints.ts';

/** What the two Credly kinds share: the organization, the rate-limit budget, one client per API. */

/** Credly's OAuth scopes (docs/providers.md). */
export const CREDLY_SCOPES = [
  'authorization_tokens',
  'badge_templates',
  'events',
  'invitations',
  'issued_badges',
  'memberships',
  'oauth_applications',
  'pathways',
  'recommendations',
  'workforce',
] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Lower-cased so that `managedBy` and provider paths compare one spelling. */
export const organizationId = z
  .string()
  .regex(UUID, 'must be the Credly organization id (a UUID)')
  .transform((v) => v.toLowerCase());

/** The fields both Credly kinds' entries start with: the common ones, the kind, the organization and environment. */
export function credlyEntryFields<K extends string>(defaults: InventoryDefaults, kind: K) {
  return { ...commonFields(defaults), kind: z.literal(kind), organizationId, environment: credlyEnvironment };
}

/**
 * `consumerRefresh`: the longest a consumer of the secret may keep a value it read. The overlap
 * (`revokePreviousAfter`) must be at least that, or a consumer may still use the replaced
 * credential when it is revoked: a configuration error, at the overlap's path.
 */
export const consumerRefreshField = { consumerRefresh: duration.optional() };

export function overlapCoversRefresh(entry: { revokePreviousAfter: number; consumerRefresh?: number | undefined }, ctx: z.RefinementCtx): void {
  if (entry.consumerRefresh === undefined || entry.revokePreviousAfter >= entry.consumerRefresh) return;
  ctx.addIssue({
    code: 'custom',
    path: ['revokePreviousAfter'],
    message:
      `is ${formatDuration(entry.revokePreviousAfter)}, shorter than consumerRefresh (${formatDuration(entry.consumerRefresh)}): ` +
      'a consumer may still use the replaced credential when it is revoked; make the overlap at least consumerRefresh',
  });
}

/**
 * A Credly organization is rate-limited as a whole, across both kinds and every replica:
 * `ROTATOR_CREDLY_RATE_LIMIT`, default `10/s` (`600/m` works too; `off` disables it).
 */
export const credlyRateLimit = {
  variable: 'ROTATOR_CREDLY_RATE_LIMIT',
  fallback: '10/s',
  budget: (credential: { organizationId: string }) => `credly:${credential.organizationId}`,
};

/** One client per API base, built on first use. */
export function perApiBase<C>(make: (apiBase: string) => C): (credential: { endpoints: { apiBase: string } }) => C {
  const clients = new Map<string, C>();
  return ({ endpoints: { apiBase } }) => {
    let client = clients.get(apiBase);
    if (!client) clients.set(apiBase, (client = make(apiBase)));
    return client;
  };
}

/** The API base a raw Credly entry's calls go to, as resolved at load; undefined while its fields are unreadable. */
export function credlyApiBase(c: RawEntry): string | undefined {
  if (c.environment !== 'production' && c.environment !== 'sandbox') return undefined;
  const overrides = typeof c.endpoints === 'object' && c.endpoints !== null ? (c.endpoints as RawEntry) : {};
  const apiBase = overrides.apiBase;
  if (apiBase !== undefined && typeof apiBase !== 'string') return undefined;
  return credlyEndpoints(c.environment, apiBase === undefined ? {} : { apiBase }).apiBase;
}
