import { z } from 'zod';
import {
  commonFields,
  endpointUrl,
  probePath,
  stripTrailingSlash,
  uniqueList,
  type ConfigProblem,
  type InventoryDefaults,
  type RawEntry,
} from '../../config/index.ts';
import { parseSecret, secretText, type ParseSecretOptions, type SecretShape } from '../../secrets/secret-values.ts';

export const KIND = 'degreed-client-credentials';

const environment = z.enum(['production', 'betatest']);
const dataCenter = z.enum(['US', 'EU', 'CA']);
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
