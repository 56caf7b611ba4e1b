import { randomUUID } from 'node:crypto';
import type { CredlyOAuthAppConfig, CredlyOAuthAppSecret } from './schema.ts';
import { createCredlyOAuthClient, type CredlyApplication, type CredlyOAuthClient } from '../application-client.ts';
import { ProviderAuthError, ProviderRequestError } from '../../../errors/provider-errors.ts';
import { rotatorDescription } from '../marker.ts';
import type { CredlyGrant } from '../application-client.ts';
import { bogus, describeRefusal, NEEDS_WRITES, probeHttp, refusalFacts, type ProbeOptions } from '../../../probe/common.ts';
import { probePagination } from '../probe-pagination.ts';
import { findingsOf, why, type CredentialProbe, type FindingsBuilder, type Leftover } from '../../../probe/findings.ts';
import { createWire, type Wire } from '../../../probe/wire.ts';
import { readCapped } from '../../../provider-http/body.ts';

type Encoding = 'form' | 'json';

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
    f.unchecked('delete-application', DELETE_ASSUMPTION, true, NEEDS_WRITES);
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
  for (const encoding of ['form', 'json'] as const) accepted[encoding] = (await wire.call(() => grant(encoding, credential.scopes))).record?.status ?? null;
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

  // The rotator recreates an application only when the token endpoint says invalid_client twice
  // (whatever the status): a bare 401, a proxy's or an outage's, is not that evidence.
  const wrong = bogus('credential-rotator-probe-');
  const refusals = [];
  for (let n = 0; n < 2; n += 1) refusals.push(refusalFacts((await wire.call(() => grant(encoding, credential.scopes, wrong))).record));
  const [refusal, again] = refusals as [ReturnType<typeof refusalFacts>, ReturnType<typeof refusalFacts>];
  const clientAssumption =
    'a wrong client secret is refused with invalid_client, every time (the rotator recreates the application only on two invalid_client refusals)';
  const clientText = `${describeRefusal(refusal)}; again: ${describeRefusal(again)}`;
  const clientFacts = { ...refusal, again: again.errorCode };
  if (refusal.errorCode === 'invalid_client' && again.errorCode === 'invalid_client')
    f.holds('invalid-client', clientAssumption, true, clientText, clientFacts);
  else f.fails('invalid-client', clientAssumption, true, clientText, clientFacts);

  const scopeRefusal = refusalFacts((await wire.call(() => grant(encoding, ['credential_rotator_probe']))).record);
  const scopeAssumption = 'a scope the application may not have is refused with invalid_scope (the rotator then names the scopes instead of recreating)';
  if (scopeRefusal.errorCode === 'invalid_scope') f.holds('invalid-scope', scopeAssumption, true, describeRefusal(scopeRefusal), scopeRefusal);
  else f.fails('invalid-scope', scopeAssumption, true, describeRefusal(scopeRefusal), scopeRefusal);

  // With one unknown scope among the configured ones: refused whole, or the rest granted. The
  // rotator compares the granted scopes with the configured ones, so either way works.
  const extra = await wire.call(() => grant(encoding, [...credential.scopes, 'credential_rotator_probe']));
  const partial: 'refused' | 'rest-granted' | 'unknown' = extra.ok ? 'rest-granted' : extra.record?.errorCode === 'invalid_scope' ? 'refused' : 'unknown';
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
  const create = await wire.call(() => client.createApplication(managerToken, org, `${credential.applicationName} (credential-rotator probe)`, description));
  let created: CredlyApplication;
  let secret: string | undefined;
  if (create.ok) {
    created = create.value;
    secret = create.value.secret;
  } else {
    const refused = create.error instanceof ProviderAuthError || create.error instanceof ProviderRequestError;
    const found = refused ? { leftover: undefined, app: undefined } : await findLostCreate(client, wire, managerToken, org, description);
    const observed = found.app
      ? `${why(create.error)}; yet the listing shows application ${found.app.id} with its marker: created, its answer (and secret) lost`
      : found.leftover
        ? `${why(create.error)}; the listing that would find it by its marker failed too`
        : `${why(create.error)}${refused ? '' : '; no application carries its marker in the listing: none was created'}`;
    f.fails('create-application', createAssumption, true, observed, found.app ? { applicationId: found.app.id } : {});
    if (!found.app) {
      f.unchecked(
        'delete-application',
        DELETE_ASSUMPTION,
        true,
        found.leftover ? 'not tried: whether one was created is not known' : 'not tried: no application was created',
      );
      return found.leftover;
    }
    created = found.app;
  }
  if (secret !== undefined) {
    const proof = await wire.call(() => client.grant(tokenUrl, created.uid, secret, credential.scopes, credential.tokenRequestEncoding));
    const missing = proof.ok ? credential.scopes.filter((s) => !proof.value.scopes.includes(s)) : [];
    if (!proof.ok)
      f.fails('create-application', createAssumption, true, `created ${created.id}; its grant failed: ${why(proof.error)}`, { applicationId: created.id });
    else if (missing.length)
      f.fails('create-application', createAssumption, true, `created ${created.id}; its grant lacks ${missing.join(', ')}`, { applicationId: created.id });
    else
      f.holds(
        'create-application',
        createAssumption,
        true,
        `created ${created.id} (answer ${create.record?.status ?? '?'}); its secret obtains ${proof.value.scopes.join(' ')}`,
        { applicationId: created.id },
      );
    if (grantsFor) await probeGrants(f, client, wire, credential, { clientId: created.uid, clientSecret: secret, applicationId: created.id }, grantsFor, true);
  }

  const deletion = await wire.call(() => client.deleteApplication(managerToken, org, created.id));
  const deleteStatus = deletion.record?.status ?? null;
  let answer = deletion.ok ? `DELETE answered ${deleteStatus}` : `DELETE failed: ${why(deletion.error)}`;
  let stillListed: boolean | null = null;
  const relist = await wire.call(() => client.listApplications(managerToken, org));
  if (relist.ok) stillListed = relist.value.some((a) => a.id === created.id);
  else answer += `; listing again failed: ${why(relist.error)}`;
  if (stillListed === false) {
    f.holds('delete-application', DELETE_ASSUMPTION, true, `${answer}; the application is no longer listed`, { deleteStatus, stillListed });
    return undefined;
  }
  f.fails('delete-application', DELETE_ASSUMPTION, true, `${answer}; ${stillListed ? 'the application is still listed' : 'not confirmed'}`, {
    deleteStatus,
    stillListed,
  });
  return { what: 'oauth-application', id: String(created.id), description, advice: deleteAdvice(String(created.id)) };
}

const DELETE_ASSUMPTION = 'DELETE oauth_applications/{id} removes an application (documented: 204; confirmed by listing again)';
const deleteAdvice = (which: string) => `delete OAuth application ${which} by hand in Credly (Developers → OAuth Applications)`;

/**
 * The create's answer was lost or unreadable: the application may exist. The listing is searched
 * for the throwaway's marker; a listing that fails leaves it unknown, reported by its description.
 */
async function findLostCreate(
  client: CredlyOAuthClient,
  wire: Wire,
  managerToken: string,
  org: string,
  description: string,
): Promise<{ app: CredlyApplication | undefined; leftover: Leftover | undefined }> {
  const search = await wire.call(() => client.listApplications(managerToken, org));
  if (!search.ok) {
    return {
      app: undefined,
      leftover: { what: 'oauth-application', id: 'unknown', description, advice: deleteAdvice(`described "${description}"`) },
    };
  }
  return { app: search.value.find((a) => a.description === description), leftover: undefined };
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
