import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.ts';
import { CREDENTIAL_KINDS, loadInventory, parseInventory } from '../../src/kinds/registry.ts';

const validFull = fileURLToPath(new URL('../fixtures/inventories/valid-full.yaml', import.meta.url));
const example = fileURLToPath(new URL('../../examples/inventory.yaml', import.meta.url));

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function refusal(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('the full valid inventory', () => {
  const inventory = loadInventory(validFull);

  it('holds all four credential kinds and all three sink kinds', () => {
    expect(new Set(inventory.credentials.map((c) => c.kind))).toEqual(new Set(CREDENTIAL_KINDS));
    expect(inventory.alerts.map((a) => a.kind)).toEqual(['slack', 'pagerduty', 'webhook']);
    expect(inventory.version).toBe(1);
  });

  it('reads a Credly token with every override, durations in milliseconds and the organization id lower-cased', () => {
    expect(inventory.credentials[0]).toEqual({
      id: 'credly-main',
      kind: 'credly-authorization-token',
      secretId: 'prod/credly/main',
      schedule: '0 */6 * * *',
      organizationId: '7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6',
      environment: 'production',
      rotateWhenExpiresWithinMs: 45 * DAY,
      revokePreviousAfterMs: HOUR + 30 * MINUTE,
      forceCooldownMs: 30 * MINUTE,
      useRotateEndpoint: false,
      deleteSupported: false,
      testWithOrganizationEndpoint: false,
      endpoints: { apiBase: 'https://credly-proxy.example.com/v1', tokenUrl: 'https://www.credly.com/oauth/token' },
    });
  });

  it('fills what a credential leaves out from the file defaults, then the built-in ones', () => {
    expect(inventory.credentials[1]).toEqual({
      id: 'credly-sandbox',
      kind: 'credly-authorization-token',
      secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sandbox/credly-AbCdEf',
      schedule: '30 2 * * *',
      organizationId: '00000000-0000-4000-8000-000000000001',
      environment: 'sandbox',
      rotateWhenExpiresWithinMs: 21 * DAY,
      revokePreviousAfterMs: 15 * MINUTE,
      forceCooldownMs: 5 * MINUTE,
      useRotateEndpoint: false,
      deleteSupported: true,
      testWithOrganizationEndpoint: false,
      endpoints: { apiBase: 'https://sandbox-api.credly.com/v1', tokenUrl: 'https://sandbox.credly.com/oauth/token' },
    });
  });

  it('reads a Credly OAuth application managed by a token of the same organization and API, with a loopback token endpoint', () => {
    expect(inventory.credentials[2]).toEqual({
      id: 'credly-app',
      kind: 'credly-oauth-application',
      secretId: 'prod/credly/app',
      schedule: '0 4 * * 1',
      organizationId: '7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6',
      environment: 'production',
      managedBy: 'credly-main',
      applicationName: 'LMS badge sync',
      scopes: ['issued_badges', 'badge_templates'],
      tokenRequestEncoding: 'form',
      recreateEveryMs: 90 * DAY,
      revokePreviousAfterMs: HOUR,
      forceCooldownMs: 5 * MINUTE,
      endpoints: { apiBase: 'https://credly-proxy.example.com/v1', tokenUrl: 'http://localhost:4011/oauth/token' },
    });
  });

  it('reads Degreed credentials with derived or overridden endpoints and the logout URL', () => {
    expect(inventory.credentials[3]).toEqual({
      id: 'degreed-eu',
      kind: 'degreed-client-credentials',
      secretId: 'prod/degreed',
      schedule: '30 2 * * *',
      environment: 'production',
      dataCenter: 'EU',
      scopes: ['users:read', 'content:read'],
      probe: true,
      probePath: '/users?limit=1',
      logoutMethod: 'GET',
      endpoints: {
        tokenUrl: 'https://eu.degreed.com/oauth/token',
        apiBase: 'https://api.eu.degreed.com/api/v2',
        logoutUrl: 'https://eu.degreed.com/oauth/logout',
      },
    });
    expect(inventory.credentials[4]).toMatchObject({
      probe: false,
      endpoints: { tokenUrl: 'http://[::1]:4020/oauth/token', apiBase: 'http://[::1]:4021/api/v2', logoutUrl: 'http://[::1]:4020/logout' },
    });
  });

  it('reads Learn.link credentials for both audiences, with and without a tenant id', () => {
    expect(inventory.credentials[5]).toEqual({
      id: 'thrive',
      kind: 'learnlink-client-credentials',
      secretId: 'prod/learnlink',
      schedule: '30 2 * * *',
      tenantId: 'eu-west-2_AbcdEfghI',
      environment: 'production',
      audience: 'api',
      scopes: ['api/read'],
      credentialsIn: 'basic',
      probe: true,
      probePath: '/users?page=1&perPage=1',
      endpoints: { tokenUrl: 'https://public.api.learn.link/oauth2/token/{tenantId}', apiBase: 'https://public.api.learn.link/rest/v1' },
    });
    const hooks = inventory.credentials[6]!;
    expect(hooks).toMatchObject({ audience: 'webhooks', credentialsIn: 'body', probe: false, scopes: ['api/webhooks'] });
    expect(hooks).not.toHaveProperty('tenantId');
    expect(hooks.endpoints).toEqual({
      tokenUrl: 'https://auth-proxy.example.com/oauth2/token/{tenantId}',
      apiBase: 'https://api-proxy.example.com/rest/v1',
    });
  });

  it('keeps alert sink secrets as references, with the PagerDuty severity and credential filters', () => {
    expect(inventory.alerts).toEqual([
      { id: 'ops-slack', kind: 'slack', webhookUrl: { env: 'SLACK_WEBHOOK_URL' }, credentials: ['credly-main'] },
      { id: 'pager', kind: 'pagerduty', routingKey: { secretId: 'ops/pagerduty' }, severity: 'critical' },
      { id: 'hook', kind: 'webhook', url: 'https://hooks.example.com/rotator', signingSecret: { env: 'ROTATOR_WEBHOOK_SECRET' } },
    ]);
  });
});

describe('the documented example', () => {
  it('is itself a valid inventory with every kind and sink', () => {
    const inventory = loadInventory(example);
    expect(inventory.credentials.map((c) => c.kind)).toEqual([...CREDENTIAL_KINDS]);
    expect(inventory.alerts.map((a) => a.kind)).toEqual(['slack', 'pagerduty', 'webhook']);
  });
});

describe('parsing and loading', () => {
  const minimal = `version: 1
credentials:
  - id: c
    kind: credly-authorization-token
    secretId: s
    organizationId: 7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6
    environment: production
`;

  it('applies the built-in defaults when the file sets none', () => {
    const inventory = parseInventory(minimal);
    expect(inventory.credentials[0]).toMatchObject({
      schedule: '0 3 * * *',
      rotateWhenExpiresWithinMs: 30 * DAY,
      revokePreviousAfterMs: HOUR,
      forceCooldownMs: 10 * MINUTE,
      useRotateEndpoint: false,
      deleteSupported: true,
    });
    expect(inventory.alerts).toEqual([]);
  });

  it('names the source in every problem line, "inventory" when none is given', () => {
    const text = minimal.replace('environment: production', 'environment: prod');
    expect(refusal(() => parseInventory(text)).format()).toBe('inventory: credentials[0].environment: must be one of production, sandbox; got "prod"');
    const named = refusal(() => parseInventory(text, 'prod.yaml'));
    expect(named.source).toBe('prod.yaml');
    expect(named.format()).toMatch(/^prod\.yaml: credentials\[0\]\.environment: /);
  });

  it('refuses a probe no configured scope allows, naming the field; a probePath or a scope that reads lifts it', () => {
    const degreed = (scopes: string, extra = '') => `version: 1
credentials:
  - id: dg
    kind: degreed-client-credentials
    secretId: s
    environment: production
    dataCenter: US
    scopes: ${scopes}
    probe: true
${extra}`;
    expect(refusal(() => parseInventory(degreed('[completions:read]'))).format()).toBe(
      'inventory: credentials[0].probe: no configured scope allows a read the probe knows (users:read or content:read); add one of them to scopes, set probePath to a read the scopes allow, or turn probe off',
    );
    expect(parseInventory(degreed('[completions:read, content:read]')).credentials[0]).toMatchObject({ probePath: '/content?limit=1' });
    expect(parseInventory(degreed('[completions:read]', '    probePath: /completions?limit=1')).credentials[0]).toMatchObject({
      probePath: '/completions?limit=1',
    });
    expect(refusal(() => parseInventory(degreed('[users:read]', '    probePath: //evil.example/x'))).problems.map((p) => p.path)).toEqual([
      'credentials[0].probePath',
    ]);
    const learnlink = (audience: string, scopes: string) => `version: 1
credentials:
  - id: ll
    kind: learnlink-client-credentials
    secretId: s
    tenantId: eu-west-2_AbcdEfghI
    environment: production
    audience: ${audience}
    scopes: ${scopes}
    probe: true
`;
    expect(refusal(() => parseInventory(learnlink('api', '[api/write]'))).format()).toBe(
      'inventory: credentials[0].probe: no configured scope reads the API (api/read or api/all); add one to scopes, set probePath, or turn probe off',
    );
    expect(refusal(() => parseInventory(learnlink('webhooks', '[api/webhooks]'))).problems.map((p) => p.path)).toEqual(['credentials[0].probe']);
    expect(parseInventory(learnlink('api', '[api/write, api/all]')).credentials[0]).toMatchObject({ probePath: '/users?page=1&perPage=1' });
    // No scopes asked: the tenant's own decide, checked when the token comes.
    expect(parseInventory(learnlink('api', '[]')).credentials[0]).toMatchObject({ probe: true });
  });

  it('marks a configuration error permanent: retrying reads the same file', () => {
    const error = refusal(() => parseInventory('version: 2\ncredentials: []\n'));
    expect(error.permanent).toBe(true);
    expect(error.name).toBe('ConfigError');
    expect(error.problems.map((p) => p.path)).toEqual(['version', 'credentials']);
  });

  it('reports a missing file as a configuration problem naming the path, with the cause attached', () => {
    const error = refusal(() => loadInventory('/nonexistent/inventory.yaml'));
    expect(error.format()).toBe('/nonexistent/inventory.yaml: (root): file not found');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('reports a directory given as the inventory as a configuration problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotator-config-'));
    expect(refusal(() => loadInventory(dir)).problems).toEqual([{ path: '(root)', message: 'is a directory, not a file' }]);
  });

  it('reads a file from disk and reports its problems under its path', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rotator-config-')), 'inventory.yaml');
    writeFileSync(path, minimal.replace('secretId: s', 'secretId: s\n    schedulee: "0 3 * * *"'));
    expect(refusal(() => loadInventory(path)).format()).toBe(`${path}: credentials[0].schedulee: unknown field (check the spelling)`);
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    const error = refusal(() => parseInventory(`${lines.join('\n')}\nversion: 1\n`));
    expect(error.problems).toEqual([{ path: '(root)', message: expect.stringContaining('YAML cannot be read') }]);
  });
});
