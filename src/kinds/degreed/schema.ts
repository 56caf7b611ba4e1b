import { z } from 'zod';
import { commonFields, endpointUrl, probePath, uniqueList, type ConfigProblem, type InventoryDefaults, type RawEntry } from '../../config/index.ts';
import { dataCenter, degreedEndpoints, environment } from './endpoints.ts';
import { parseSecret, secretText, type ParseSecretOptions, type SecretShape } from '../../secrets/secret-values.ts';

export const KIND = 'degreed-client-credentials';

export { degreedEndpoints, degreedHost, type DegreedDataCenter, type DegreedEndpoints, type DegreedEnvironment } from './endpoints.ts';

/**
 * What a validation probe reads. The vendor page says only that each API call needs its scopes
 * (vendor page 000 lines 20 and 62); the read paths are not in it, so `probePath` replaces them.
 * A probe that no configured scope allows would only ever be refused: a load-time error.
 */
export const DEGREED_PROBES: Readonly<Record<string, string>> = { 'users:read': '/users?limit=1', 'content:read': '/content?limit=1' };

/** The probe path: the configured one, else the read of the first scope that allows one. */
export function degreedProbePath(scopes: readonly string[], path: string | undefined): string | undefined {
  return path ?? scopes.map((s) => DEGREED_PROBES[s]).find((p) => p !== undefined);
}

/** The inventory entry; its output is the configuration the validator reads. */
export const degreedEntry = (defaults: InventoryDefaults) =>
  z
    .strictObject({
      ...commonFields(defaults),
      kind: z.literal(KIND),
      environment,
      dataCenter,
      /** `name:access` scopes, sent comma-separated. */
      scopes: uniqueList(z.string().regex(/^[a-z_]+:[a-z_]+$/, 'must be a Degreed scope like users:read'), 'scope'),
      /** Also do a cheap read the scopes allow. */
      probe: z.boolean().default(false),
      probePath: probePath('/users?limit=1'),
      // A path on the token host; "//" would make it a different host.
      logoutPath: z
        .string()
        .regex(/^\/(?!\/)[^\s?#]*$/, 'must be a path on the token host starting with a single "/", like /oauth/logout')
        .optional(),
      // The page's example is a curl without a method or body: a GET (vendor page 000, lines 79–81).
      logoutMethod: z.enum(['GET', 'POST']).default('GET'),
      endpoints: z.strictObject({ tokenUrl: endpointUrl.optional(), apiBase: endpointUrl.optional(), logoutUrl: endpointUrl.optional() }).default({}),
    })
    .transform(({ probePath: path, logoutPath, endpoints, ...entry }) => ({
      ...entry,
      // With `probe`: the read under the API base, as configured or the one the scopes allow.
      ...(entry.probe ? { probePath: degreedProbePath(entry.scopes, path) ?? '' } : {}),
      endpoints: degreedEndpoints(entry.environment, entry.dataCenter, logoutPath, endpoints),
    }));

export type DegreedConfig = z.output<ReturnType<typeof degreedEntry>>;

export const degreedSecretSchema = z.object({ clientId: secretText, clientSecret: secretText });
export type DegreedSecret = z.output<typeof degreedSecretSchema>;
/** `{"clientId": …, "clientSecret": …}`. */
export const degreedSecret: SecretShape<DegreedSecret> = { kind: KIND, schema: degreedSecretSchema };
export const parseDegreedSecret = (secretString: string, options: ParseSecretOptions = {}) => parseSecret(degreedSecret, secretString, options);

const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** A probe that no configured scope allows (nor a probePath covers). */
export function degreedProbeProblems(c: RawEntry, index: number): ConfigProblem[] {
  if (c.probe !== true || typeof c.probePath === 'string' || degreedProbePath(strings(c.scopes), undefined) !== undefined) return [];
  return [
    {
      path: `credentials[${index}].probe`,
      message: `no configured scope allows a read the probe knows (${Object.keys(DEGREED_PROBES).join(' or ')}); add one of them to scopes, set probePath to a read the scopes allow, or turn probe off`,
    },
  ];
}

/** What the configuration knows of the kind (src/kinds/kind.ts, KindSchema). */
export const degreedSchema = { kind: KIND, entry: degreedEntry, secret: degreedSecret, crossCheck: degreedProbeProblems } as const;
