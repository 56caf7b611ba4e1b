import { z } from 'zod';
import {
  createdSecretFields,
  duration,
  endpointUrl,
  id,
  nonEmpty,
  positiveDuration,
  uniqueList,
  type ConfigProblem,
  type InventoryDefaults,
  type RawEntry,
} from '../../../config/index.ts';
import { parseSecret, secretText, type ParseSecretOptions, type SecretShape } from '../../../secrets/secret-values.ts';
import { KIND as TOKEN_KIND } from '../authorization-token/schema.ts';
import { credlyEndpoints } from '../endpoints.ts';
import { consumerRefreshField, credlyApiBase, credlyEntryFields, CREDLY_SCOPES, overlapCoversRefresh } from '../shared.ts';

export const KIND = 'credly-oauth-application';

/** The inventory entry; its output is the configuration the rotator reads (durations in ms). */
export const credlyAppEntry = (defaults: InventoryDefaults) =>
  z
    .strictObject({
      ...credlyEntryFields(defaults, KIND),
      /** Id of the credly-authorization-token (same organization, environment and API) that makes the management calls. */
      managedBy: id,
      /** Name given when (re)creating the application. */
      applicationName: nonEmpty.max(255, 'must be at most 255 characters'),
      scopes: uniqueList(z.enum(CREDLY_SCOPES), 'scope'),
      // The token endpoint's body encoding is in no vendor page: form (OAuth's own) unless set.
      tokenRequestEncoding: z.enum(['form', 'json']).default('form'),
      /** Recreate on this interval even while the secret works. Unset: only when lost or refused. */
      recreateEvery: positiveDuration.optional(),
      /** Overlap before the previous application is deleted. */
      revokePreviousAfter: duration.default(defaults.revokePreviousAfter),
      /** A forced rotation is refused while AWSCURRENT is younger than this; 0 turns the cooldown off. */
      forceCooldown: duration.default(defaults.forceCooldown),
      endpoints: z.strictObject({ apiBase: endpointUrl.optional(), tokenUrl: endpointUrl.optional() }).default({}),
      ...consumerRefreshField,
      /** The KMS key and tags of its secret when the rotator creates it (it does not exist yet). */
      ...createdSecretFields(defaults),
    })
    .superRefine(overlapCoversRefresh)
    .transform(({ consumerRefresh, recreateEvery, revokePreviousAfter, forceCooldown, endpoints, ...entry }) => ({
      ...(consumerRefresh === undefined ? {} : { consumerRefreshMs: consumerRefresh }),
      ...entry,
      ...(recreateEvery === undefined ? {} : { recreateEveryMs: recreateEvery }),
      revokePreviousAfterMs: revokePreviousAfter,
      forceCooldownMs: forceCooldown,
      endpoints: credlyEndpoints(entry.environment, endpoints),
    }));

export type CredlyOAuthAppConfig = z.output<ReturnType<typeof credlyAppEntry>>;

export const credlyOAuthAppSecretSchema = z.object({ clientId: secretText, clientSecret: secretText, applicationId: z.int().positive() });
export type CredlyOAuthAppSecret = z.output<typeof credlyOAuthAppSecretSchema>;
/** `{"clientId": …, "clientSecret": …, "applicationId": …}`. */
export const credlyOAuthAppSecret: SecretShape<CredlyOAuthAppSecret> = { kind: KIND, schema: credlyOAuthAppSecretSchema };
export const parseCredlyOAuthApp = (secretString: string, options: ParseSecretOptions = {}) => parseSecret(credlyOAuthAppSecret, secretString, options);

const lower = (value: unknown): unknown => (typeof value === 'string' ? value.toLowerCase() : value);

/** `managedBy` must name a token credential of the same organization, environment and API. */
export function managedByProblems(c: RawEntry, index: number, byId: ReadonlyMap<string, RawEntry>): ConfigProblem[] {
  if (typeof c.managedBy !== 'string') return [];
  const path = `credentials[${index}].managedBy`;
  const manager = byId.get(c.managedBy);
  if (!manager) return [{ path, message: `no credential with id "${c.managedBy}"` }];
  if (manager.kind !== TOKEN_KIND) return [{ path, message: `"${c.managedBy}" is a ${String(manager.kind)}; it must be a ${TOKEN_KIND}` }];
  if (lower(manager.organizationId) !== lower(c.organizationId)) {
    return [{ path, message: `"${c.managedBy}" belongs to another Credly organization; it must have the same organizationId` }];
  }
  if (manager.environment !== c.environment) {
    return [{ path, message: `"${c.managedBy}" is in another Credly environment; it must have the same environment` }];
  }
  const own = credlyApiBase(c);
  const managers = credlyApiBase(manager);
  if (own !== undefined && managers !== undefined && own !== managers) {
    // Management calls carry the managing token: they go to the manager's API and nowhere else.
    // The URLs are not repeated: the path names the field, and a URL may carry what it should not.
    return [
      {
        path: `credentials[${index}].endpoints.apiBase`,
        message: `differs from the apiBase of its managing credential "${c.managedBy}"; the managing token is only sent to its own API, so both must use the same one`,
      },
    ];
  }
  return [];
}
