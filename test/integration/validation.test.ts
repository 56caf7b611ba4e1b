import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/kinds/registry.ts';
import { type DegreedConfig } from '../../src/kinds/degreed/schema.ts';
import { type LearnlinkConfig } from '../../src/kinds/learnlink/schema.ts';
import { isPermanent } from '../../src/errors/rotator-error.ts';
import { createDegreedValidator } from '../../src/kinds/degreed/validator.ts';
import { createLearnlinkValidator } from '../../src/kinds/learnlink/validator.ts';
import { createRotationStateStore } from '../../src/state/rotation-state.ts';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { validateCredential } from '../../src/validation/validate.ts';
import { ValidationError } from '../../src/validation/validator.ts';
import { startDegreedFake, type DegreedFake } from '../fakes/degreed.fake.ts';
import { startLearnlinkFake, type LearnlinkFake } from '../fakes/learnlink.fake.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { DEGREED_VARIANTS, LEARNLINK_VARIANTS } from '../support/fake-variants.ts';
import { degreedSecret } from '../../src/kinds/degreed/schema.ts';

// Each suite runs against every variant of its fake (fake-variants.ts); these are the current one's.
let degreed: DegreedFake;
let learnlink: LearnlinkFake;
let degreedVariant = '';
afterEach(() => {
  // One of the two may not have started yet (the suites run one after the other).
  (degreed as DegreedFake | undefined)?.faults.clear();
  (learnlink as LearnlinkFake | undefined)?.faults.clear();
});

function degreedConfig(extra = '', scopes = '[users:read, content:read]'): DegreedConfig {
  return parseInventory(`version: 1
credentials:
  - id: degreed-eu
    kind: degreed-client-credentials
    secretId: prod/degreed/eu
    environment: production
    dataCenter: EU
    scopes: ${scopes}
    endpoints: { tokenUrl: "${degreed.tokenUrl}", apiBase: "${degreed.apiBase}" }
    ${degreedVariant}
${extra}`).credentials[0] as DegreedConfig;
}

function learnlinkConfig(tenantId: string | undefined, extra = '', audience = 'api', scopes = '[api/read]'): LearnlinkConfig {
  return parseInventory(`version: 1
credentials:
  - id: thrive
    kind: learnlink-client-credentials
    secretId: prod/learnlink/api
${tenantId ? `    tenantId: ${tenantId}\n` : ''}    environment: production
    audience: ${audience}
    scopes: ${scopes}
    endpoints: { tokenUrl: "${audience === 'api' ? learnlink.tokenUrl.api : learnlink.tokenUrl.webhooks}", apiBase: "${learnlink.apiBase}" }
${extra}`).credentials[0] as LearnlinkConfig;
}

/** Waits recorded, not slept, so Retry-After is checked without waiting for it. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

async function failure(promise: Promise<unknown>, ...secrets: string[]): Promise<ValidationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  const text = JSON.stringify({ message: (error as Error).message, cause: String((error as Error).cause) });
  for (const secret of secrets) expect(text.includes(secret)).toBe(false);
  return error as ValidationError;
}

describe.each(DEGREED_VARIANTS)('Degreed validation (the fake over HTTP: $name)', (variant) => {
  beforeAll(async () => {
    degreed = await startDegreedFake(variant.options);
    degreedVariant = variant.inventory;
  });
  afterAll(() => degreed.close());

  it('passes with a working key, probes, and logs the token out so none stays alive', async () => {
    const client = degreed.state.addClient();
    const result = await createDegreedValidator().validate(degreedConfig('    probe: true\n    logoutPath: /oauth/logout'), client);
    expect(result).toEqual({
      grantedScopes: ['users:read', 'content:read'],
      expiresInSeconds: 300,
      probed: true,
      loggedOut: true,
      summary: 'token granted (scopes users:read,content:read; expires in 300 s); probe ok; logged out',
    });
    const issued = degreed.state.issuedAccessTokens().filter((t) => t.clientId === client.clientId);
    expect(issued).toHaveLength(1);
    expect(degreed.state.isAccessTokenLive(issued[0]!.value)).toBe(false);
    const grant = degreed.requests.find((r) => r.path === '/oauth/token' && (r.body as Record<string, string>).client_id === client.clientId);
    expect(grant?.contentType).toContain('application/x-www-form-urlencoded');
    expect((grant?.body as Record<string, string>).scope).toBe('users:read,content:read');
  });

  it('probes what the scopes allow, or the configured probePath, and logs out as the inventory says', async () => {
    const client = degreed.state.addClient({ scopes: ['content:read'] });
    const before = degreed.requests.length;
    const result = await createDegreedValidator().validate(degreedConfig('    probe: true\n    logoutPath: /oauth/logout', '[content:read]'), client);
    expect(result).toMatchObject({ probed: true, loggedOut: true });
    const sent = degreed.requests.slice(before);
    expect(sent.filter((r) => r.server === 'api').map((r) => `${r.path}?limit=${r.query.limit}`)).toEqual(['/api/v2/content?limit=1']);
    const logout = sent.find((r) => r.path === '/oauth/logout')!;
    expect(logout.method).toBe(degreed.logoutMethod);
    expect(logout.headers['content-type']).toContain('application/json');
    const explicit = await createDegreedValidator().validate(
      degreedConfig('    probe: true\n    probePath: /users?limit=1', '[users:read]'),
      degreed.state.addClient(),
    );
    expect(explicit.probed).toBe(true);
    expect(degreed.requests.at(-1)?.path).toBe('/api/v2/users');
  });

  it('sends no logout when none is configured', async () => {
    const client = degreed.state.addClient();
    const before = degreed.requests.length;
    const result = await createDegreedValidator().validate(degreedConfig(), client);
    expect(result.summary).toBe('token granted (scopes users:read,content:read; expires in 300 s); no logout configured');
    expect(degreed.requests.slice(before).some((r) => r.path.includes('logout'))).toBe(false);
  });

  it('calls a wrong secret an invalid credential, for good, saying what to do', async () => {
    const client = degreed.state.addClient();
    const wrong = { clientId: client.clientId, clientSecret: 'dgsecret_wrong-one' };
    const error = await failure(createDegreedValidator().validate(degreedConfig(), wrong), client.clientSecret, wrong.clientSecret);
    expect(error.kind).toBe('invalid-credential');
    expect(isPermanent(error)).toBe(true);
    expect(error.message).toContain(
      'ask the Degreed technical admin for a new API key with scopes users:read, content:read, then put it into secret "prod/degreed/eu"',
    );
  });

  it('names exactly the scopes the key does not hold', async () => {
    const client = degreed.state.addClient({ scopes: ['users:read'] });
    const config = degreedConfig('    logoutPath: /oauth/logout', '[users:read, content:read, skills:read]');
    const error = await failure(createDegreedValidator().validate(config, client), client.clientSecret);
    expect(error.kind).toBe('missing-scope');
    expect(error.missingScopes).toEqual(['content:read', 'skills:read']);
    expect(error.message).toContain('does not hold content:read, skills:read');
    // The single-scope grant that worked was logged out too.
    expect(degreed.state.liveAccessTokens().filter((t) => t.clientId === client.clientId)).toEqual([]);
  });

  it('waits as Retry-After says on a 429, then passes; retries a 503', async () => {
    const client = degreed.state.addClient();
    const { waits, sleep } = recordingSleep();
    degreed.faults.add({ match: { path: '/oauth/token' }, fault: { kind: 'status', status: 429, retryAfter: 7 } });
    degreed.faults.add({ match: { path: '/oauth/token' }, fault: { kind: 'status', status: 503 } });
    const result = await createDegreedValidator({ sleep }).validate(degreedConfig(), client);
    expect(result.grantedScopes).toEqual(['users:read', 'content:read']);
    expect(waits[0]).toBe(7_000);
    expect(waits).toHaveLength(2);
  });

  it('waits for the rate-limit window when X-Rate-Limit-Remaining reaches 0', async () => {
    const limited = await startDegreedFake({ rateLimitPerMinute: 1 });
    try {
      const client = limited.state.addClient();
      const { waits, sleep } = recordingSleep();
      const config = parseInventory(`version: 1
credentials:
  - id: d
    kind: degreed-client-credentials
    secretId: s
    environment: production
    dataCenter: US
    scopes: [users:read]
    probe: true
    endpoints: { tokenUrl: "${limited.tokenUrl}", apiBase: "${limited.apiBase}" }
`).credentials[0] as DegreedConfig;
      await createDegreedValidator({ sleep })
        .validate(config, client)
        .catch(() => undefined);
      expect(waits[0]).toBeGreaterThan(50_000);
      expect(waits[0]).toBeLessThanOrEqual(60_000);
    } finally {
      await limited.close();
    }
  });

  it('calls a probe refused right after a good grant a misconfiguration (API host of another data center)', async () => {
    const elsewhere = await startDegreedFake();
    try {
      const client = degreed.state.addClient();
      const config = { ...degreedConfig('    probe: true\n    logoutPath: /oauth/logout') };
      config.endpoints = { ...config.endpoints, apiBase: elsewhere.apiBase };
      const error = await failure(createDegreedValidator().validate(config, client), client.clientSecret);
      expect(error.kind).toBe('misconfiguration');
      expect(error.message).toContain('the API host does not match the token host');
      // The token was still logged out.
      expect(degreed.state.liveAccessTokens().filter((t) => t.clientId === client.clientId)).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it('reports a malformed token answer as a clear, retryable provider failure', async () => {
    const client = degreed.state.addClient();
    degreed.faults.add({ match: { path: '/oauth/token' }, times: 3, fault: { kind: 'malformed' } });
    const error = await failure(createDegreedValidator({ sleep: async () => undefined }).validate(degreedConfig(), client), client.clientSecret);
    expect(error.kind).toBe('provider-unavailable');
    expect(isPermanent(error)).toBe(false);
    expect(error.message).toContain('degreed token-grant: 200 with a body that is not valid JSON');
  });
});

describe.each(LEARNLINK_VARIANTS)('Learn.link validation (the fake over HTTP: $name)', (variant) => {
  beforeAll(async () => {
    learnlink = await startLearnlinkFake(variant.options);
  });
  afterAll(() => learnlink.close());

  it('passes with HTTP Basic and with the credentials in the body, and probes', async () => {
    const tenant = learnlink.state.addTenant();
    for (const mode of ['basic', 'body']) {
      const result = await createLearnlinkValidator().validate(learnlinkConfig(tenant.tenantId, `    credentialsIn: ${mode}\n    probe: true`), {
        clientSecret: tenant.clientSecret,
      });
      expect(result).toMatchObject({
        grantedScopes: ['api/read'],
        expiresInSeconds: 3600,
        probed: true,
        summary: 'token granted (scopes api/read; expires in 3600 s); probe ok',
      });
    }
    const grants = learnlink.requests.filter((r) => r.path === `/oauth2/token/${tenant.tenantId}`);
    expect(grants.map((g) => (g.headers.authorization ? 'basic' : 'body'))).toEqual(['basic', 'body']);
  });

  it('takes the tenant id from the secret when the inventory has none, and uses the webhooks host for that audience', async () => {
    const tenant = learnlink.state.addTenant();
    const result = await createLearnlinkValidator().validate(learnlinkConfig(undefined, '', 'webhooks', '[api/webhooks]'), {
      clientSecret: tenant.clientSecret,
      tenantId: tenant.tenantId,
    });
    expect(result.grantedScopes).toEqual(['api/webhooks']);
    expect(learnlink.requests.at(-1)?.server).toBe('user');
    // A webhooks token is not for the REST API: a probe with one is refused when the inventory loads.
    expect(() => learnlinkConfig(tenant.tenantId, '    probe: true', 'webhooks', '[api/webhooks]')).toThrow(
      /credentials\[0\]\.probe: a webhooks token is not for the REST API/,
    );
    const none = await failure(createLearnlinkValidator().validate(learnlinkConfig(undefined), { clientSecret: tenant.clientSecret }));
    expect(none.kind).toBe('misconfiguration');
  });

  it('calls a wrong secret invalid and a refused scope missing, naming it', async () => {
    const tenant = learnlink.state.addTenant({ scopes: ['api/read'] });
    const invalid = await failure(createLearnlinkValidator().validate(learnlinkConfig(tenant.tenantId), { clientSecret: 'wrong' }), tenant.clientSecret);
    expect(invalid.kind).toBe('invalid-credential');
    expect(invalid.message).toContain(`ask Thrive (Learn.link) support for a new client secret for tenant ${tenant.tenantId}`);
    const scope = await failure(
      createLearnlinkValidator().validate(learnlinkConfig(tenant.tenantId, '', 'api', '[api/read, api/write]'), { clientSecret: tenant.clientSecret }),
      tenant.clientSecret,
    );
    expect(scope.kind).toBe('missing-scope');
    expect(scope.missingScopes).toEqual(['api/write']);
  });

  it('names the missing scopes whether the refusal is a 400 or a 403, and a refused secret is still invalid', async () => {
    const tenant = learnlink.state.addTenant({ scopes: ['api/read'] });
    const config = learnlinkConfig(tenant.tenantId, '', 'api', '[api/read, api/write, api/all]');
    const scope = await failure(createLearnlinkValidator().validate(config, { clientSecret: tenant.clientSecret }), tenant.clientSecret);
    expect(scope).toMatchObject({ kind: 'missing-scope', missingScopes: ['api/write', 'api/all'] });
    expect(scope.message).toContain(`tenant ${tenant.tenantId} is not allowed api/write, api/all`);
    const invalid = await failure(createLearnlinkValidator().validate(config, { clientSecret: 'wrong' }));
    expect(invalid.kind).toBe('invalid-credential');
  });

  it('calls a probe the granted scopes cannot read a misconfiguration, when no scopes were asked', async () => {
    const tenant = learnlink.state.addTenant({ scopes: ['api/write'] });
    const before = learnlink.requests.length;
    const error = await failure(
      createLearnlinkValidator().validate(learnlinkConfig(tenant.tenantId, '    probe: true', 'api', '[]'), { clientSecret: tenant.clientSecret }),
    );
    expect(error.kind).toBe('misconfiguration');
    expect(error.message).toContain('the probe cannot read the API: the token was granted api/write, none of api/read, api/all');
    expect(learnlink.requests.slice(before).some((r) => r.path.startsWith('/rest/'))).toBe(false);
  });

  it('retries a 503 and reports a malformed answer clearly', async () => {
    const tenant = learnlink.state.addTenant();
    const config = learnlinkConfig(tenant.tenantId);
    learnlink.faults.add({ match: { path: '/oauth2/token' }, fault: { kind: 'status', status: 503 } });
    expect((await createLearnlinkValidator({ sleep: async () => undefined }).validate(config, { clientSecret: tenant.clientSecret })).grantedScopes).toEqual([
      'api/read',
    ]);
    learnlink.faults.add({ match: { path: '/oauth2/token' }, times: 3, fault: { kind: 'malformed' } });
    const error = await failure(
      createLearnlinkValidator({ sleep: async () => undefined }).validate(config, { clientSecret: tenant.clientSecret }),
      tenant.clientSecret,
    );
    expect(error.kind).toBe('provider-unavailable');
  });
});

describe('validation as a job step', () => {
  beforeAll(async () => {
    [degreed, learnlink] = await Promise.all([startDegreedFake(), startLearnlinkFake()]);
  });
  afterAll(async () => Promise.all([degreed.close(), learnlink.close()]));

  it('records the outcome and its time for status, and never a token', async () => {
    const redis = new Redis(process.env.REDIS_URL!);
    const prefix = `{valid-${randomUUID().slice(0, 8)}}`;
    const store = createSecretStore(createSecretsManagerClient());
    const state = createRotationStateStore(redis, prefix);
    const client = degreed.state.addClient();
    const config = { ...degreedConfig(), secretId: `test/validation/${randomUUID().slice(0, 8)}` };
    await store.putCurrent(config.secretId, JSON.stringify(client));
    const { logger, lines } = captureLogger();
    await validateCredential(
      { secrets: store, state, now: () => new Date('2026-11-23T10:00:00Z') },
      { secret: degreedSecret, validator: createDegreedValidator() },
      config,
      logger,
    );
    expect(await state.readStatus(config.id)).toMatchObject({
      lastResult: 'valid',
      lastCheckAt: '2026-11-23T10:00:00.000Z',
      lastValidAt: '2026-11-23T10:00:00.000Z',
    });
    degreed.state.revokeClient(client.clientId);
    await expect(
      validateCredential(
        { secrets: store, state, now: () => new Date('2026-11-24T10:00:00Z') },
        { secret: degreedSecret, validator: createDegreedValidator() },
        config,
        logger,
      ),
    ).rejects.toThrow(ValidationError);
    expect(await state.readStatus(config.id)).toMatchObject({
      lastResult: 'invalid-credential',
      lastCheckAt: '2026-11-24T10:00:00.000Z',
      lastValidAt: '2026-11-23T10:00:00.000Z',
    });
    const everything = lines.join('\n') + JSON.stringify(await redis.hgetall(`${prefix}:status:${config.id}`));
    for (const t of degreed.state.issuedAccessTokens()) expect(everything.includes(t.value)).toBe(false);
    expect(everything.includes(client.clientSecret)).toBe(false);
    redis.disconnect();
  });
});
