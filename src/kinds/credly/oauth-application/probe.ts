import { randomUUID } from 'node:crypto';
import type { CredlyOAuthAppConfig, CredlyOAuthAppSecret } from './schema.ts';
import { createCredlyOAuthClient, type CreatedApplication, type CredlyApplication, type CredlyOAuthClient } from '../application-client.ts';
import { rotatorDescription } from '../marker.ts';
import type { CredlyGrant } from '../application-client.ts';
import { bogus, describeRefusal, NEEDS_WRITES, probeHttp, refusalFacts, type ProbeOptions } from '../../../probe/common.ts';
import { probePagination } from '../probe-pagination.ts';
import { findingsOf, why, type CredentialProbe, type FindingsBuilder, type Leftover } from '../../../probe/findings.ts';
import { createWire, type Wire } from '../../../probe/wire.ts';
import { readCapped } from '../../../provider-http/body.ts';

type Encoding = 'form' | 'json';
const TOKEN_PATH = /./;

export interface ApplicationProbeInput {
  /** The stored client id and secret, or why there are none usable (the rotator would recreate). */
  secret: CredlyOAuthAppSecret | { problem: unknown };
  /** The current token of the `managedBy` credential. */
  managerToken: string;
}

/**
 * `rotator probe` for a Credly OAuth application: the token endpoint (which body encodings it
 * takes, how it refuses a wrong secret and an unknown scope), the application listing with the
 * managing token (and where its page links point); with --allow-writes, a throwaway application
 * carrying the rotator's marker is created, its secret proven by a grant, and deleted (confirmed by
 * listing again).
 */
export async function probeCredlyApplication(credential: CredlyOAuthAppConfig, input: ApplicationProbeInput, options: ProbeOptions): Promise<CredentialProbe> {
  const f = findingsOf(credential.id, credential.kind);
  const wire = createWire(readCapped);
  const client = createCredlyOAuthClient({ apiBase: credential.endpoints.apiBase, ...probeHttp(wire, options) });
  const settings: Record<string, string | boolean> = {};
  const grantUrl = credential.endpoints.tokenUrl;

  const lost = 'problem' in input.secret;
  if ('problem' in input.secret) {
    f.fails(
      'grant',
      'the stored client id and secret obtain a token with the configured scopes',
      true,
      `no usable secret (the rotator recreates the application): ${why(input.secret.problem)}`,
    );
    // The token endpoint's encodings and refusals are then looked at with the throwaway application's secret.
    if (!options.allowWrites)
      f.unchecked('token-encoding', 'the token endpoint takes the configured body encoding', true, `not tried: no usable secret; ${NEEDS_WRITES}`);
  } else {
    await probeGrants(f, client, wire, credential, input.secret, settings);
  }

  const listingAssumption = "the managing token lists the organization's OAuth applications (documented) and finds this one by its id";
  let listed: CredlyApplication[] | undefined;
  try {
    listed = await client.listApplications(input.managerToken, credential.organizationId);
    const id = 'problem' in input.secret ? undefined : input.secret.applicationId;
    const found = id === undefined ? undefined : listed.some((a) => a.id === id);
    const observed = `${listed.length} application(s) listed${id === undefined ? '' : found ? `; application ${id} among them` : `; application ${id} NOT among them (stale applicationId in the secret)`}`;
    if (found === false) f.fails('listing', listingAssumption, true, observed, { listed: listed.length });
    else f.holds('listing', listingAssumption, true, observed, { listed: listed.length });
  } catch (error) {
    f.fails('listing', listingAssumption, true, why(error));
  }
  if (listed) {
    const url = `${credential.endpoints.apiBase}/organizations/${encodeURIComponent(credential.organizationId)}/oauth_applications`;
    await probePagination(f, wire, options, { url, token: input.managerToken, what: 'application', listed: listed.length });
  }

  if (!options.allowWrites) {
    f.unchecked(
      'create-application',
      'the managing token creates an application, whose secret obtains a token (documented: 201 with the secret)',
      true,
      NEEDS_WRITES,
    );
    f.unchecked(
      'delete-application',
      'DELETE oauth_applications/{id} removes an application (documented: 204; confirmed by listing again)',
      true,
      NEEDS_WRITES,
    );
    return f.done(settings);
  }
  const created = await probeCreateAndDelete(f, client, wire, credential, input.managerToken, grantUrl, lost ? settings : undefined);
  if (created) f.leftovers.push(created);
  return f.done(settings);
}

async function probeGrants(
  f: FindingsBuilder,
  client: CredlyOAuthClient,
  wire: Wire,
  credential: CredlyOAuthAppConfig,
  secret: CredlyOAuthAppSecret,
  settings: Record<string, string | boolean>,
  throwaway = false,
) {
  const url = credential.endpoints.tokenUrl;
  const configured = credential.tokenRequestEncoding;
  const grant = (encoding: Encoding, scopes: string[], clientSecret = secret.clientSecret) =>
    client.grant(url, secret.clientId, clientSecret, scopes, encoding);
  const grantAssumption = `the stored client id and secret obtain a token with ${credential.scopes.join(' ')} (tokenRequestEncoding: ${configured}, as the rotator sends)`;
  if (!throwaway) await probeStoredGrant(f, credential, grantAssumption, () => grant(configured, credential.scopes));

  // Which body encodings the endpoint takes: the pages do not say.
  const accepted: Record<Encoding, number | null> = { form: null, json: null };
  for (const encoding of ['form', 'json'] as const) {
    await grant(encoding, credential.scopes).catch(() => undefined);
    accepted[encoding] = wire.last('POST', TOKEN_PATH)?.status ?? null;
  }
  const takes = (['form', 'json'] as const).filter((e) => accepted[e] === 200);
  const encoding: Encoding = takes.includes(configured) ? configured : (takes[0] ?? configured);
  settings.tokenRequestEncoding = encoding;
  const encodingAssumption = `the token endpoint takes a ${configured === 'form' ? 'form-encoded' : 'JSON'} body (tokenRequestEncoding: ${configured}; the pages do not say)`;
  const encodingText = `form → ${accepted.form ?? 'no answer'}, JSON → ${accepted.json ?? 'no answer'}`;
  if (takes.includes(configured)) f.holds('token-encoding', encodingAssumption, true, encodingText, { form: accepted.form, json: accepted.json });
  else
    f.fails('token-encoding', encodingAssumption, true, `${encodingText}${takes.length ? `: use tokenRequestEncoding: ${encoding}` : ''}`, {
      form: accepted.form,
      json: accepted.json,
    });

  await grant(encoding, credential.scopes, bogus('credential-rotator-probe-')).catch(() => undefined);
  const refusal = refusalFacts(wire, 'POST', TOKEN_PATH);
  const clientAssumption = 'a wrong client secret is refused with 401 invalid_client (the rotator then recreates the application)';
  if (refusal.status === 401 || refusal.errorCode === 'invalid_client') f.holds('invalid-client', clientAssumption, true, describeRefusal(refusal), refusal);
  else f.fails('invalid-client', clientAssumption, true, describeRefusal(refusal), refusal);

  await grant(encoding, ['credential_rotator_probe']).catch(() => undefined);
  const scopeRefusal = refusalFacts(wire, 'POST', TOKEN_PATH);
  const scopeAssumption = 'a scope the application may not have is refused with invalid_scope (the rotator then names the scopes instead of recreating)';
  if (scopeRefusal.errorCode === 'invalid_scope') f.holds('invalid-scope', scopeAssumption, true, describeRefusal(scopeRefusal), scopeRefusal);
  else f.fails('invalid-scope', scopeAssumption, true, describeRefusal(scopeRefusal), scopeRefusal);

  // With one unknown scope among the configured ones: refused whole, or the rest granted. The
  // rotator compares the granted scopes with the configured ones, so either way works.
  let partial: 'refused' | 'rest-granted' | 'unknown';
  try {
    await grant(encoding, [...credential.scopes, 'credential_rotator_probe']);
    partial = 'rest-granted';
  } catch {
    partial = wire.last('POST', TOKEN_PATH)?.errorCode === 'invalid_scope' ? 'refused' : 'unknown';
  }
  const said = {
    refused: 'refused whole (invalid_scope)',
    'rest-granted': 'the other scopes granted without it',
    unknown: 'neither granted nor refused with invalid_scope',
  }[partial];
  f.holds(
    'partial-scopes',
    'a request with one scope too many is refused whole or granted without it (the rotator checks the granted scopes either way)',
    false,
    said,
    { behaviour: partial },
  );
}

/**
 * Creates a throwaway application, proves its secret, deletes it and lists again. With `grantsFor`
 * (the stored secret was unusable) the token endpoint is also probed with the throwaway's secret.
 * Returns what is left at the provider, if anything.
 */
async function probeCreateAndDelete(
  f: FindingsBuilder,
  client: CredlyOAuthClient,
  wire: Wire,
  credential: CredlyOAuthAppConfig,
  managerToken: string,
  tokenUrl: string,
  grantsFor: Record<string, string | boolean> | undefined,
): Promise<Leftover | undefined> {
  const org = credential.organizationId;
  const description = rotatorDescription(randomUUID(), credential.id);
  const createAssumption =
    "the managing token creates an application, whose secret obtains a token with the configured scopes (the rotator's create and test steps)";
  let created: CreatedApplication;
  try {
    created = await client.createApplication(managerToken, org, `${credential.applicationName} (credential-rotator probe)`, description);
  } catch (error) {
    f.fails('create-application', createAssumption, true, why(error));
    f.unchecked('delete-application', 'DELETE oauth_applications/{id} removes an application', true, 'not tried: no application was created');
    return undefined;
  }
  try {
    const grant = await client.grant(tokenUrl, created.uid, created.secret, credential.scopes, credential.tokenRequestEncoding);
    const missing = credential.scopes.filter((s) => !grant.scopes.includes(s));
    if (missing.length)
      f.fails('create-application', createAssumption, true, `created ${created.id}; its grant lacks ${missing.join(', ')}`, { applicationId: created.id });
    else
      f.holds(
        'create-application',
        createAssumption,
        true,
        `created ${created.id} (answer ${wire.last('POST', /\/oauth_applications$/)?.status ?? '?'}); its secret obtains ${grant.scopes.join(' ')}`,
        { applicationId: created.id },
      );
  } catch (error) {
    f.fails('create-application', createAssumption, true, `created ${created.id}; its grant failed: ${why(error)}`, { applicationId: created.id });
  }
  if (grantsFor)
    await probeGrants(f, client, wire, credential, { clientId: created.uid, clientSecret: created.secret, applicationId: created.id }, grantsFor, true);

  const assumption = 'DELETE oauth_applications/{id} removes an application (documented: 204; confirmed by listing again)';
  let answer: string;
  try {
    await client.deleteApplication(managerToken, org, created.id);
    answer = `DELETE answered ${wire.last('DELETE', /\/oauth_applications\/\d+$/)?.status ?? '?'}`;
  } catch (error) {
    answer = `DELETE failed: ${why(error)}`;
  }
  const deleteStatus = wire.last('DELETE', /\/oauth_applications\/\d+$/)?.status ?? null;
  let stillListed: boolean | null = null;
  try {
    stillListed = (await client.listApplications(managerToken, org)).some((a) => a.id === created.id);
  } catch (error) {
    answer += `; listing again failed: ${why(error)}`;
  }
  if (stillListed === false) {
    f.holds('delete-application', assumption, true, `${answer}; the application is no longer listed`, { deleteStatus, stillListed });
    return undefined;
  }
  f.fails('delete-application', assumption, true, `${answer}; ${stillListed ? 'the application is still listed' : 'not confirmed'}`, {
    deleteStatus,
    stillListed,
  });
  return {
    what: 'oauth-application',
    id: String(created.id),
    description,
    advice: `delete OAuth application ${created.id} by hand in Credly (Developers → OAuth Applications)`,
  };
}

async function probeStoredGrant(f: FindingsBuilder, credential: CredlyOAuthAppConfig, assumption: string, grant: () => Promise<CredlyGrant>) {
  try {
    const granted = await grant();
    const missing = credential.scopes.filter((s) => !granted.scopes.includes(s));
    const observed = `granted ${granted.scopes.join(' ') || '(no scope named)'}; expires in ${granted.expiresInSeconds ?? '?'} s`;
    if (missing.length) f.fails('grant', assumption, true, `${observed}: not ${missing.join(', ')}`, { granted: granted.scopes });
    else f.holds('grant', assumption, true, observed, { granted: granted.scopes });
  } catch (error) {
    f.fails('grant', assumption, true, why(error));
  }
}
