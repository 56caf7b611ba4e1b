import { z } from 'zod';
import { commonFields, endpointUrl, probePath, uniqueList, type ConfigProblem, type InventoryDefaults, type RawEntry } from '../../config/index.ts';
import { audience, environment, learnlinkEndpoints } from './endpoints.ts';
import { parseSecret, secretText, type ParseSecretOptions, type SecretShape } from '../../secrets/secret-values.ts';

export const KIND = 'learnlink-client-credentials';

export { learnlinkEndpoints, learnlinkTokenUrl, type LearnlinkAudience, type LearnlinkEndpoints, type LearnlinkEnvironment } from './endpoints.ts';

/** Learn.link scopes each token audience may ask for (docs/providers.md). */
export const LEARNLINK_SCOPES = { api: ['api/all', 'api/read', 'api/write'], webhooks: ['api/webhooks', 'api/all'] } as const;
/** The scopes that read the REST API (vendor page 003 lines 45–47), and the cheap read a probe makes. */
export const LEARNLINK_READ_SCOPES: readonly string[] = ['api/read', 'api/all'];
export const LEARNLINK_PROBE = '/users?page=1&perPage=1';

const TENANT_ID = /^[a-z]{2}-[a-z]+-\d_[A-Za-z0-9]+$/;

/**
 * The inventory entry; its output is the configuration the validator reads. Scopes are checked
 * against the audience in learnlinkProblems, so the check runs even when other fields are wrong.
 */
export const learnlinkEntry = (defaults: InventoryDefaults) =>
  z
    .strictObject({
      ...commonFields(defaults),
      kind: z.literal(KIND),
      /** Cognito-style tenant id; unset when the secret holds it. */
      tenantId: z.string().regex(TENANT_ID, 'must look like eu-west-2_AbcdEfghI').optional(),
      environment,
      audience,
      scopes: uniqueList(z.string(), 'scope', { min: 0 }).default([]),
      /** Send the credentials as HTTP Basic or as form fields. */
      credentialsIn: z.enum(['basic', 'body']).default('basic'),
      /** Also do a cheap read of the REST API. */
      probe: z.boolean().default(false),
      probePath: probePath('/users?page=1&perPage=1'),
      endpoints: z.strictObject({ tokenUrl: endpointUrl.optional(), apiBase: endpointUrl.optional() }).default({}),
    })
    .transform(({ probePath: path, endpoints, ...entry }) => ({
      ...entry,
      ...(entry.probe ? { probePath: path ?? LEARNLINK_PROBE } : {}),
      endpoints: learnlinkEndpoints(entry.environment, entry.audience, endpoints),
    }));

export type LearnlinkConfig = z.output<ReturnType<typeof learnlinkEntry>>;

export const learnlinkSecretSchema = z.object({ clientSecret: secretText, tenantId: secretText.optional() });
export type LearnlinkSecret = z.output<typeof learnlinkSecretSchema>;
/** `{"clientSecret": …, "tenantId": …}`. */
export const learnlinkSecret: SecretShape<LearnlinkSecret> = { kind: KIND, schema: learnlinkSecretSchema };
export const parseLearnlinkSecret = (secretString: string, options: ParseSecretOptions = {}) => parseSecret(learnlinkSecret, secretString, options);

const ALL_SCOPES: readonly string[] = [...new Set([...LEARNLINK_SCOPES.api, ...LEARNLINK_SCOPES.webhooks])];

/** Scopes the audience does not allow, and probes no scope or audience allows. */
export function learnlinkProblems(c: RawEntry, index: number): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const aud = c.audience === 'api' || c.audience === 'webhooks' ? c.audience : undefined;
  const scopes = Array.isArray(c.scopes) ? (c.scopes as unknown[]) : [];
  scopes.forEach((scope, i) => {
    if (typeof scope !== 'string') return;
    const path = `credentials[${index}].scopes[${i}]`;
    if (aud) {
      const allowed: readonly string[] = LEARNLINK_SCOPES[aud];
      if (!allowed.includes(scope))
        problems.push({ path, message: `scope "${scope}" is not valid for audience ${aud}; expected one of ${allowed.join(', ')}` });
    } else if (!ALL_SCOPES.includes(scope)) {
      // The audience itself is wrong (reported on its own); still name scopes no audience allows.
      problems.push({ path, message: `unknown Learn.link scope "${scope}"; expected one of ${ALL_SCOPES.join(', ')}` });
    }
  });
  if (c.probe === true && typeof c.probePath !== 'string') {
    const path = `credentials[${index}].probe`;
    const named = scopes.filter((s): s is string => typeof s === 'string');
    if (c.audience === 'webhooks') {
      problems.push({ path, message: 'a webhooks token is not for the REST API (its tokens come from the user host); turn probe off, or use audience api' });
    } else if (named.length > 0 && !named.some((s) => LEARNLINK_READ_SCOPES.includes(s))) {
      problems.push({
        path,
        message: `no configured scope reads the API (${LEARNLINK_READ_SCOPES.join(' or ')}); add one to scopes, set probePath, or turn probe off`,
      });
    }
  }
  return problems;
}

/** What the configuration knows of the kind (src/kinds/kind.ts, KindSchema). */
export const learnlinkSchema = { kind: KIND, entry: learnlinkEntry, secret: learnlinkSecret, crossCheck: learnlinkProblems } as const;
