import { z } from 'zod';
import { LEARNLINK_PROBE, learnlinkTokenUrl, type LearnlinkConfig, type LearnlinkSecret } from './schema.ts';
import { bearerRead } from '../../provider-http/bearer-read.ts';
import { createProviderHttp } from '../../provider-http/http.ts';
import { createLearnlinkValidator } from './validator.ts';
import { bogus, describeRefusal, probeHttp, refusalFacts, type ProbeOptions } from '../../probe/common.ts';
import { findingsOf, why, type CredentialProbe } from '../../probe/findings.ts';
import { createWire } from '../../probe/wire.ts';
import { readCapped } from '../../provider-http/body.ts';

const grantSchema = z.object({ access_token: z.string().min(1), token_type: z.string(), expires_in: z.number().optional(), scope: z.string().optional() });
type Placement = 'basic' | 'body';

/**
 * `rotator probe` for a Learn.link (Thrive) client secret: the rotator's own check as configured,
 * then the grant with the credentials as HTTP Basic and in the body, how a wrong secret and a scope
 * outside the audience are refused (the page documents 400; 403 is seen elsewhere), and the cheap
 * users read. Tokens obtained are dropped.
 */
export async function probe(credential: LearnlinkConfig, secret: LearnlinkSecret, options: ProbeOptions): Promise<CredentialProbe> {
  const f = findingsOf(credential.id, credential.kind);
  const settings: Record<string, string | boolean> = { credentialsIn: credential.credentialsIn, probe: credential.probe };
  const tenantId = credential.tenantId ?? secret.tenantId;
  if (!tenantId) {
    f.fails(
      'tenant',
      'a tenant id is known (inventory or secret)',
      true,
      `no tenant id: set tenantId in the inventory or put "tenantId" into secret "${credential.secretId}"`,
    );
    return f.done(settings);
  }
  const wire = createWire(readCapped);
  const http = createProviderHttp({ provider: 'learnlink', ...probeHttp(wire, options) });
  const url = learnlinkTokenUrl(credential.endpoints.tokenUrl, tenantId);

  const check = `the rotator's own check passes as configured (grant${credential.probe ? ', read' : ''})`;
  try {
    f.holds('validation', check, true, (await createLearnlinkValidator(probeHttp(wire, options)).validate(credential, secret)).summary);
  } catch (error) {
    f.fails('validation', check, true, why(error));
  }

  const grant = (placement: Placement, scopes: string[], clientSecret = secret.clientSecret) => {
    const form: Record<string, string> = { grant_type: 'client_credentials', ...(scopes.length ? { scope: scopes.join(' ') } : {}) };
    const headers: Record<string, string> = {};
    if (placement === 'basic') headers.authorization = `Basic ${Buffer.from(`${tenantId}:${clientSecret}`).toString('base64')}`;
    else Object.assign(form, { client_id: tenantId, client_secret: clientSecret });
    return http
      .request({ operation: 'token-grant', method: 'POST', url, headers, form, parse: grantSchema, idempotent: true, secrets: [secret.clientSecret] })
      .then((a) => a.body);
  };

  const statuses: Record<Placement, number | null> = { basic: null, body: null };
  let token: z.infer<typeof grantSchema> | undefined;
  for (const placement of ['basic', 'body'] as const) {
    const got = await wire.call(() => grant(placement, credential.scopes));
    statuses[placement] = got.record?.status ?? null;
    if (placement === credential.credentialsIn && got.ok) token = got.value;
  }
  const works = (['basic', 'body'] as const).filter((p) => statuses[p] === 200);
  if (!works.includes(credential.credentialsIn) && works[0]) settings.credentialsIn = works[0];
  const placementAssumption = `the token endpoint takes the tenant id and secret as ${credential.credentialsIn === 'basic' ? 'HTTP Basic' : 'body fields'} (credentialsIn: ${credential.credentialsIn})`;
  const placementText = `HTTP Basic → ${statuses.basic ?? 'no answer'}, body fields → ${statuses.body ?? 'no answer'}`;
  if (works.includes(credential.credentialsIn)) f.holds('credentials-in', placementAssumption, true, placementText, { ...statuses });
  else f.fails('credentials-in', placementAssumption, true, `${placementText}${works[0] ? `: use credentialsIn: ${works[0]}` : ''}`, { ...statuses });
  const placement = settings.credentialsIn as Placement;

  const refused = refusalFacts((await wire.call(() => grant(placement, credential.scopes, bogus('credential-rotator-probe-')))).record);
  const clientAssumption = 'a wrong secret is refused with 401 (the rotator reports invalid-credential)';
  if (refused.status === 401) f.holds('invalid-client', clientAssumption, true, describeRefusal(refused), refused);
  else f.fails('invalid-client', clientAssumption, true, describeRefusal(refused), refused);

  const scopeRefused = refusalFacts((await wire.call(() => grant(placement, ['api/credential-rotator-probe']))).record);
  const scopeAssumption = 'a scope the tenant may not have is refused with 400 (documented) or 403 (the rotator then names the missing scopes)';
  if (scopeRefused.status === 400 || scopeRefused.status === 403) f.holds('scope-refusal', scopeAssumption, true, describeRefusal(scopeRefused), scopeRefused);
  else f.fails('scope-refusal', scopeAssumption, true, describeRefusal(scopeRefused), scopeRefused);

  const path = credential.probePath ?? LEARNLINK_PROBE;
  const readAssumption = `the cheap read GET ${path} works with the granted token (probe: true)`;
  if (credential.audience !== 'api') {
    settings.probe = false;
    f.fails('reads', readAssumption, false, 'a webhooks token is not for the REST API: nothing to read', { audience: credential.audience });
  } else if (!token) {
    f.unchecked('reads', readAssumption, credential.probe, 'not tried: no token');
  } else {
    const { access_token } = token;
    const read = await wire.call(() => bearerRead(http, `${credential.endpoints.apiBase}${path}`, access_token, z.object({ results: z.array(z.unknown()) })));
    const ok = read.ok && read.value;
    const status = read.record?.status ?? null;
    settings.probe = ok;
    if (ok) f.holds('reads', readAssumption, credential.probe, `answered ${status}`, { status });
    else f.fails('reads', readAssumption, credential.probe, `answered ${status ?? 'nothing'}: keep probe: false, or ask for api/read`, { status });
  }
  return f.done(settings);
}
