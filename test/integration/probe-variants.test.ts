import { describe, expect, it } from 'vitest';
import type { CredentialProbe } from '../../src/probe/findings.ts';
import { startCredlyFake } from '../fakes/credly.fake.ts';
import { startDegreedFake } from '../fakes/degreed.fake.ts';
import { startLearnlinkFake } from '../fakes/learnlink.fake.ts';
import { CREDLY_APP_VARIANTS, CREDLY_VARIANTS, DEGREED_VARIANTS, LEARNLINK_VARIANTS } from '../support/fake-variants.ts';
import { credlyAppInventory, credlyTokenInventory, degreedInventory, finding, learnlinkInventory, probe, runId, store } from '../support/probe-harness.ts';

/**
 * Every variant the rotation, recreation and validation suites run against (fake-variants.ts), probed
 * with --allow-writes: the probe must tell each one by what it reports. A variant added there without
 * an expectation here fails, so the probe keeps up with the fakes.
 */

const CREDLY: Record<string, (r: CredentialProbe) => void> = {
  'as documented (defaults)': (r) => {
    expect(finding(r, 'delete-token').facts).toMatchObject({ deleteStatus: 204, stillListed: false });
    expect(finding(r, 'organization-endpoint').facts).toEqual({ present: true });
    expect(finding(r, 'pagination').facts).toMatchObject({ link: 'same' });
    expect(r.ok).toBe(true);
  },
  'no token DELETE (404)': (r) => {
    expect(finding(r, 'delete-token')).toMatchObject({ status: 'does-not-hold', facts: { deleteStatus: 404, stillListed: true } });
    expect(r.settings.deleteSupported).toBe(false);
  },
  'no token DELETE (405)': (r) => {
    expect(finding(r, 'delete-token')).toMatchObject({ status: 'does-not-hold', facts: { deleteStatus: 405, stillListed: true } });
    expect(r.settings.deleteSupported).toBe(false);
  },
  'no GET /organizations/{id}': (r) => {
    expect(finding(r, 'organization-endpoint')).toMatchObject({ status: 'does-not-hold', relied: false, facts: { present: false } });
    expect(r.ok).toBe(true);
  },
  'page links on the web host, 2 a page': (r) => {
    expect(finding(r, 'pagination')).toMatchObject({ status: 'holds', facts: { link: 'other' } });
    expect(r.ok).toBe(true);
  },
  'created tokens get full rights': (r) => expect(finding(r, 'created-token-rights')).toMatchObject({ status: 'holds', facts: { kind: 'full' } }),
  'created tokens are read-only': (r) => {
    expect(finding(r, 'created-token-rights')).toMatchObject({ status: 'does-not-hold', facts: { kind: 'read-only', inheritsCallersRights: false } });
    expect(r.ok).toBe(false);
  },
  'create answers 200': (r) => expect(finding(r, 'create-token').facts).toMatchObject({ status: 200 }),
  // The rotator always sends `token:` (the page's form): a strict server changes nothing it relies on.
  'strict Basic (token and colon only)': (r) => {
    expect(finding(r, 'listing').status).toBe('holds');
    expect(r.ok).toBe(true);
  },
};

const APPS: Record<string, (r: CredentialProbe) => void> = {
  'as documented (defaults)': (r) => {
    expect(finding(r, 'token-encoding').facts).toEqual({ form: 200, json: 200 });
    expect(finding(r, 'delete-application').facts).toMatchObject({ deleteStatus: 204, stillListed: false });
    expect(r.ok).toBe(true);
  },
  'token endpoint takes form only': (r) => expect(finding(r, 'token-encoding')).toMatchObject({ status: 'holds', facts: { form: 200, json: 400 } }),
  'token endpoint takes JSON only': (r) => {
    expect(finding(r, 'token-encoding')).toMatchObject({ status: 'holds', facts: { form: 400, json: 200 } });
    expect(r.ok).toBe(true);
  },
  'no application DELETE': (r) => {
    expect(finding(r, 'delete-application')).toMatchObject({ status: 'does-not-hold', facts: { deleteStatus: 404, stillListed: true } });
    expect(r.leftovers).toHaveLength(1);
  },
  'page links on the web host, 1 a page': (r) => expect(finding(r, 'pagination')).toMatchObject({ status: 'holds', facts: { link: 'other' } }),
  // The application's probe relies on no organization endpoint: nothing to see, and nothing fails.
  'no GET /organizations/{id}': (r) => expect(r.ok).toBe(true),
  'scopes the application lacks left out of the grant': (r) => {
    expect(finding(r, 'partial-scopes').facts).toEqual({ behaviour: 'rest-granted' });
    expect(r.ok).toBe(true);
  },
};

describe('rotator probe detects every variant of the fakes', () => {
  it.each(CREDLY_VARIANTS)('Credly token: $name', async (variant) => {
    const expectation = CREDLY[variant.name];
    expect(expectation, `no probe expectation for the Credly variant "${variant.name}"`).toBeDefined();
    const fake = await startCredlyFake(variant.options);
    try {
      const run = runId();
      const org = fake.state.addOrganization();
      fake.state.addToken(org);
      const stored = fake.state.addToken(org);
      await store.putCurrent(`test/probe/${run}`, JSON.stringify({ token: stored.token }));
      const extra = variant.inventory ? `    ${variant.inventory}\n` : '';
      const inventory = credlyTokenInventory({ id: `credly-${run}`, secretId: `test/probe/${run}`, org, apiBase: fake.apiBase, extra });
      const { result } = await probe(inventory, `credly-${run}`, true);
      expectation!(result);
      expect(fake.webApiRequests()).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it.each(CREDLY_APP_VARIANTS)('Credly OAuth application: $name', async (variant) => {
    const expectation = APPS[variant.name];
    expect(expectation, `no probe expectation for the application variant "${variant.name}"`).toBeDefined();
    const fake = await startCredlyFake(variant.options);
    try {
      const run = runId();
      const org = fake.state.addOrganization();
      const manager = fake.state.addToken(org);
      fake.state.addApplication(org);
      const app = fake.state.addApplication(org);
      await store.putCurrent(`test/probe/${run}/manager`, JSON.stringify({ token: manager.token }));
      await store.putCurrent(`test/probe/${run}/app`, JSON.stringify({ clientId: app.uid, clientSecret: app.secret, applicationId: app.id }));
      const extra = variant.inventory ? `    ${variant.inventory}\n` : '';
      const inventory = credlyAppInventory({ id: `a-${run}`, managerId: `m-${run}`, run, org, apiBase: fake.apiBase, tokenUrl: fake.tokenUrl, extra });
      const { result } = await probe(inventory, `a-${run}`, true);
      expectation!(result);
      expect(fake.webApiRequests()).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it.each(DEGREED_VARIANTS)('Degreed: $name', async (variant) => {
    const fake = await startDegreedFake(variant.options);
    try {
      const run = runId();
      await store.putCurrent(`test/probe/${run}`, JSON.stringify(fake.state.addClient({ scopes: ['users:read'] })));
      const inventory = degreedInventory({
        id: `d-${run}`,
        secretId: `test/probe/${run}`,
        scopes: ['users:read'],
        tokenUrl: fake.tokenUrl,
        apiBase: fake.apiBase,
        logoutUrl: fake.logoutUrl,
        extra: `    ${variant.inventory}\n`,
      });
      const { result } = await probe(inventory, `d-${run}`, true);
      expect(finding(result, 'logout')).toMatchObject({ status: 'holds', facts: { works: [variant.options.logoutMethod] } });
      // Whatever the status of the refusals, they are told as the validator tells them.
      const refusalStatus = variant.options.refusalStatus ?? 403;
      expect(finding(result, 'invalid-client')).toMatchObject({ status: 'holds', facts: { status: refusalStatus, errorCode: 'invalid_client' } });
      expect(finding(result, 'scope-refusal')).toMatchObject({ status: 'holds', facts: { status: refusalStatus, errorCode: 'invalid_scope' } });
      expect(result.ok).toBe(true);
    } finally {
      await fake.close();
    }
  });

  it.each(LEARNLINK_VARIANTS)('Learn.link: $name', async (variant) => {
    const fake = await startLearnlinkFake(variant.options);
    try {
      const run = runId();
      const tenant = fake.state.addTenant({ scopes: ['api/read'] });
      await store.putCurrent(`test/probe/${run}`, JSON.stringify({ clientSecret: tenant.clientSecret }));
      const inventory = learnlinkInventory({
        id: `l-${run}`,
        secretId: `test/probe/${run}`,
        tokenUrl: fake.tokenUrl.api,
        apiBase: fake.apiBase,
        extra: `    tenantId: ${tenant.tenantId}\n`,
      });
      const { result } = await probe(inventory, `l-${run}`, true);
      expect(finding(result, 'scope-refusal')).toMatchObject({ status: 'holds', facts: { status: variant.options.scopeRefusal } });
      expect(result.ok).toBe(true);
    } finally {
      await fake.close();
    }
  });
});
