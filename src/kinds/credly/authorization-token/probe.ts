import { randomUUID } from 'node:crypto';
import type { CredlyTokenConfig, CredlyTokenSecret } from './schema.ts';
import { createCredlyClient, type CredlyClient, type CredlyToken } from '../token-client.ts';
import { rotatorDescription } from '../marker.ts';
import { missingRights } from './new-token-check.ts';
import { ProviderAuthError, ProviderError, ProviderRequestError } from '../../../errors/provider-errors.ts';
import { bogus, DAY_MS, describeRefusal, NEEDS_WRITES, probeHttp, refusalFacts, type ProbeOptions } from '../../../probe/common.ts';
import { probePagination } from '../probe-pagination.ts';
import type { OddRecord } from '../listed-records.ts';
import { findingsOf, why, type CredentialProbe, type FindingsBuilder } from '../../../probe/findings.ts';
import { createWire, type Wire } from '../../../probe/wire.ts';
import { readCapped } from '../../../provider-http/body.ts';

/** The assumptions, in words, by check name (the same text whether checked or not). */
const A = {
  listing: "the stored token lists the organization's authorization tokens (documented) and finds itself there with its expires_at",
  rights: 'the stored token is read- and write-enabled (and delete-enabled with deleteSupported: true)',
  create: 'a write-enabled token creates a token (POST authorization_tokens, documented)',
  createdRights:
    'a created token gets the rights the next rotation needs: read and write (and delete with deleteSupported: true); the pages do not say which it gets',
  test: "a new token proves itself by the documented listing: it finds itself with its expires_at (the rotator's test step)",
  delete: 'DELETE authorization_tokens/{id} revokes a token (in no vendor page; confirmed by listing again)',
} as const;

/** Later listings (the search, the test, the re-list) look for one token: the others' shapes are reported once, above. */
const skip = () => undefined;

const flags = (t: Pick<CredlyToken, 'readEnabled' | 'writeEnabled' | 'deleteEnabled'>) =>
  [t.readEnabled ? 'read' : '', t.writeEnabled ? 'write' : '', t.deleteEnabled ? 'delete' : ''].filter(Boolean).join('/') || 'no rights';
const sameRights = (a: CredlyToken, b: CredlyToken) =>
  a.readEnabled === b.readEnabled && a.writeEnabled === b.writeEnabled && a.deleteEnabled === b.deleteEnabled;

/**
 * `rotator probe` for a Credly authorization token: the documented listing (and where its page
 * links point), the stored token's rights, whether `GET /organizations/{id}` exists, how an unknown
 * token is refused; with --allow-writes, a throwaway token carrying the rotator's marker is created
 * (which rights it gets, whether it proves itself by the listing) and deleted (whether DELETE exists,
 * confirmed by listing again).
 */
export async function probeCredlyToken(credential: CredlyTokenConfig, secret: CredlyTokenSecret, options: ProbeOptions): Promise<CredentialProbe> {
  const f = findingsOf(credential.id, credential.kind);
  const wire = createWire(readCapped);
  const client = createCredlyClient({ apiBase: credential.endpoints.apiBase, ...probeHttp(wire, options) });
  const org = credential.organizationId;
  const tokensUrl = `${credential.endpoints.apiBase}/organizations/${encodeURIComponent(org)}/authorization_tokens`;
  const settings: Record<string, boolean> = {
    deleteSupported: credential.deleteSupported,
    testWithOrganizationEndpoint: credential.testWithOrganizationEndpoint,
  };
  let listed: CredlyToken[];
  // Records in a shape the pages do not give are skipped, as the rotator skips those not its own, and reported.
  const odd: OddRecord[] = [];
  try {
    listed = await client.listTokens(secret.token, org, (r) => void odd.push(r));
  } catch (error) {
    f.fails('listing', A.listing, true, why(error));
    const notTried = 'not tried: the stored token cannot list';
    f.unchecked('create-token', A.create, true, notTried);
    f.unchecked('created-token-rights', A.createdRights, true, notTried);
    f.unchecked('delete-token', A.delete, credential.deleteSupported, notTried);
    return f.done(settings);
  }
  const self = listed.find((t) => t.token === secret.token || (secret.tokenId !== undefined && t.id === secret.tokenId));
  const oddSelf = odd.find((r) => r.token === secret.token || (secret.tokenId !== undefined && r.id === secret.tokenId));
  if (oddSelf) {
    f.fails(
      'listing',
      A.listing,
      true,
      `the stored token ${oddSelf.id ?? ''} is listed in a shape the documentation does not give (at ${oddSelf.fields.join(', ')}): the rotator fails for good on it`,
      { listed: listed.length + odd.length },
    );
  } else if (!self) {
    f.fails(
      'listing',
      A.listing,
      true,
      `${listed.length} token(s) listed, the stored one not among them (the listing of a read-only token shows only read-only tokens)`,
      { listed: listed.length },
    );
  } else {
    const days = Math.floor((self.expiresAt.getTime() - Date.now()) / DAY_MS);
    f.holds('listing', A.listing, true, `${listed.length} token(s) listed; the stored one is ${self.id}, ${flags(self)}, expires in ${days} day(s)`, {
      listed: listed.length,
      tokenId: self.id,
      daysToExpiry: days,
    });
    // The stored token creates the next one (write) and, with deleteSupported, revokes the old one.
    const missing = missingRights(credential, self);
    if (missing.length) f.fails('token-rights', A.rights, true, `it is ${flags(self)}: not ${missing.join(', ')}`, { rights: flags(self) });
    else f.holds('token-rights', A.rights, true, `it is ${flags(self)}`, { rights: flags(self) });
  }

  const shapeAssumption =
    "every listed token has the documented fields (the rotator skips one that does not, unless it is the credential's own: then it fails for good, naming the field)";
  const seen = odd.map((r) => `${r.id ?? '(no id)'} (${r.fields.join(', ')})`);
  if (odd.length) f.fails('listed-records', shapeAssumption, false, `${odd.length} listed token(s) in another shape: ${seen.join('; ')}`, { odd: seen });
  else f.holds('listed-records', shapeAssumption, false, `all ${listed.length} fit`, { odd: [] });

  await probePagination(f, wire, options, { url: tokensUrl, token: secret.token, what: 'token', listed: listed.length + odd.length });
  await probeOrganizationEndpoint(f, client, credential, secret.token, settings);
  await probeRefusal(f, client, wire, org);

  if (!options.allowWrites) {
    f.unchecked('create-token', A.create, true, NEEDS_WRITES);
    f.unchecked('created-token-rights', A.createdRights, true, NEEDS_WRITES);
    f.unchecked('new-token-test', A.test, true, NEEDS_WRITES);
    f.unchecked('delete-token', A.delete, credential.deleteSupported, NEEDS_WRITES);
    return f.done(settings);
  }
  await probeCreateAndDelete(f, client, wire, credential, secret.token, self, settings);
  return f.done(settings);
}

async function probeOrganizationEndpoint(
  f: FindingsBuilder,
  client: CredlyClient,
  credential: CredlyTokenConfig,
  token: string,
  settings: Record<string, boolean>,
) {
  const assumption =
    'GET /organizations/{id} answers for the organization (in no vendor page; the rotator uses it only with testWithOrganizationEndpoint: true)';
  const relied = credential.testWithOrganizationEndpoint;
  try {
    const organization = await client.getOrganization(token, credential.organizationId);
    f.holds('organization-endpoint', assumption, relied, `present: it names the organization ("${organization.name}")`, { present: true });
  } catch (error) {
    // The listing of the same organization just worked: a 404 here is the route, not the organization.
    const absent = error instanceof ProviderError && error.status === 404;
    if (absent) settings.testWithOrganizationEndpoint = false;
    f.fails(
      'organization-endpoint',
      assumption,
      relied,
      absent ? 'absent: 404 (the token listing of the same organization works): keep testWithOrganizationEndpoint: false' : why(error),
      {
        present: absent ? false : null,
      },
    );
  }
}

async function probeRefusal(f: FindingsBuilder, client: CredlyClient, wire: Wire, org: string) {
  const assumption = 'an unknown or dead token is refused with 401 (the rotator then fails at once: "refused by Credly (401)")';
  const call = await wire.call(() => client.listTokens(bogus('credential-rotator-probe-'), org));
  if (call.ok) {
    f.fails('refusal', assumption, false, 'a token no one issued was accepted');
    return;
  }
  const facts = refusalFacts(call.record);
  const observed = describeRefusal(facts);
  if (facts.status === 401) f.holds('refusal', assumption, false, observed, facts);
  else f.fails('refusal', assumption, false, observed, facts);
}

/** How to find and revoke a throwaway token by hand. */
const revokeAdvice = (id: string | undefined, description: string) =>
  `revoke authorization token ${id ?? `described "${description}"`} by hand in Credly (Organization settings → Developers → Authorization tokens); it stays valid until it expires`;

/**
 * The create's answer was lost or unreadable (no answer, a 5xx, a body that is not the API's): the
 * token may exist all the same. The listing is searched for the throwaway's marker: the token found
 * is the one created (then deleted like any), none found means none was created, and a listing that
 * fails leaves it unknown — reported as left at the provider, by its description.
 */
async function findLostCreate(
  f: FindingsBuilder,
  client: CredlyClient,
  wire: Wire,
  org: string,
  token: string,
  description: string,
  lost: unknown,
): Promise<CredlyToken | undefined> {
  const search = await wire.call(() => client.listTokens(token, org, skip));
  if (!search.ok) {
    f.fails('create-token', A.create, true, `${why(lost)}; the listing that would find it by its marker failed too: ${why(search.error)}`);
    f.leftovers.push({ what: 'authorization-token', id: 'unknown', description, advice: revokeAdvice(undefined, description) });
    return undefined;
  }
  const found = search.value.find((t) => t.description === description);
  if (!found) {
    f.fails('create-token', A.create, true, `${why(lost)}; no token carries its marker in the listing: none was created`, { found: false });
    return undefined;
  }
  f.fails('create-token', A.create, true, `${why(lost)}; yet the listing shows ${found.id} with its marker: created, its answer lost`, {
    found: true,
    tokenId: found.id,
  });
  return found;
}

async function probeCreateAndDelete(
  f: FindingsBuilder,
  client: CredlyClient,
  wire: Wire,
  credential: CredlyTokenConfig,
  token: string,
  self: CredlyToken | undefined,
  settings: Record<string, boolean>,
) {
  const org = credential.organizationId;
  const description = rotatorDescription(randomUUID(), credential.id);
  const notCreated = (why: string) => {
    f.unchecked('created-token-rights', A.createdRights, true, why);
    f.unchecked('new-token-test', A.test, true, why);
    f.unchecked('delete-token', A.delete, credential.deleteSupported, why);
  };
  const create = await wire.call(() => client.createToken(token, org, description));
  let created: CredlyToken;
  if (create.ok) {
    created = create.value;
    const status = create.record?.status ?? null;
    f.holds('create-token', A.create, true, `created ${created.id} (answer ${status})`, { status, tokenId: created.id });
  } else if (create.error instanceof ProviderAuthError || create.error instanceof ProviderRequestError) {
    // Refused with an answer that says so: nothing was created.
    f.fails('create-token', A.create, true, why(create.error));
    notCreated('not tried: no token was created');
    return;
  } else {
    const found = await findLostCreate(f, client, wire, org, token, description, create.error);
    if (!found) {
      notCreated(f.leftovers.length ? 'not tried: whether a token was created is not known' : 'not tried: no token was created');
      return;
    }
    created = found;
  }

  const inherits = self === undefined ? null : sameRights(created, self);
  const kind =
    created.readEnabled && created.writeEnabled && created.deleteEnabled ? 'full' : !created.writeEnabled && !created.deleteEnabled ? 'read-only' : 'partial';
  const missing = missingRights(credential, created);
  const rightsText = `the new token is ${flags(created)}${self ? ` (the caller is ${flags(self)}: ${inherits ? "the caller's rights" : "not the caller's rights"})` : ''}`;
  const rightsFacts = { rights: flags(created), inheritsCallersRights: inherits, kind };
  if (missing.length) f.fails('created-token-rights', A.createdRights, true, `${rightsText}: not ${missing.join(', ')}`, rightsFacts);
  else f.holds('created-token-rights', A.createdRights, true, rightsText, rightsFacts);

  const test = await wire.call(() => client.listTokens(created.token, org, skip));
  const seen = test.ok ? test.value.find((t) => t.id === created.id) : undefined;
  if (!test.ok) f.fails('new-token-test', A.test, true, why(test.error));
  else if (seen) f.holds('new-token-test', A.test, true, `the new token lists ${created.id}, expiring ${seen.expiresAt.toISOString()}`);
  else f.fails('new-token-test', A.test, true, "the new token's listing does not show it");
  await probeDelete(f, client, wire, credential, token, created, description, settings);
}

async function probeDelete(
  f: FindingsBuilder,
  client: CredlyClient,
  wire: Wire,
  credential: CredlyTokenConfig,
  token: string,
  created: CredlyToken,
  description: string,
  settings: Record<string, boolean>,
) {
  const org = credential.organizationId;
  const assumption = A.delete;
  const deletion = await wire.call(() => client.deleteToken(token, org, created.id));
  const deleteStatus = deletion.record?.status ?? null;
  let answer = deletion.ok ? `DELETE answered ${deleteStatus}` : `DELETE failed: ${why(deletion.error)}`;
  let stillListed: boolean | null = null;
  const relist = await wire.call(() => client.listTokens(token, org, skip));
  if (relist.ok) stillListed = relist.value.some((t) => t.id === created.id);
  else answer += `; listing again failed: ${why(relist.error)}`;
  const facts = { deleteStatus, stillListed };
  if (stillListed === false) {
    settings.deleteSupported = true;
    f.holds('delete-token', assumption, credential.deleteSupported, `${answer}; the token is no longer listed`, facts);
    return;
  }
  // A refusal of the caller (not delete-enabled) says nothing about the route.
  const refused = deleteStatus === 401 || deleteStatus === 403;
  if (stillListed === true && !refused) settings.deleteSupported = false;
  const verdict = refused
    ? 'the stored token may not delete, so whether DELETE exists is not known'
    : stillListed
      ? 'the token is still listed: DELETE does not revoke here, so use deleteSupported: false'
      : 'not confirmed';
  f.fails('delete-token', assumption, credential.deleteSupported, `${answer}; ${verdict}`, facts);
  f.leftovers.push({ what: 'authorization-token', id: created.id, description, advice: revokeAdvice(created.id, description) });
}
