import { describe, expect, it } from 'vitest';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { startCredlyFake, type CredlyFake } from '../fakes/credly.fake.ts';
import { startDegreedFake, type DegreedFakeOptions } from '../fakes/degreed.fake.ts';
import { startLearnlinkFake } from '../fakes/learnlink.fake.ts';
import {
  credlyAppInventory,
  credlyTokenInventory,
  degreedInventory,
  expectNoSecrets,
  finding,
  learnlinkInventory,
  probe,
  runId,
  store,
} from '../support/probe-harness.ts';

/**
 * The probe reports only what it saw: each check reads the answer to its own request (never the one
 * before, after a lost connection), a create whose answer was lost is looked for by its marker and
 * deleted or reported, a refusal holds only on the evidence the rotator acts on, and a logout only
 * when the token is refused after it. Against the fakes over HTTP, with their faults.
 */

async function credlyToken(fake: CredlyFake) {
  const run = runId();
  const org = fake.state.addOrganization(`Org ${run}`);
  const stored = fake.state.addToken(org, { description: 'made by hand' });
  const secretId = `test/probe-evidence/${run}`;
  await store.putCurrent(secretId, JSON.stringify({ token: stored.token, tokenId: stored.id }));
  const id = `credly-${run}`;
  return { id, org, inventory: credlyTokenInventory({ id, secretId, org, apiBase: fake.apiBase }) };
}

const TOKENS = { method: 'POST', path: /\/authorization_tokens$/ } as const;
const LISTING = { method: 'GET', path: /\/authorization_tokens$/ } as const;

describe('probe: a create whose answer was lost', () => {
  it('Credly token: found by its marker in the listing, deleted and confirmed gone; the create does not hold, nothing is left', async () => {
    const fake = await startCredlyFake();
    try {
      const { id, org, inventory } = await credlyToken(fake);
      fake.faults.add({ match: TOKENS, fault: { kind: 'lose-answer' } });
      const { result } = await probe(inventory, id, true);
      const made = fake.state.tokens(org).filter((t) => parseMarker(t.description)?.credentialId === id);
      expect(made).toHaveLength(1);
      expect(made[0]!.revoked).toBe(true);
      expect(finding(result, 'create-token')).toMatchObject({ status: 'does-not-hold', facts: { found: true, tokenId: made[0]!.id } });
      expect(finding(result, 'create-token').observed).toContain('network error');
      expect(finding(result, 'delete-token')).toMatchObject({ status: 'holds', facts: { deleteStatus: 204, stillListed: false } });
      expect(result).toMatchObject({ outcome: 'failed', leftovers: [] });
      expectNoSecrets(
        fake.state.tokens().map((t) => t.token),
        JSON.stringify(result),
      );
    } finally {
      await fake.close();
    }
  });

  it('Credly token: when the listing that would find it fails too, it is reported as left at the provider by its description', async () => {
    const fake = await startCredlyFake();
    try {
      const { id, org, inventory } = await credlyToken(fake);
      fake.faults.add({ match: TOKENS, fault: { kind: 'lose-answer' } });
      // The listing, the page probe and the unknown-token refusal come first; the search after the create is refused (both attempts).
      fake.faults.add({ match: LISTING, skip: 3, times: 2, fault: { kind: 'status', status: 503 } });
      const { result } = await probe(inventory, id, true);
      expect(fake.faults.pending()).toBe(0);
      const made = fake.state.tokens(org).find((t) => parseMarker(t.description)?.credentialId === id)!;
      expect(made.revoked).toBe(false);
      expect(finding(result, 'create-token')).toMatchObject({ status: 'does-not-hold', observed: expect.stringContaining('the listing that would find it') });
      expect(finding(result, 'delete-token')).toMatchObject({ status: 'unchecked', observed: 'not tried: whether a token was created is not known' });
      expect(result.outcome).toBe('failed');
      expect(result.leftovers).toEqual([
        { what: 'authorization-token', id: 'unknown', description: made.description, advice: expect.stringContaining(made.description!) },
      ]);
    } finally {
      await fake.close();
    }
  });

  it('Credly token: a create refused with an answer (403) made nothing, and nothing is searched for', async () => {
    const fake = await startCredlyFake();
    try {
      const { id, org, inventory } = await credlyToken(fake);
      fake.faults.add({ match: TOKENS, fault: { kind: 'status', status: 403 } });
      const before = fake.requests.length;
      const { result } = await probe(inventory, id, true);
      expect(finding(result, 'create-token')).toMatchObject({ status: 'does-not-hold', observed: expect.stringContaining('403') });
      expect(finding(result, 'delete-token').observed).toBe('not tried: no token was created');
      expect(fake.state.tokens(org).filter((t) => parseMarker(t.description) !== undefined)).toEqual([]);
      // Nothing after the refused POST.
      expect(fake.requests.slice(before).at(-1)).toMatchObject({ method: 'POST' });
      expect(result.leftovers).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('Credly OAuth application: found by its marker, deleted; its lost secret leaves the grant unproven', async () => {
    const fake = await startCredlyFake();
    try {
      const run = runId();
      const org = fake.state.addOrganization(`Org ${run}`);
      const manager = fake.state.addToken(org, { description: 'manages applications' });
      const app = fake.state.addApplication(org, { name: 'LMS', scopes: ['issued_badges'] });
      await store.putCurrent(`test/probe/${run}/manager`, JSON.stringify({ token: manager.token }));
      await store.putCurrent(`test/probe/${run}/app`, JSON.stringify({ clientId: app.uid, clientSecret: app.secret, applicationId: app.id }));
      const id = `app-${run}`;
      const inventory = credlyAppInventory({ id, managerId: `manager-${run}`, run, org, apiBase: fake.apiBase, tokenUrl: fake.tokenUrl });
      fake.faults.add({ match: { method: 'POST', path: /\/oauth_applications$/ }, fault: { kind: 'lose-answer' } });
      const { result } = await probe(inventory, id, true);
      expect(fake.state.applications(org).filter((a) => parseMarker(a.description)?.credentialId === id)).toEqual([]);
      expect(finding(result, 'create-application')).toMatchObject({
        status: 'does-not-hold',
        observed: expect.stringContaining('its answer (and secret) lost'),
      });
      expect(finding(result, 'delete-application')).toMatchObject({ status: 'holds', facts: { stillListed: false } });
      expect(result).toMatchObject({ outcome: 'failed', leftovers: [] });
    } finally {
      await fake.close();
    }
  });
});

describe('probe: a listed token in a shape the documentation does not give', () => {
  it("is reported by its id and fields, not relied on, and fails nothing the rotator relies on: it skips another integration's token", async () => {
    const fake = await startCredlyFake();
    try {
      const { id, org, inventory } = await credlyToken(fake);
      const odd = fake.state.addToken(org, { description: 'made in the web UI', listedAs: { expires_at: null } });
      const { result } = await probe(inventory, id, true);
      expect(finding(result, 'listed-records')).toMatchObject({
        status: 'does-not-hold',
        relied: false,
        observed: `1 listed token(s) in another shape: ${odd.id} (expires_at: invalid_type)`,
      });
      expect(finding(result, 'listing')).toMatchObject({ status: 'holds', facts: { listed: 1 } });
      expect(finding(result, 'pagination')).toMatchObject({ status: 'holds', facts: { totalCount: 2, listed: 2 } });
      expect(result).toMatchObject({ outcome: 'holds', leftovers: [] });
      expectNoSecrets(
        fake.state.tokens().map((t) => t.token),
        JSON.stringify(result),
      );

      // The stored token itself in such a shape: the listing does not hold, and says why.
      const stored = fake.state.tokens(org).find((t) => t.description === 'made by hand')!;
      stored.listedAs = { expires_at: null };
      const { result: own } = await probe(inventory, id, false);
      expect(finding(own, 'listing')).toMatchObject({
        status: 'does-not-hold',
        observed: `the stored token ${stored.id} is listed in a shape the documentation does not give (at expires_at: invalid_type): the rotator fails for good on it`,
      });
      expect(own.outcome).toBe('failed');
    } finally {
      await fake.close();
    }
  });
});

describe('probe: refusals hold only on the evidence the rotator acts on', () => {
  it('Credly OAuth application: a bare 401 for a wrong secret (a proxy, no invalid_client) does not hold; two invalid_client do', async () => {
    const fake = await startCredlyFake();
    try {
      const run = runId();
      const org = fake.state.addOrganization(`Org ${run}`);
      const manager = fake.state.addToken(org, { description: 'manages applications' });
      const app = fake.state.addApplication(org, { name: 'LMS', scopes: ['issued_badges'] });
      await store.putCurrent(`test/probe/${run}/manager`, JSON.stringify({ token: manager.token }));
      await store.putCurrent(`test/probe/${run}/app`, JSON.stringify({ clientId: app.uid, clientSecret: app.secret, applicationId: app.id }));
      const id = `app-${run}`;
      const inventory = credlyAppInventory({ id, managerId: `manager-${run}`, run, org, apiBase: fake.apiBase, tokenUrl: fake.tokenUrl });
      const grants = { server: 'web', method: 'POST', path: '/oauth/token' } as const;

      const { result: honest } = await probe(inventory, id, false);
      expect(finding(honest, 'invalid-client')).toMatchObject({
        status: 'holds',
        facts: { status: 401, errorCode: 'invalid_client', again: 'invalid_client' },
      });

      // The stored grant and the two encodings pass; both wrong-secret grants meet a proxy's bare 401.
      fake.faults.add({ match: grants, skip: 3, times: 2, fault: { kind: 'status', status: 401, body: '{"message":"Unauthorized"}' } });
      const { result } = await probe(inventory, id, false);
      expect(fake.faults.pending()).toBe(0);
      expect(finding(result, 'invalid-client')).toMatchObject({ status: 'does-not-hold', relied: true, facts: { status: 401, errorCode: null, again: null } });
      expect(result.outcome).toBe('failed');

      // One invalid_client and one bare 401: the rotator would not recreate on that either.
      fake.faults.add({ match: grants, skip: 4, times: 1, fault: { kind: 'status', status: 401, body: '{"message":"Unauthorized"}' } });
      const { result: mixed } = await probe(inventory, id, false);
      expect(finding(mixed, 'invalid-client')).toMatchObject({ status: 'does-not-hold', facts: { errorCode: 'invalid_client', again: null } });
    } finally {
      await fake.close();
    }
  });

  it('Degreed answering 400 invalid_client / invalid_scope (RFC 6749 §5.2): both refusals hold, as the validator classifies them', async () => {
    const { result } = await degreed({ refusalStatus: 400 }, ['users:read'], '    probe: true\n');
    expect(finding(result, 'invalid-client')).toMatchObject({ status: 'holds', facts: { status: 400, errorCode: 'invalid_client' } });
    expect(finding(result, 'scope-refusal')).toMatchObject({ status: 'holds', facts: { status: 400, errorCode: 'invalid_scope' } });
    expect(result.outcome).toBe('holds');
  });
});

async function degreed(options: DegreedFakeOptions, scopes: string[], extra: string) {
  const fake = await startDegreedFake(options);
  try {
    const run = runId();
    const client = fake.state.addClient({ scopes });
    await store.putCurrent(`test/probe/${run}`, JSON.stringify(client));
    const id = `degreed-${run}`;
    const inventory = degreedInventory({
      id,
      secretId: `test/probe/${run}`,
      scopes,
      tokenUrl: fake.tokenUrl,
      apiBase: fake.apiBase,
      logoutUrl: fake.logoutUrl,
      extra,
    });
    const { result } = await probe(inventory, id, false);
    return { result, live: fake.state.liveAccessTokens().length };
  } finally {
    await fake.close();
  }
}

describe('probe: a Degreed logout holds only when the token is refused after it', () => {
  it('a logout that answers 200 but leaves the token live does not hold, and is not taken as the setting', async () => {
    const { result } = await degreed({ logoutExpires: false }, ['users:read'], '    probe: true\n');
    expect(finding(result, 'logout')).toMatchObject({ status: 'does-not-hold', relied: true, facts: { works: [] } });
    expect(finding(result, 'logout').facts.GET).toMatch(/answered 200, but the token still works \(200\)/);
    expect(result.outcome).toBe('failed');
  });

  it('the same Degreed with a logout that expires the token: holds', async () => {
    const { result, live } = await degreed({}, ['users:read'], '    probe: true\n');
    expect(finding(result, 'logout')).toMatchObject({ status: 'holds', facts: { works: ['GET'] } });
    expect(live).toBe(0);
  });
});

describe('probe: each check reads the answer to its own request', () => {
  it('Learn.link: a grant whose connection is reset reads as no answer, not as the 200 of the grant before it', async () => {
    const fake = await startLearnlinkFake();
    try {
      const run = runId();
      const tenant = fake.state.addTenant({ scopes: ['api/read'] });
      await store.putCurrent(`test/probe/${run}`, JSON.stringify({ clientSecret: tenant.clientSecret, tenantId: tenant.tenantId }));
      const id = `learnlink-${run}`;
      const inventory = learnlinkInventory({
        id,
        secretId: `test/probe/${run}`,
        tokenUrl: fake.tokenUrl.api,
        apiBase: fake.apiBase,
        extra: '    probe: true\n',
      });
      // The rotator's own check and the HTTP Basic grant pass; the body-fields grant is reset (both attempts).
      fake.faults.add({ match: { method: 'POST' }, skip: 2, times: 2, fault: { kind: 'reset' } });
      const { result } = await probe(inventory, id, false);
      expect(fake.faults.pending()).toBe(0);
      expect(finding(result, 'credentials-in')).toMatchObject({ status: 'holds', facts: { basic: 200, body: null } });
      expect(finding(result, 'credentials-in').observed).toBe('HTTP Basic → 200, body fields → no answer');
    } finally {
      await fake.close();
    }
  });
});
