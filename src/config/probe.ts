import type { ConfigProblem } from './errors.ts';

/**
 * What a validation probe reads. The vendor pages say only that each API call needs its scopes
 * (Degreed, vendor page 000 lines 20 and 62) and that `api/read` / `api/all` read the Learn.link
 * API (vendor page 003 lines 45–47); the read paths themselves are not in the pages, so each can be
 * replaced with `probePath`. A probe that no configured scope allows would only ever be refused:
 * that is a configuration error, reported at load with its field path.
 */

/** Degreed: the cheap read each `<resource>:read` scope allows, under the API base. */
export const DEGREED_PROBES: Readonly<Record<string, string>> = { 'users:read': '/users?limit=1', 'content:read': '/content?limit=1' };
/** Learn.link: the scopes that read the REST API, and the cheap read. */
export const LEARNLINK_READ_SCOPES: readonly string[] = ['api/read', 'api/all'];
export const LEARNLINK_PROBE = '/users?page=1&perPage=1';

/** The Degreed probe path: the configured one, else the read of the first scope that allows one. */
export function degreedProbePath(scopes: readonly string[], probePath: string | undefined): string | undefined {
  return probePath ?? scopes.map((s) => DEGREED_PROBES[s]).find((p) => p !== undefined);
}

type Item = Record<string, unknown>;
const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** Probes that no configured scope allows (nor a probePath covers). */
export function probeProblems(credentials: Item[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  credentials.forEach((c, index) => {
    if (c.probe !== true || typeof c.probePath === 'string') return;
    const path = `credentials[${index}].probe`;
    const scopes = strings(c.scopes);
    if (c.kind === 'degreed-client-credentials' && degreedProbePath(scopes, undefined) === undefined) {
      problems.push({
        path,
        message: `no configured scope allows a read the probe knows (${Object.keys(DEGREED_PROBES).join(' or ')}); add one of them to scopes, set probePath to a read the scopes allow, or turn probe off`,
      });
    }
    if (c.kind === 'learnlink-client-credentials') {
      if (c.audience === 'webhooks') {
        problems.push({ path, message: 'a webhooks token is not for the REST API (its tokens come from the user host); turn probe off, or use audience api' });
      } else if (scopes.length > 0 && !scopes.some((s) => LEARNLINK_READ_SCOPES.includes(s))) {
        problems.push({ path, message: `no configured scope reads the API (${LEARNLINK_READ_SCOPES.join(' or ')}); add one to scopes, set probePath, or turn probe off` });
      }
    }
  });
  return problems;
}
