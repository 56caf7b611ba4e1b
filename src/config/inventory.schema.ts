import { z } from 'zod';
import { cronExpression, duration, endpointUrl, id, nonEmpty, positiveDuration, secretId, secretRef, uniqueList } from './fields.ts';

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

/** Learn.link scopes each token audience may ask for (docs/providers.md). */
export const LEARNLINK_SCOPES = { api: ['api/all', 'api/read', 'api/write'], webhooks: ['api/webhooks', 'api/all'] } as const;

export const ALERT_SINK_KINDS = ['slack', 'pagerduty', 'webhook'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Lower-cased so that `managedBy` and provider paths compare one spelling.
const organizationId = z
  .string()
  .regex(UUID, 'must be the Credly organization id (a UUID)')
  .transform((v) => v.toLowerCase());
const TENANT_ID = /^[a-z]{2}-[a-z]+-\d_[A-Za-z0-9]+$/;

/** Fields every credential may set; a missing schedule falls back to `defaults.schedule`. */
const common = {
  id,
  secretId,
  schedule: cronExpression.optional(),
};

const credlyEnvironment = z.enum(['production', 'sandbox']);

/** A read under the API base (with its query), for a validation probe; "//" would make it another host. */
const probePath = (example: string) =>
  z
    .string()
    .regex(/^\/(?!\/)[^\s#]*$/, `must be a path under the API base starting with a single "/", like ${example}`)
    .optional();

const credlyToken = z.strictObject({
  ...common,
  kind: z.literal('credly-authorization-token'),
  organizationId,
  environment: credlyEnvironment,
  rotateWhenExpiresWithin: positiveDuration.optional(),
  revokePreviousAfter: duration.optional(),
  // Not offered: Credly's rotate endpoint kills the calling token the instant it answers, so a crash
  // before the store would lose both tokens (README, "Credly's rotate endpoint").
  useRotateEndpoint: z
    .boolean()
    .refine((v) => !v, "is not offered: Credly's rotate endpoint kills the calling token at once, so a crash before the new one is stored loses both; the rotator creates a new token and revokes the old one after storing (see README)")
    .default(false),
  deleteSupported: z.boolean().default(true),
  // The documented proof of a new token is the token listing; GET /organizations/{id} is in no vendor page.
  testWithOrganizationEndpoint: z.boolean().default(false),
  endpoints: z.strictObject({ apiBase: endpointUrl.optional() }).default({}),
});

const credlyApp = z.strictObject({
  ...common,
  kind: z.literal('credly-oauth-application'),
  organizationId,
  environment: credlyEnvironment,
  managedBy: id,
  applicationName: nonEmpty.max(255, 'must be at most 255 characters'),
  scopes: uniqueList(z.enum(CREDLY_SCOPES), 'scope'),
  // The token endpoint's body encoding is in no vendor page: form (OAuth's own) unless set.
  tokenRequestEncoding: z.enum(['form', 'json']).default('form'),
  recreateEvery: positiveDuration.optional(),
  revokePreviousAfter: duration.optional(),
  endpoints: z.strictObject({ apiBase: endpointUrl.optional(), tokenUrl: endpointUrl.optional() }).default({}),
});

const degreed = z.strictObject({
  ...common,
  kind: z.literal('degreed-client-credentials'),
  environment: z.enum(['production', 'betatest']),
  dataCenter: z.enum(['US', 'EU', 'CA']),
  scopes: uniqueList(z.string().regex(/^[a-z_]+:[a-z_]+$/, 'must be a Degreed scope like users:read'), 'scope'),
  probe: z.boolean().default(false),
  probePath: probePath('/users?limit=1'),
  // A path on the token host; "//" would make it a different host.
  logoutPath: z
    .string()
    .regex(/^\/(?!\/)[^\s?#]*$/, 'must be a path on the token host starting with a single "/", like /oauth/logout')
    .optional(),
  // The page's example is a curl without a method or body: a GET (vendor page 000, lines 79–81).
  logoutMethod: z.enum(['GET', 'POST']).default('GET'),
  endpoints: z
    .strictObject({ tokenUrl: endpointUrl.optional(), apiBase: endpointUrl.optional(), logoutUrl: endpointUrl.optional() })
    .default({}),
});

// Scopes are checked against the audience in cross-checks.ts, so the check runs even when other
// fields of the same credential are wrong.
const learnlink = z.strictObject({
  ...common,
  kind: z.literal('learnlink-client-credentials'),
  tenantId: z.string().regex(TENANT_ID, 'must look like eu-west-2_AbcdEfghI').optional(),
  environment: z.enum(['staging', 'production', 'staging-mea', 'production-mea']),
  audience: z.enum(['api', 'webhooks']),
  scopes: uniqueList(z.string(), 'scope', { min: 0 }).default([]),
  credentialsIn: z.enum(['basic', 'body']).default('basic'),
  probe: z.boolean().default(false),
  probePath: probePath('/users?page=1&perPage=1'),
  endpoints: z.strictObject({ tokenUrl: endpointUrl.optional(), apiBase: endpointUrl.optional() }).default({}),
});

export const credentialSchema = z.discriminatedUnion('kind', [credlyToken, credlyApp, degreed, learnlink]);

const sinkFilter = { credentials: uniqueList(id, 'credential id').optional() };

export const alertSinkSchema = z.discriminatedUnion('kind', [
  z.strictObject({ id, kind: z.literal('slack'), webhookUrl: secretRef, ...sinkFilter }),
  z.strictObject({
    id,
    kind: z.literal('pagerduty'),
    routingKey: secretRef,
    severity: z.enum(['critical', 'error', 'warning', 'info']).default('error'),
    // Events API v2 endpoint; default PagerDuty's own. For a proxy or a local receiver.
    url: endpointUrl.optional(),
    ...sinkFilter,
  }),
  z.strictObject({ id, kind: z.literal('webhook'), url: endpointUrl, signingSecret: secretRef, ...sinkFilter }),
]);

export const inventorySchema = z.strictObject({
  version: z.literal(1),
  defaults: z
    .strictObject({
      schedule: cronExpression.prefault('0 3 * * *'),
      rotateWhenExpiresWithin: positiveDuration.prefault('30d'),
      revokePreviousAfter: duration.prefault('0s'),
    })
    .prefault({}),
  credentials: z.array(credentialSchema).min(1, 'must list at least one credential'),
  alerts: z.array(alertSinkSchema).default([]),
});

export type RawInventory = z.infer<typeof inventorySchema>;
