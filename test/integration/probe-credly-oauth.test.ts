import { describe, expect, it } from 'vitest';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { startCredlyFake, type CredlyFake, type CredlyFakeOptions } from '../fakes/credly.fake.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { credlyAppInventory, expectNoSecrets, finding, probe, runId, store, withSettings } from '../support/probe-harness.ts';

/** `rotator probe` for a Credly OAuth application, against each variant of the fake's token endpoint and application DELETE. */

interface AppSetup {
  fake: CredlyFake;
  id: string;
  org: string;
  inventory: string;
  secrets: () => string[];
}

async function withApplication(options: CredlyFakeOptions, body: (t: AppSetup) => Promise<void>): Promise<void> {
  const fake = await startCredlyFake(options);
  try {
    const run = runId();
    const org = fake.state.addOrganization(`Org ${run}`);
    const manager = fake.state.addToken(org, { description: 'manages applications' });
    fake.state.addApplication(org, { name: 'another one' });
    const app = fake.state.addApplication(org, { name: 'LMS', scopes: ['issued_badges', 'badge_templates'] });
    await store.putCurrent(`test/probe/${run}/manager`, JSON.stringify({ token: manager.token }));
    await store.putCurrent(`test/probe/${run}/app`, JSON.stringify({ clientId: app.uid, clientSecret: app.secret, applicationId: app.id }));
    const id = `app-${run}`;
    const inventory = credlyAppInventory({ id, managerId: `manager-${run}`, run, org, apiBase: fake.apiBase, tokenUrl: fake.tokenUrl });
    const secrets = () => [
      ...fake.state.tokens().map((t) => t.token),
      ...fake.state.applications().map((a) => a.secret),
      ...fake.state.liveAccessTokens().map((a) => a.value),
      // Every client secret sent, the throwaway application's (deleted since) included.
      ...fake.requests.map((r) => (r.body as { client_secret?: unknown } | undefined)?.client_secret).filter((v): v is string => typeof v === 'string'),
    ];
    await body({ fake, id, org, inventory, secrets });
    expect(fake.webApiRequests()).toEqual([]);
  } finally {
    await fake.close();
  }
}

describe('rotator probe: Credly OAuth applications', () => {
  it('read-only: the grant, both encodings, the refusals and the listing; only token-endpoint grants and GETs are sent', async () => {
    await withApplication({}, async ({ fake, id, inventory, secrets }) => {
      const before = fake.state.applications().length;
      const { result } = await probe(inventory, id, false);
      expect(fake.requests.filter((r) => r.method !== 'GET' && !(r.server === 'web' && r.path === '/oauth/token'))).toEqual([]);
      expect(fake.state.applications()).toHaveLength(before);
      expect(finding(result, 'grant')).toMatchObject({ status: 'holds', facts: { granted: ['issued_badges'] } });
      expect(finding(result, 'token-encoding')).toMatchObject({ status: 'holds', facts: { form: 200, json: 200 } });
      expect(finding(result, 'invalid-client')).toMatchObject({
        status: 'holds',
        facts: { status: 401, errorCode: 'invalid_client', keys: ['error', 'error_description'] },
      });
      expect(finding(result, 'invalid-scope')).toMatchObject({ status: 'holds', facts: { status: 400, errorCode: 'invalid_scope' } });
      expect(finding(result, 'partial-scopes')).toMatchObject({ relied: false, facts: { behaviour: 'refused' } });
      expect(finding(result, 'listing')).toMatchObject({ status: 'holds', facts: { listed: 2 } });
      expect(finding(result, 'pagination')).toMatchObject({ status: 'holds', facts: { link: 'same', totalPages: 2 } });
      expect(finding(result, 'create-application').status).toBe('unchecked');
      expect(result.ok).toBe(false);
      expectNoSecrets(secrets(), JSON.stringify(result));
    });
  });

  it.each([
    ['form', 200, 400, true, 'form'],
    ['json', 400, 200, false, 'json'],
  ] as const)('a token endpoint that takes %s only: form → %i, JSON → %i; the setting fixes it', async (tokenBody, form, json, holds, use) => {
    await withApplication({ tokenBody }, async ({ id, inventory }) => {
      const { result } = await probe(inventory, id, false);
      expect(finding(result, 'token-encoding')).toMatchObject({ status: holds ? 'holds' : 'does-not-hold', relied: true, facts: { form, json } });
      expect(finding(result, 'grant').status).toBe(holds ? 'holds' : 'does-not-hold');
      expect(result.settings).toEqual({ tokenRequestEncoding: use });
      // With the setting applied, the rotator's own grant and the probe agree.
      const { result: again } = await probe(withSettings(inventory, result.settings), id, false);
      expect(finding(again, 'token-encoding').status).toBe('holds');
      expect(finding(again, 'grant').status).toBe('holds');
      expect(finding(again, 'invalid-client').status).toBe('holds');
      expect(() => parseInventory(withSettings(inventory, result.settings))).not.toThrow();
    });
  });

  it('a token endpoint that grants the rest of a partly unknown scope list is told from one that refuses it', async () => {
    await withApplication({ scopeMismatch: 'grant-subset' }, async ({ id, inventory }) => {
      const { result } = await probe(inventory, id, false);
      expect(finding(result, 'partial-scopes').facts).toEqual({ behaviour: 'rest-granted' });
    });
  });

  it('--allow-writes: a throwaway application with the marker is created, its secret proven, deleted and confirmed gone: exit 0', async () => {
    await withApplication({}, async ({ fake, id, org, inventory, secrets }) => {
      const { result } = await probe(inventory, id, true);
      expect(finding(result, 'create-application')).toMatchObject({ status: 'holds' });
      expect(finding(result, 'delete-application')).toMatchObject({ status: 'holds', facts: { deleteStatus: 204, stillListed: false } });
      expect(fake.state.applications(org).some((a) => parseMarker(a.description)?.credentialId === id)).toBe(false);
      expect(result).toMatchObject({ ok: true, leftovers: [] });
      expectNoSecrets(secrets(), JSON.stringify(result));
    });
  });

  it('--allow-writes on a Credly whose application DELETE does nothing: still listed, reported, left to delete by hand', async () => {
    await withApplication({ applicationDeleteSupported: false }, async ({ fake, id, org, inventory, secrets }) => {
      const { result } = await probe(inventory, id, true);
      const left = fake.state.applications(org).find((a) => parseMarker(a.description)?.credentialId === id)!;
      expect(finding(result, 'delete-application')).toMatchObject({ status: 'does-not-hold', facts: { deleteStatus: 404, stillListed: true } });
      expect(result.leftovers).toEqual([expect.objectContaining({ what: 'oauth-application', id: String(left.id) })]);
      expect(result.ok).toBe(false);
      expectNoSecrets([...secrets(), left.secret], JSON.stringify(result));
    });
  });

  it('a lost application secret: the grant does not hold; read-only leaves the endpoint unchecked, --allow-writes looks at it with the throwaway application', async () => {
    await withApplication({ tokenBody: 'json' }, async ({ id, inventory, secrets }) => {
      const lost = inventory.replace(/secretId: (test\/probe\/\w+)\/app/, 'secretId: $1/missing');
      const { result: readOnly } = await probe(lost, id, false);
      expect(finding(readOnly, 'grant')).toMatchObject({ status: 'does-not-hold', observed: expect.stringContaining('no usable secret') });
      expect(finding(readOnly, 'token-encoding').status).toBe('unchecked');
      const { result } = await probe(lost, id, true);
      expect(finding(result, 'token-encoding')).toMatchObject({ status: 'does-not-hold', facts: { form: 400, json: 200 } });
      expect(finding(result, 'invalid-client').facts).toMatchObject({ status: 401, errorCode: 'invalid_client' });
      expect(result.settings).toEqual({ tokenRequestEncoding: 'json' });
      expect(finding(result, 'delete-application').status).toBe('holds');
      expectNoSecrets(secrets(), JSON.stringify(readOnly), JSON.stringify(result));
    });
  });
});
