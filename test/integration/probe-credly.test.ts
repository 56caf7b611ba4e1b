import { describe, expect, it } from 'vitest';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { startCredlyFake, type CredlyFake, type CredlyFakeOptions } from '../fakes/credly.fake.ts';
import { credlyTokenInventory, expectNoSecrets, finding, probe, runId, store } from '../support/probe-harness.ts';

/**
 * `rotator probe` against the Credly fake in each variant the vendor pages leave open: the probe
 * must tell every one apart, stay read-only without --allow-writes, and never show a value.
 */

interface TokenSetup {
  fake: CredlyFake;
  id: string;
  org: string;
  inventory: string;
  secrets: () => string[];
}

async function withToken(
  options: CredlyFakeOptions,
  body: (t: TokenSetup) => Promise<void>,
  init: { extra?: string; rights?: { writeEnabled?: boolean; deleteEnabled?: boolean } } = {},
): Promise<void> {
  const fake = await startCredlyFake(options);
  try {
    const run = runId();
    const org = fake.state.addOrganization(`Org ${run}`);
    fake.state.addToken(org, { description: 'another integration' });
    const stored = fake.state.addToken(org, { description: 'made by hand', ...init.rights });
    const secretId = `test/probe/${run}`;
    await store.putCurrent(secretId, JSON.stringify({ token: stored.token, tokenId: stored.id }));
    const id = `credly-${run}`;
    const inventory = credlyTokenInventory({ id, secretId, org, apiBase: fake.apiBase, ...(init.extra ? { extra: init.extra } : {}) });
    const secrets = () => fake.state.tokens().map((t) => t.token);
    await body({ fake, id, org, inventory, secrets });
    // Whatever the variant, the token never went to the web host's copy of the API.
    expect(fake.webApiRequests()).toEqual([]);
  } finally {
    await fake.close();
  }
}

describe('rotator probe: Credly authorization tokens', () => {
  it('read-only: lists, finds the stored token, reads one page link, and sends nothing but GETs; the writes stay unchecked, so it is incomplete (not failed)', async () => {
    await withToken({}, async ({ fake, id, inventory, secrets }) => {
      const { result } = await probe(inventory, id, false);
      expect(fake.requests.filter((r) => r.server === 'api').map((r) => r.method)).toEqual(expect.arrayContaining(['GET']));
      expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
      expect(finding(result, 'listing')).toMatchObject({ status: 'holds', relied: true, facts: { listed: 2, daysToExpiry: 179 } });
      expect(finding(result, 'token-rights')).toMatchObject({ status: 'holds', facts: { rights: 'read/write/delete' } });
      expect(finding(result, 'pagination')).toMatchObject({ status: 'holds', facts: { link: 'same', totalPages: 2, totalCount: 2, listed: 2 } });
      expect(finding(result, 'organization-endpoint')).toMatchObject({ status: 'holds', relied: false, facts: { present: true } });
      expect(finding(result, 'refusal')).toMatchObject({ status: 'holds', facts: { status: 401, keys: ['message'] } });
      for (const check of ['create-token', 'created-token-rights', 'new-token-test', 'delete-token']) {
        expect(finding(result, check)).toMatchObject({ status: 'unchecked', relied: true, observed: expect.stringContaining('--allow-writes') });
      }
      expect(result).toMatchObject({ ok: false, outcome: 'incomplete' });
      expect(result.settings).toEqual({ deleteSupported: true, testWithOrganizationEndpoint: false });
      expect(result.leftovers).toEqual([]);
      expectNoSecrets(secrets(), JSON.stringify(result));
    });
  });

  it('--allow-writes on a Credly with DELETE: the throwaway token carries the marker, inherits the rights, proves itself, is deleted and confirmed gone: exit 0', async () => {
    await withToken({}, async ({ fake, id, org, inventory, secrets }) => {
      const { result } = await probe(inventory, id, true);
      const created = fake.state.tokens(org).filter((t) => parseMarker(t.description)?.credentialId === id);
      expect(created).toHaveLength(1);
      expect(created[0]!.revoked).toBe(true);
      expect(finding(result, 'create-token')).toMatchObject({ status: 'holds', facts: { status: 201, tokenId: created[0]!.id } });
      expect(finding(result, 'created-token-rights')).toMatchObject({ status: 'holds', facts: { inheritsCallersRights: true, kind: 'full' } });
      expect(finding(result, 'new-token-test')).toMatchObject({ status: 'holds' });
      expect(finding(result, 'delete-token')).toMatchObject({ status: 'holds', relied: true, facts: { deleteStatus: 204, stillListed: false } });
      expect(result).toMatchObject({ ok: true, leftovers: [], settings: { deleteSupported: true } });
      expectNoSecrets(secrets(), JSON.stringify(result));
    });
  });

  it.each([404, 405] as const)(
    '--allow-writes on a Credly without token DELETE (%i): detected by listing again; deleteSupported: false; the throwaway token is named to revoke by hand',
    async (status) => {
      await withToken({ deleteSupported: false, deleteUnsupportedStatus: status }, async ({ fake, id, org, inventory, secrets }) => {
        const { result } = await probe(inventory, id, true);
        const created = fake.state.tokens(org).find((t) => parseMarker(t.description)?.credentialId === id)!;
        expect(fake.state.isTokenValid(created.token)).toBe(true);
        expect(finding(result, 'delete-token')).toMatchObject({ status: 'does-not-hold', relied: true, facts: { deleteStatus: status, stillListed: true } });
        expect(result.settings.deleteSupported).toBe(false);
        expect(result.ok).toBe(false);
        expect(result.leftovers).toEqual([expect.objectContaining({ what: 'authorization-token', id: created.id, description: created.description })]);
        expectNoSecrets(secrets(), JSON.stringify(result));
      });
    },
  );

  it('with deleteSupported: false the DELETE is not relied on, yet a throwaway token it could not delete is left at the provider: the probe fails and names it', async () => {
    await withToken(
      { deleteSupported: false },
      async ({ fake, id, org, inventory }) => {
        const { result } = await probe(inventory, id, true);
        const created = fake.state.tokens(org).find((t) => parseMarker(t.description)?.credentialId === id)!;
        expect(finding(result, 'delete-token')).toMatchObject({ status: 'does-not-hold', relied: false });
        expect(result).toMatchObject({ ok: false, outcome: 'failed', leftovers: [expect.objectContaining({ id: created.id })] });
      },
      { extra: '    deleteSupported: false\n' },
    );
  });

  it('without GET /organizations/{id}: absent, and it fails the probe only when testWithOrganizationEndpoint is set', async () => {
    await withToken({ organizationEndpoint: false }, async ({ id, inventory }) => {
      const { result } = await probe(inventory, id, true);
      expect(finding(result, 'organization-endpoint')).toMatchObject({ status: 'does-not-hold', relied: false, facts: { present: false } });
      expect(result).toMatchObject({ ok: true, outcome: 'holds', settings: { testWithOrganizationEndpoint: false } });
    });
    await withToken(
      { organizationEndpoint: false },
      async ({ id, inventory }) => {
        const { result } = await probe(inventory, id, false);
        expect(finding(result, 'organization-endpoint')).toMatchObject({ status: 'does-not-hold', relied: true });
        expect(result.settings.testWithOrganizationEndpoint).toBe(false);
      },
      { extra: '    testWithOrganizationEndpoint: true\n' },
    );
  });

  it('page links on the web host: reported as another origin, never followed; the listing still reads every page on the API base', async () => {
    await withToken({ pageLinks: 'web', maxPer: 1 }, async ({ fake, id, inventory }) => {
      const { result } = await probe(inventory, id, false);
      const origin = new URL(fake.webApiBase).origin;
      expect(finding(result, 'pagination')).toMatchObject({ status: 'holds', facts: { link: 'other', linkOrigin: origin, totalPages: 2, listed: 2 } });
      expect(finding(result, 'pagination').observed).toContain(`another origin (${origin})`);
      expect(finding(result, 'listing')).toMatchObject({ status: 'holds', facts: { listed: 2 } });
    });
  });

  it("created tokens that get full rights or read-only rights instead of the caller's are told apart", async () => {
    const readWrite = { rights: { writeEnabled: true, deleteEnabled: false }, extra: '    deleteSupported: false\n' };
    const cases = [
      ['inherit', 'holds', true, 'read/write'],
      ['full', 'holds', false, 'read/write/delete'],
      ['read-only', 'does-not-hold', false, 'read'],
    ] as const;
    for (const [createdTokenRights, status, inherits, rights] of cases) {
      await withToken(
        { createdTokenRights },
        async ({ id, inventory }) => {
          const { result } = await probe(inventory, id, true);
          expect(finding(result, 'created-token-rights'), createdTokenRights).toMatchObject({ status, facts: { inheritsCallersRights: inherits, rights } });
        },
        readWrite,
      );
    }
  });

  it('a dead stored token: the listing fails with the refusal, the rest is not tried', async () => {
    await withToken({}, async ({ fake, id, org, inventory }) => {
      for (const t of fake.state.tokens(org)) fake.state.killToken(t.id);
      const { result } = await probe(inventory, id, true);
      expect(finding(result, 'listing')).toMatchObject({ status: 'does-not-hold', observed: expect.stringContaining('401') });
      expect(finding(result, 'delete-token').status).toBe('unchecked');
      expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    });
  });
});
