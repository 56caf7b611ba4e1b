import { describe, expect, it } from 'vitest';
import { startDegreedFake, type DegreedFakeOptions } from '../fakes/degreed.fake.ts';
import { startLearnlinkFake, type LearnlinkFakeOptions } from '../fakes/learnlink.fake.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { degreedInventory, expectNoSecrets, finding, learnlinkInventory, probe, runId, store, withSettings } from '../support/probe-harness.ts';

/** `rotator probe` for Degreed and Learn.link credentials, against each variant of their fakes. */

async function degreed(options: DegreedFakeOptions, scopes: string[], extra: string, configured = ['users:read']) {
  const fake = await startDegreedFake(options);
  const run = runId();
  const client = fake.state.addClient({ scopes });
  await store.putCurrent(`test/probe/${run}`, JSON.stringify(client));
  const id = `degreed-${run}`;
  const inventory = degreedInventory({
    id,
    secretId: `test/probe/${run}`,
    scopes: configured,
    tokenUrl: fake.tokenUrl,
    apiBase: fake.apiBase,
    logoutUrl: fake.logoutUrl,
    extra,
  });
  const { result } = await probe(inventory, id, false);
  // What the probe recommends is an inventory the rotator takes.
  expect(() => parseInventory(withSettings(inventory, result.settings))).not.toThrow();
  const secrets = [client.clientSecret, ...fake.state.issuedAccessTokens().flatMap((t) => [t.value, t.refreshToken])];
  // Read-only: the API host sees only reads; the token host only grants and logouts of the probe's own tokens.
  for (const r of fake.requests) {
    if (r.server === 'api') expect(r.method).toBe('GET');
    else expect(['/oauth/token', fake.logoutPath]).toContain(r.path);
  }
  const live = fake.state.liveAccessTokens().length;
  await fake.close();
  return { result, secrets, live };
}

describe('rotator probe: Degreed', () => {
  it("the rotator's check, the scopes one by one, both refusals, the reads the scopes allow, and the configured POST logout confirmed by the token being refused", async () => {
    const { result, secrets, live } = await degreed({ logoutMethod: 'POST' }, ['users:read', 'content:read'], '    probe: true\n    logoutMethod: POST\n');
    // Every token the probe (and the rotator's check inside it) obtained is logged out again.
    expect(live).toBe(0);
    expect(finding(result, 'validation')).toMatchObject({ status: 'holds', observed: expect.stringContaining('logged out') });
    expect(finding(result, 'scopes')).toMatchObject({ status: 'holds', facts: { held: ['users:read'], missing: [] } });
    expect(finding(result, 'invalid-client')).toMatchObject({ status: 'holds', facts: { status: 403, errorCode: 'invalid_client' } });
    expect(finding(result, 'scope-refusal')).toMatchObject({ status: 'holds', facts: { status: 403, errorCode: 'invalid_scope' } });
    expect(finding(result, 'reads')).toMatchObject({ status: 'holds', relied: true, facts: { statuses: { '/users?limit=1': 200, '/content?limit=1': 403 } } });
    expect(finding(result, 'logout')).toMatchObject({ status: 'holds', relied: true, facts: { works: ['POST'] } });
    expect(finding(result, 'logout').facts.GET).toMatch(/refused \(404\)/);
    expect(result).toMatchObject({ ok: true, settings: { probe: true, logoutMethod: 'POST' } });
    expectNoSecrets(secrets, JSON.stringify(result));
  });

  it.each([
    ['GET', 'holds', 'GET'],
    ['POST', 'does-not-hold', 'POST'],
  ] as const)("a Degreed whose logout is a %s, with the inventory's default (the page's GET): %s; logoutMethod: %s", async (logoutMethod, status, use) => {
    const { result, secrets } = await degreed({ logoutMethod }, ['users:read'], '');
    expect(finding(result, 'logout')).toMatchObject({ status, relied: true, facts: { works: [logoutMethod] } });
    expect(finding(result, 'logout').facts[logoutMethod]).toMatch(/refused afterwards/);
    expect(result.settings.logoutMethod).toBe(use);
    expect(result.ok).toBe(status === 'holds');
    expectNoSecrets(secrets, JSON.stringify(result));
  });

  it('a probePath the scopes do not allow: the read does not hold, and the one that works is the setting; no logout configured', async () => {
    const { result } = await degreed({ logoutPath: null }, ['content:read'], '    probe: true\n    probePath: /users?limit=1\n', ['content:read']);
    expect(finding(result, 'scopes')).toMatchObject({ status: 'holds', facts: { held: ['content:read'] } });
    expect(finding(result, 'reads')).toMatchObject({
      status: 'does-not-hold',
      relied: true,
      facts: { statuses: { '/users?limit=1': 403, '/content?limit=1': 200 } },
    });
    expect(finding(result, 'reads').observed).toContain('/content?limit=1 can be read instead');
    expect(finding(result, 'logout')).toMatchObject({ relied: false, facts: { configured: false } });
    expect(result).toMatchObject({ ok: false, settings: { probe: true, probePath: '/content?limit=1' } });
  });

  it('a key that lacks a configured scope: named, and nothing past the grant is tried', async () => {
    const { result } = await degreed({}, ['content:read'], '');
    expect(finding(result, 'scopes')).toMatchObject({ status: 'does-not-hold', facts: { missing: ['users:read'] } });
    expect(finding(result, 'validation')).toMatchObject({ status: 'does-not-hold', observed: expect.stringContaining('missing-scope') });
    expect(finding(result, 'reads').status).toBe('unchecked');
  });
});

async function learnlink(options: LearnlinkFakeOptions, extra: string) {
  const fake = await startLearnlinkFake(options);
  const run = runId();
  const tenant = fake.state.addTenant({ scopes: ['api/read'] });
  await store.putCurrent(`test/probe/${run}`, JSON.stringify({ clientSecret: tenant.clientSecret, tenantId: tenant.tenantId }));
  const id = `learnlink-${run}`;
  const inventory = learnlinkInventory({ id, secretId: `test/probe/${run}`, tokenUrl: fake.tokenUrl.api, apiBase: fake.apiBase, extra });
  const { result } = await probe(inventory, id, false);
  expect(() => parseInventory(withSettings(inventory, result.settings))).not.toThrow();
  const secrets = [tenant.clientSecret, ...fake.state.issuedAccessTokens().map((t) => t.value)];
  for (const r of fake.requests) expect(r.method === 'GET' ? r.path : `${r.method} ${r.path}`).toMatch(/^(\/rest\/v1\/users|POST \/oauth2\/token\/)/);
  await fake.close();
  return { result, secrets };
}

describe('rotator probe: Learn.link', () => {
  it.each([400, 403] as const)('a scope refusal answered %i is detected, with the documented body fields', async (scopeRefusal) => {
    const { result, secrets } = await learnlink({ scopeRefusal }, '    probe: true\n');
    expect(finding(result, 'scope-refusal')).toMatchObject({ status: 'holds', facts: { status: scopeRefusal, keys: ['error', 'message', 'status'] } });
    expect(finding(result, 'validation').status).toBe('holds');
    expect(finding(result, 'credentials-in')).toMatchObject({ status: 'holds', facts: { basic: 200, body: 200 } });
    expect(finding(result, 'invalid-client')).toMatchObject({ status: 'holds', facts: { status: 401 } });
    expect(finding(result, 'reads')).toMatchObject({ status: 'holds', relied: true, facts: { status: 200 } });
    expect(result.ok).toBe(true);
    expectNoSecrets(secrets, JSON.stringify(result));
  });
});
