import { z } from 'zod';
import { cronExpression, duration, endpointUrl, id, kmsKeyId, positiveDuration, secretId, secretRef, secretTags, uniqueList } from './fields.ts';

/**
 * The inventory's own shape: its version, `defaults`, the alert sinks, and the fields every
 * credential has. Each credential kind adds its fields in its own folder (src/kinds/); the
 * configuration knows no kind by name.
 */

export const ALERT_SINK_KINDS = ['slack', 'pagerduty', 'webhook'] as const;

export const defaultsSchema = z
  .strictObject({
    schedule: cronExpression.prefault('0 3 * * *'),
    rotateWhenExpiresWithin: positiveDuration.prefault('30d'),
    // An hour: AWS's Secrets Manager caching client keeps a value that long by default (docs/decisions.md).
    revokePreviousAfter: duration.prefault('1h'),
    // A forced rotation is refused while AWSCURRENT is younger than this; `0s` turns the cooldown off.
    forceCooldown: duration.prefault('10m'),
    // A secret the rotator creates (an OAuth application's, when it does not exist yet) is encrypted
    // with this key and carries these tags; a credential's own kmsKeyId wins, its tags add to these.
    kmsKeyId: kmsKeyId.optional(),
    tags: secretTags.optional(),
  })
  .prefault({});

/** `defaults:` once applied: durations in milliseconds. */
export type InventoryDefaults = z.output<typeof defaultsSchema>;

/** Fields every credential has; a missing schedule falls back to `defaults.schedule`. */
export function commonFields(defaults: InventoryDefaults) {
  return { id, secretId, schedule: cronExpression.default(defaults.schedule) };
}

/**
 * Fields of a kind whose secret the rotator may create (an OAuth application's, when it does not
 * exist yet): the KMS key and the tags of that secret — the credential's key, else the defaults';
 * the defaults' tags with the credential's over them.
 */
export function createdSecretFields(defaults: InventoryDefaults) {
  return {
    kmsKeyId: defaults.kmsKeyId === undefined ? kmsKeyId.optional() : kmsKeyId.default(defaults.kmsKeyId),
    tags: secretTags
      .optional()
      .transform((own) => (own === undefined && defaults.tags === undefined ? undefined : { ...defaults.tags, ...own }))
      .refine((all) => all === undefined || Object.keys(all).length <= 50, 'must be at most 50 tags, with the defaults’ tags'),
  };
}

/** A read under the API base (with its query), for a validation probe; "//" would make it another host. */
export const probePath = (example: string) =>
  z
    .string()
    .regex(/^\/(?!\/)[^\s#]*$/, `must be a path under the API base starting with a single "/", like ${example}`)
    .optional();

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

/**
 * `events:` — receivers told of each rotation and revoke (src/events/), so that consumers reload
 * at once instead of waiting out their cache. Signed as the webhook alert sink signs.
 */
export const eventReceiverSchema = z.strictObject({ id, url: endpointUrl, signingSecret: secretRef, ...sinkFilter });

/** `radar:` — the expiry radar over every token of the organizations the inventory reaches (src/radar/). */
export const radarSchema = z
  .strictObject({
    // An unmanaged token expiring within this is warned about (and `rotator radar` exits 1).
    warnWithin: positiveDuration.prefault('30d'),
    // When the worker looks again; daily by default, in UTC like every schedule.
    schedule: cronExpression.prefault('0 6 * * *'),
  })
  .prefault({});

/** `radar:` once applied: `warnWithin` in milliseconds. */
export type RadarSettings = z.output<typeof radarSchema>;

/** An inventory's radar settings, the defaults when it has none (an inventory built in code). */
export const radarSettings = (inventory: { radar?: RadarSettings | undefined }): RadarSettings => inventory.radar ?? radarSchema.parse(undefined);

/** The document around the credentials; each credential is read by its kind's own schema. */
export const inventorySchema = z.strictObject({
  version: z.literal(1),
  defaults: defaultsSchema,
  credentials: z.array(z.unknown()).min(1, 'must list at least one credential'),
  alerts: z.array(alertSinkSchema).default([]),
  events: z.array(eventReceiverSchema).default([]),
  radar: radarSchema,
});
