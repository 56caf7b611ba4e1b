import { z } from 'zod';
import { DEGREED_PROBES, degreedProbePath, type DegreedConfig, type DegreedSecret } from './schema.ts';
import { createDegreedValidator, degreedGrantFailure } from './validator.ts';
import { bearerRead } from '../../provider-http/bearer-read.ts';
import { createProviderHttp, type ProviderHttp } from '../../provider-http/http.ts';
import { bogus, describeRefusal, probeHttp, refusalFacts, type ProbeOptions } from '../../probe/common.ts';
import { findingsOf, why, type CredentialProbe, type FindingsBuilder } from '../../probe/findings.ts';
import { createWire, type Wire } from '../../probe/wire.ts';
import { readCapped } from '../../provider-http/body.ts';

const grantSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().optional(),
  refresh_token: z.string().optional(),
  scope: z.string().optional(),
});
type Grant = z.infer<typeof grantSchema>;
const METHODS = ['GET', 'POST'] as const;
type Method = (typeof METHODS)[number];

/**
 * `rotator probe` for a Degreed API key: the rotator's own check as configured, then one by one
 * the grant (form-encoded, scopes comma-separated), which configured scopes the key holds, how a
 * wrong secret and a scope it lacks are refused, which cheap reads its scopes allow, and the
 * logout (the page's example is a GET with a JSON content type; a POST is tried too) — each logout
 * confirmed by the token being refused afterwards. Every token obtained is dropped or logged out.
 */
export async function probe(credential: DegreedConfig, secret: DegreedSecret, options: ProbeOptions): Promise<CredentialProbe> {
  const f = findingsOf(credential.id, credential.kind);
  const wire = createWire(readCapped);
  const http = createProviderHttp({ provider: 'degreed', ...probeHttp(wire, options) });
  const settings: Record<string, string | boolean> = { probe: credential.probe, logoutMethod: credential.logoutMethod };

  const check =
    "the rotator's own check passes as configured (grant, scopes" +
    (credential.probe ? ', read' : '') +
    (credential.endpoints.logoutUrl ? ', logout' : '') +
    ')';
  try {
    const result = await createDegreedValidator(probeHttp(wire, options)).validate(credential, secret);
    f.holds('validation', check, true, result.summary);
  } catch (error) {
    f.fails('validation', check, true, why(error));
  }

  // Every token obtained here: logged out at the end when a logout works, else left to expire.
  const obtained = new Set<string>();
  const grant = (scopes: string[], clientSecret = secret.clientSecret) =>
    http
      .request({
        operation: 'token-grant',
        method: 'POST',
        url: credential.endpoints.tokenUrl,
        form: { grant_type: 'client_credentials', client_id: secret.clientId, client_secret: clientSecret, scope: scopes.join(',') },
        parse: grantSchema,
        idempotent: true,
        secrets: [secret.clientSecret],
      })
      .then((a) => (obtained.add(a.body.access_token), a.body));

  const held: string[] = [];
  for (const scope of credential.scopes)
    if (
      await grant([scope]).then(
        () => true,
        () => false,
      )
    )
      held.push(scope);
  const missing = credential.scopes.filter((s) => !held.includes(s));
  const scopesAssumption = `the key holds every configured scope (${credential.scopes.join(',')}), each asked alone`;
  if (missing.length) f.fails('scopes', scopesAssumption, true, `not held: ${missing.join(', ')}`, { held, missing });
  else f.holds('scopes', scopesAssumption, true, `held: ${held.join(', ')}`, { held, missing });

  // Each refusal holds to the evidence the validator acts on (its own classification of the error).
  const wrong = await wire.call(() => grant(credential.scopes, bogus('credential-rotator-probe-')));
  const refused = refusalFacts(wrong.record);
  const clientAssumption =
    'a wrong secret is refused as the validator reports invalid-credential: 401, 403 without a word about scopes, or 400 invalid_client (RFC 6749 §5.2)';
  if (!wrong.ok && degreedGrantFailure(wrong.error) === 'invalid-credential')
    f.holds('invalid-client', clientAssumption, true, describeRefusal(refused), refused);
  else f.fails('invalid-client', clientAssumption, true, wrong.ok ? 'a secret no one issued obtained a token' : describeRefusal(refused), refused);

  const lacking = await wire.call(() => grant(['credential_rotator:probe']));
  const scopeRefused = refusalFacts(lacking.record);
  const scopeAssumption = 'a scope the key lacks is refused with 403 naming the scope or 400 invalid_scope (the rotator then names the missing scopes)';
  if (!lacking.ok && degreedGrantFailure(lacking.error) === 'missing-scope')
    f.holds('scope-refusal', scopeAssumption, true, describeRefusal(scopeRefused), scopeRefused);
  else f.fails('scope-refusal', scopeAssumption, true, lacking.ok ? 'a scope no key holds was granted' : describeRefusal(scopeRefused), scopeRefused);

  let token: Grant | undefined;
  try {
    token = await grant(credential.scopes);
  } catch (error) {
    f.unchecked('reads', 'a cheap read the scopes allow works on the API host', credential.probe, `not tried: no token (${why(error)})`);
    f.unchecked('logout', 'the logout expires a token', Boolean(credential.endpoints.logoutUrl), 'not tried: no token');
    return f.done(settings);
  }
  const reads = await probeReads(f, http, wire, credential, token, settings);
  const logout = await probeLogout(f, http, wire, credential, () => grant(credential.scopes), reads, token, settings);
  if (logout.works) for (const access of obtained) if (!logout.loggedOut.has(access)) await logoutWith(http, credential, logout.works, access);
  return f.done(settings);
}

/** A read under the API base with the token: 200 when it answered with a page, else its own answer's status (undefined: no answer, or a 200 of another shape). */
async function readWith(http: ProviderHttp, wire: Wire, credential: DegreedConfig, path: string, accessToken: string): Promise<number | undefined> {
  const read = await wire.call(() => bearerRead(http, `${credential.endpoints.apiBase}${path}`, accessToken, z.object({ data: z.array(z.unknown()) })));
  if (read.ok && read.value) return 200;
  const status = read.record?.status ?? undefined;
  return status === 200 ? undefined : status;
}

/**
 * The reads the scopes allow (the users and content reads, and a configured probePath): which
 * answer. The rotator's probe (`probe: true`) reads `probePath`, else the one its scopes allow.
 */
async function probeReads(
  f: FindingsBuilder,
  http: ProviderHttp,
  wire: Wire,
  credential: DegreedConfig,
  token: Grant,
  settings: Record<string, string | boolean>,
): Promise<string[]> {
  const rotators = credential.probePath ?? degreedProbePath(credential.scopes, undefined);
  const paths = [...new Set([...(rotators ? [rotators] : []), ...Object.values(DEGREED_PROBES)])];
  const statuses: Record<string, number | null> = {};
  for (const path of paths) statuses[path] = (await readWith(http, wire, credential, path, token.access_token)) ?? null;
  const working = paths.filter((p) => statuses[p] === 200);
  const text = paths.map((p) => `GET ${p} → ${statuses[p] ?? 'no answer'}`).join(', ');
  const assumption = `the cheap read ${rotators ?? '(none the scopes allow)'} works with the configured scopes (probe: true)`;
  settings.probe = working.length > 0;
  if (rotators && working.includes(rotators)) {
    f.holds('reads', assumption, credential.probe, text, { statuses, working });
    return working;
  }
  if (working[0]) settings.probePath = working[0];
  f.fails('reads', assumption, credential.probe, `${text}${working[0] ? `; ${working[0]} can be read instead (probePath)` : ''}`, { statuses, working });
  return working;
}

async function probeLogout(
  f: FindingsBuilder,
  http: ProviderHttp,
  wire: Wire,
  credential: DegreedConfig,
  fresh: () => Promise<Grant>,
  reads: string[],
  first: Grant,
  settings: Record<string, string | boolean>,
): Promise<{ works?: Method; loggedOut: Set<string> }> {
  const url = credential.endpoints.logoutUrl;
  const assumption = 'the logout expires the token at once (the rotator logs out what it obtained)';
  if (!url) {
    f.fails('logout', assumption, false, `no logoutPath configured: a token obtained lives until it expires (${first.expires_in ?? '?'} s)`, {
      configured: false,
    });
    return { loggedOut: new Set() };
  }
  const results: Record<string, string> = {};
  const loggedOut = new Set<string>();
  const confirmed: Method[] = [];
  const path = reads[0];
  let token: Grant | undefined = first;
  for (const method of METHODS) {
    token ??= await fresh().catch(() => undefined);
    if (!token) {
      results[method] = 'no token to try it with';
      continue;
    }
    const access = token.access_token;
    token = undefined;
    const call = await wire.call(() => logoutWith(http, credential, method, access));
    const answered = call.ok && call.value;
    const status = call.record?.status ?? null;
    if (!answered) {
      results[method] = `refused (${status ?? 'no answer'})`;
      continue;
    }
    loggedOut.add(access);
    // A 2xx is not the proof: only the token refused afterwards is.
    if (!path) {
      results[method] = `answered ${status}; not confirmed (no read the scopes allow shows whether the token still works)`;
      continue;
    }
    const after = await readWith(http, wire, credential, path, access);
    if (after === 401) confirmed.push(method);
    results[method] =
      after === 401 ? `answered ${status}; the token is refused afterwards` : `answered ${status}, but the token still works (${after ?? 'no answer'})`;
  }
  const text = METHODS.map((m) => `${m} → ${results[m]}`).join('; ');
  const configured = credential.logoutMethod;
  const use = confirmed.includes(configured) ? configured : (confirmed[0] ?? configured);
  settings.logoutMethod = use;
  const assumed = `${assumption} with logoutMethod: ${configured}`;
  const facts = { ...results, works: confirmed };
  if (confirmed.includes(configured)) f.holds('logout', assumed, true, text, facts);
  else if (!path && confirmed.length === 0)
    f.unchecked('logout', assumed, true, `${text}: no read the scopes allow, so whether a logout expires the token is not seen`);
  else f.fails('logout', assumed, true, `${text}${use !== configured ? `: use logoutMethod: ${use}` : ''}`, facts);
  // The tokens left are logged out with a confirmed method, else with the configured one if it answered 2xx (it may work).
  const cleanup = confirmed.includes(use) ? use : results[configured]?.startsWith('answered') ? configured : undefined;
  return { loggedOut, ...(cleanup ? { works: cleanup } : {}) };
}

/** A logout as the rotator makes it (the page's GET with a JSON content type, or a POST with a JSON body); true when it answered 2xx. */
async function logoutWith(http: ProviderHttp, credential: DegreedConfig, method: Method, access: string): Promise<boolean> {
  if (!credential.endpoints.logoutUrl) return false;
  return http
    .request({
      operation: 'probe-logout',
      method,
      url: credential.endpoints.logoutUrl,
      headers: { authorization: `Bearer ${access}`, ...(method === 'GET' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' ? { json: {} } : {}),
      idempotent: true,
      secrets: [access],
    })
    .then(
      () => true,
      () => false,
    );
}
