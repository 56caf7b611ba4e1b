import { z } from 'zod';
import { duration, endpointUrl, positiveDuration, type InventoryDefaults } from '../../../config/index.ts';
import { parseSecret, secretText, secretTimestamp, serializeSecret, type ParseSecretOptions, type SecretShape } from '../../../secrets/secret-values.ts';
import { credlyEndpoints } from '../endpoints.ts';
import { consumerRefreshField, credlyEntryFields, overlapCoversRefresh } from '../shared.ts';

export const KIND = 'credly-authorization-token';

/** The inventory entry; its output is the configuration the rotator reads (durations in ms). */
export const credlyTokenEntry = (defaults: InventoryDefaults) =>
  z
    .strictObject({
      ...credlyEntryFields(defaults, KIND),
      /** Rotate once the token expires within this. */
      rotateWhenExpiresWithin: positiveDuration.default(defaults.rotateWhenExpiresWithin),
      /** Overlap before the previous token is revoked. */
      revokePreviousAfter: duration.default(defaults.revokePreviousAfter),
      /** A forced rotation is refused while AWSCURRENT is younger than this; 0 turns the cooldown off. */
      forceCooldown: duration.default(defaults.forceCooldown),
      // Not offered: Credly's rotate endpoint kills the calling token the instant it answers, so a crash
      // before the store would lose both tokens (docs/operations.md, "Credly's rotate endpoint").
      useRotateEndpoint: z
        .boolean()
        .refine(
          (v) => !v,
          "is not offered: Credly's rotate endpoint kills the calling token at once, so a crash before the new one is stored loses both; the rotator creates a new token and revokes the old one after storing (see docs/operations.md, section Credly's rotate endpoint)",
        )
        .default(false),
      /** Revoke old tokens with DELETE; false leaves them to expire. */
      deleteSupported: z.boolean().default(true),
      // The documented proof of a new token is the token listing; GET /organizations/{id} is in no vendor page.
      testWithOrganizationEndpoint: z.boolean().default(false),
      endpoints: z.strictObject({ apiBase: endpointUrl.optional() }).default({}),
      ...consumerRefreshField,
    })
    .superRefine(overlapCoversRefresh)
    .transform(({ consumerRefresh, rotateWhenExpiresWithin, revokePreviousAfter, forceCooldown, endpoints, ...entry }) => ({
      ...(consumerRefresh === undefined ? {} : { consumerRefreshMs: consumerRefresh }),
      ...entry,
      rotateWhenExpiresWithinMs: rotateWhenExpiresWithin,
      revokePreviousAfterMs: revokePreviousAfter,
      forceCooldownMs: forceCooldown,
      endpoints: credlyEndpoints(entry.environment, endpoints),
    }));

export type CredlyTokenConfig = z.output<ReturnType<typeof credlyTokenEntry>>;

export const credlyTokenSecretSchema = z.object({
  token: secretText,
  tokenId: secretText.optional(),
  organizationId: secretText.optional(),
  expiresAt: secretTimestamp.optional(),
  rotatedAt: secretTimestamp.optional(),
});
export type CredlyTokenSecret = z.output<typeof credlyTokenSecretSchema>;

/** `{"token": …, "tokenId": …, "organizationId": …, "expiresAt": …, "rotatedAt": …}`, or the bare token. */
export const credlyTokenSecret: SecretShape<CredlyTokenSecret> = { kind: KIND, schema: credlyTokenSecretSchema, bareToken: 'token' };

export const parseCredlyToken = (secretString: string, options: ParseSecretOptions = {}) => parseSecret(credlyTokenSecret, secretString, options);
/** The SecretString as the rotator writes it back. */
export const serializeCredlyToken = (value: CredlyTokenSecret, options: ParseSecretOptions = {}) => serializeSecret(credlyTokenSecret, value, options);
