import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type Inventory } from '../../src/config/index.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { type CredlyOAuthAppConfig } from '../../src/kinds/credly/oauth-application/schema.ts';
import { createKinds } from '../../src/composition-root.ts';
import type { OAuthAppSecretState } from '../../src/kinds/credly/oauth-application/provider.ts';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { startCredlyFake, type CredlyFake } from '../fakes/credly.fake.ts';
import type { CredentialConfig } from '../../src/kinds/registry.ts';

const store = createSecretStore(createSecretsManagerClient());
/** The managing token's own Credly, and another host an application entry points at. */
let home: CredlyFake;
let other: CredlyFake;

beforeAll(async () => {
  [home, other] = await Promise.all([startCredlyFake(), startCredlyFake()]);
});
afterAll(async () => Promise.all([home.close(), other.close()]));

function inventoryYaml(ids: { org: string; token: string; app: string }, appApiBase: string): string {
  return `version: 1
credentials:
  - id: manager
    kind: credly-authorization-token
    secretId: ${ids.token}
    organizationId: ${ids.org}
    environment: production
    endpoints: { apiBase: "${home.apiBase}" }
  - id: app
    kind: credly-oauth-application
    secretId: ${ids.app}
    organizationId: ${ids.org}
    environment: production
    managedBy: manager
    applicationName: LMS badge sync
    scopes: [issued_badges]
    recreateEvery: 1d
    endpoints: { apiBase: "${appApiBase}", tokenUrl: "${home.tokenUrl}" }
`;
}

describe('the managing token goes only to its own API', () => {
  it('refuses at load an application entry whose apiBase differs from its manager’s, naming the field', () => {
    const ids = { org: randomUUID(), token: 'test/x/token', app: 'test/x/app' };
    let error: unknown;
    try {
      parseInventory(inventoryYaml(ids, other.apiBase), 'inventory.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      {
        path: 'credentials[1].endpoints.apiBase',
        message: 'differs from the apiBase of its managing credential "manager"; the managing token is only sent to its own API, so both must use the same one',
      },
    ]);
    // The same API written with a trailing slash is the same API.
    expect(() => parseInventory(inventoryYaml(ids, `${home.apiBase}/`))).not.toThrow();
  });

  it('sends every management call (list, create, delete, the listings that confirm and guard) to the manager’s API even when an entry names another host', async () => {
    const run = randomUUID().slice(0, 8);
    const org = home.state.addOrganization(`Org ${run}`);
    other.state.addOrganization(`Org ${run} elsewhere`);
    const manager = home.state.addToken(org, { description: 'managing token' });
    const app = home.state.createApplication(org, { name: 'LMS badge sync', scopes: ['issued_badges'] });
    const ids = { org, token: `test/managing/${run}/token`, app: `test/managing/${run}/app` };
    await store.putCurrent(ids.token, JSON.stringify({ token: manager.token, tokenId: manager.id }));

    // As if the load check were not there: the application entry points its apiBase at the other host.
    const loaded = parseInventory(inventoryYaml(ids, home.apiBase));
    const inventory: Inventory<CredentialConfig> = {
      ...loaded,
      credentials: loaded.credentials.map((c) =>
        c.kind === 'credly-oauth-application' && c.id === 'app' ? { ...c, endpoints: { ...c.endpoints, apiBase: other.apiBase } } : c,
      ),
    };
    const credential = inventory.credentials.find((c): c is CredlyOAuthAppConfig => c.id === 'app')!;
    expect(credential.endpoints.apiBase).toBe(other.apiBase);
    const runtime = createKinds({ inventory, secrets: store, requestTimeoutMs: 2_000 }).get('credly-oauth-application');
    if (runtime?.mode !== 'rotate') throw new Error('the OAuth application kind is not a rotated kind');
    const provider = runtime.rotator;

    const current: OAuthAppSecretState = { value: { clientId: app.uid, clientSecret: app.secret, applicationId: app.id } };
    // recreateEvery lists the applications; issue lists (a resumed rotation), creates; revoke deletes and lists again; the guard's listing.
    expect(await provider.inspect(credential, current, new Date())).toMatchObject({ due: false });
    const issued = await provider.issue(credential, current, {
      rotationId: randomUUID(),
      scope: '{managing}',
      previousRef: String(app.id),
      startedAt: new Date().toISOString(),
      firstAttempt: false,
    });
    expect(await provider.revoke(credential, issued.secret, String(app.id))).toEqual({ state: 'revoked' });
    // The reaper and the revoke guard read the listing with the managing token too.
    expect((await provider.list(credential, issued.secret)).map((l) => l.ref)).toEqual([issued.ref]);

    const basic = `Basic ${Buffer.from(`${manager.token}:`).toString('base64')}`;
    const carried = (r: { headers: Record<string, unknown> }) => JSON.stringify(r.headers).includes(manager.token) || r.headers.authorization === basic;
    expect(other.requests.filter(carried)).toEqual([]);
    expect(other.requests).toEqual([]);
    const management = home.requests.filter((r) => r.server === 'api' && r.path.includes(`/organizations/${org}/oauth_applications`));
    // Listings (recreateEvery, a resumed rotation, the revoke's confirmation, reaping), the create and the delete.
    expect(new Set(management.map((r) => r.method))).toEqual(new Set(['DELETE', 'GET', 'POST']));
    expect(management.filter((r) => r.method === 'GET').length).toBeGreaterThanOrEqual(3);
    expect(management.every(carried)).toBe(true);
    expect(home.state.applications(org).map((a) => a.id)).toEqual([Number(issued.ref)]);
  });
});
