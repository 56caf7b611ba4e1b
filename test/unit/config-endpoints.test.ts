import { describe, expect, it } from 'vitest';
import { endpointProblem, isLoopbackHost } from '../../src/config/index.ts';
import { credlyEndpoints, type CredlyEndpoints, type CredlyEnvironment } from '../../src/kinds/credly/endpoints.ts';
import { degreedEndpoints, type DegreedDataCenter, type DegreedEndpoints, type DegreedEnvironment } from '../../src/kinds/degreed/schema.ts';
import {
  learnlinkEndpoints,
  learnlinkTokenUrl,
  type LearnlinkAudience,
  type LearnlinkEndpoints,
  type LearnlinkEnvironment,
} from '../../src/kinds/learnlink/schema.ts';
import { parseInventory } from '../../src/kinds/registry.ts';

type Source =
  | { kind: 'credly-authorization-token' | 'credly-oauth-application'; environment: CredlyEnvironment; endpoints?: Partial<CredlyEndpoints> }
  | {
      kind: 'degreed-client-credentials';
      environment: DegreedEnvironment;
      dataCenter: DegreedDataCenter;
      logoutPath?: string;
      endpoints?: Partial<DegreedEndpoints>;
    }
  | { kind: 'learnlink-client-credentials'; environment: LearnlinkEnvironment; audience: LearnlinkAudience; endpoints?: Partial<LearnlinkEndpoints> };

/** Each kind's endpoint function, by the entry's kind (as each kind's schema calls it). */
function resolveEndpoints(c: Source): Partial<CredlyEndpoints & DegreedEndpoints & LearnlinkEndpoints> {
  switch (c.kind) {
    case 'credly-authorization-token':
    case 'credly-oauth-application':
      return credlyEndpoints(c.environment, c.endpoints);
    case 'degreed-client-credentials':
      return degreedEndpoints(c.environment, c.dataCenter, c.logoutPath, c.endpoints);
    case 'learnlink-client-credentials':
      return learnlinkEndpoints(c.environment, c.audience, c.endpoints);
  }
}

// Expected values are written out as docs/providers.md gives them, not computed, so a wrong table shows.
describe('endpoint derivation', () => {
  it.each([
    ['credly-authorization-token', 'production', 'https://api.credly.com/v1', 'https://www.credly.com/oauth/token'],
    ['credly-authorization-token', 'sandbox', 'https://sandbox-api.credly.com/v1', 'https://sandbox.credly.com/oauth/token'],
    ['credly-oauth-application', 'production', 'https://api.credly.com/v1', 'https://www.credly.com/oauth/token'],
    ['credly-oauth-application', 'sandbox', 'https://sandbox-api.credly.com/v1', 'https://sandbox.credly.com/oauth/token'],
  ] as const)('gives a %s in Credly %s its API base and token URL', (kind, environment, apiBase, tokenUrl) => {
    expect(resolveEndpoints({ kind, environment })).toEqual({ apiBase, tokenUrl });
  });

  it.each([
    ['production', 'US', 'https://degreed.com/oauth/token', 'https://api.degreed.com/api/v2', 'https://degreed.com/oauth/logout'],
    ['production', 'EU', 'https://eu.degreed.com/oauth/token', 'https://api.eu.degreed.com/api/v2', 'https://eu.degreed.com/oauth/logout'],
    ['production', 'CA', 'https://ca.degreed.com/oauth/token', 'https://api.ca.degreed.com/api/v2', 'https://ca.degreed.com/oauth/logout'],
    ['betatest', 'US', 'https://betatest.degreed.com/oauth/token', 'https://api.betatest.degreed.com/api/v2', 'https://betatest.degreed.com/oauth/logout'],
    [
      'betatest',
      'EU',
      'https://eu.betatest.degreed.com/oauth/token',
      'https://api.eu.betatest.degreed.com/api/v2',
      'https://eu.betatest.degreed.com/oauth/logout',
    ],
    [
      'betatest',
      'CA',
      'https://ca.betatest.degreed.com/oauth/token',
      'https://api.ca.betatest.degreed.com/api/v2',
      'https://ca.betatest.degreed.com/oauth/logout',
    ],
  ] as const)('gives Degreed %s in data center %s its token, API and logout URLs', (environment, dataCenter, tokenUrl, apiBase, logoutUrl) => {
    const kind = 'degreed-client-credentials';
    expect(resolveEndpoints({ kind, environment, dataCenter })).toEqual({ tokenUrl, apiBase });
    expect(resolveEndpoints({ kind, environment, dataCenter, logoutPath: '/oauth/logout' })).toEqual({ tokenUrl, apiBase, logoutUrl });
  });

  it.each([
    ['staging', 'api', 'https://public.api.learnstaging.link/oauth2/token/{tenantId}', 'https://public.api.learnstaging.link/rest/v1'],
    ['staging', 'webhooks', 'https://user.api.learnstaging.link/oauth2/token/{tenantId}', 'https://public.api.learnstaging.link/rest/v1'],
    ['production', 'api', 'https://public.api.learn.link/oauth2/token/{tenantId}', 'https://public.api.learn.link/rest/v1'],
    ['production', 'webhooks', 'https://user.api.learn.link/oauth2/token/{tenantId}', 'https://public.api.learn.link/rest/v1'],
    ['staging-mea', 'api', 'https://public.api.meastaging.learn.tech/oauth2/token/{tenantId}', 'https://public.api.meastaging.learn.tech/rest/v1'],
    ['staging-mea', 'webhooks', 'https://user.api.meastaging.learn.tech/oauth2/token/{tenantId}', 'https://public.api.meastaging.learn.tech/rest/v1'],
    ['production-mea', 'api', 'https://public.api.mea.learn.tech/oauth2/token/{tenantId}', 'https://public.api.mea.learn.tech/rest/v1'],
    ['production-mea', 'webhooks', 'https://user.api.mea.learn.tech/oauth2/token/{tenantId}', 'https://public.api.mea.learn.tech/rest/v1'],
  ] as const)('gives Learn.link %s with audience %s its token URL template and API base', (environment, audience, tokenUrl, apiBase) => {
    expect(resolveEndpoints({ kind: 'learnlink-client-credentials', environment, audience })).toEqual({ tokenUrl, apiBase });
  });

  it('fills the tenant into the Learn.link token URL, URL-encoded', () => {
    const template = 'https://public.api.learn.link/oauth2/token/{tenantId}';
    expect(learnlinkTokenUrl(template, 'eu-west-2_AbcdEfghI')).toBe('https://public.api.learn.link/oauth2/token/eu-west-2_AbcdEfghI');
    expect(learnlinkTokenUrl(template, 'a/b c?')).toBe('https://public.api.learn.link/oauth2/token/a%2Fb%20c%3F');
    expect(learnlinkTokenUrl('https://proxy.example.com/token', 'eu-west-2_AbcdEfghI')).toBe('https://proxy.example.com/token');
  });

  it('lets overrides win and strips trailing slashes from derived and overridden URLs alike', () => {
    expect(resolveEndpoints({ kind: 'credly-authorization-token', environment: 'sandbox', endpoints: { apiBase: 'http://127.0.0.1:4010/v1//' } })).toEqual({
      apiBase: 'http://127.0.0.1:4010/v1',
      tokenUrl: 'https://sandbox.credly.com/oauth/token',
    });
    expect(
      resolveEndpoints({
        kind: 'learnlink-client-credentials',
        environment: 'staging',
        audience: 'webhooks',
        endpoints: { tokenUrl: 'http://localhost:4030/oauth2/token/{tenantId}/' },
      }),
    ).toEqual({ tokenUrl: 'http://localhost:4030/oauth2/token/{tenantId}', apiBase: 'https://public.api.learnstaging.link/rest/v1' });
    expect(resolveEndpoints({ kind: 'degreed-client-credentials', environment: 'production', dataCenter: 'US', logoutPath: '/oauth/logout/' }).logoutUrl).toBe(
      'https://degreed.com/oauth/logout',
    );
  });

  it('sends logout to the overridden token host, never back to the real one, unless logoutUrl is given', () => {
    const viaProxy = resolveEndpoints({
      kind: 'degreed-client-credentials',
      environment: 'production',
      dataCenter: 'EU',
      logoutPath: '/oauth/logout',
      endpoints: { tokenUrl: 'http://127.0.0.1:4020/oauth/token' },
    });
    expect(viaProxy).toEqual({
      tokenUrl: 'http://127.0.0.1:4020/oauth/token',
      apiBase: 'https://api.eu.degreed.com/api/v2',
      logoutUrl: 'http://127.0.0.1:4020/oauth/logout',
    });
    expect(
      resolveEndpoints({
        kind: 'degreed-client-credentials',
        environment: 'production',
        dataCenter: 'EU',
        logoutPath: '/oauth/logout',
        endpoints: { logoutUrl: 'https://logout.example.com/expire' },
      }).logoutUrl,
    ).toBe('https://logout.example.com/expire');
  });

  it('resolves every credential of a loaded inventory to what it already holds', () => {
    const inventory = parseInventory(`version: 1
credentials:
  - id: t
    kind: credly-authorization-token
    secretId: t
    organizationId: 7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6
    environment: sandbox
  - id: d
    kind: degreed-client-credentials
    secretId: d
    environment: betatest
    dataCenter: EU
    scopes: [users:read]
    logoutPath: /oauth/logout
  - id: l
    kind: learnlink-client-credentials
    secretId: l
    environment: staging-mea
    audience: webhooks
`);
    // The inventory above holds only the kinds Source knows; a kind added to the registry must not break this test's types.
    for (const credential of inventory.credentials) expect(resolveEndpoints(credential as Source)).toEqual(credential.endpoints);
  });
});

describe('endpoint policy', () => {
  it.each(['localhost', '127.0.0.1', '127.8.9.10', '[::1]'])('treats %s as loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['10.0.0.1', '128.0.0.1', 'localhost.example.com', 'api.credly.com', '[::2]', '0.0.0.0'])('does not treat %s as loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it.each(['https://api.credly.com/v1', 'http://127.0.0.1:4010/v1', 'http://localhost:8080', 'http://[::1]:9000/x', 'http://127.1:4010/v1'])(
    'accepts %s',
    (url) => {
      expect(endpointProblem(url)).toBeUndefined();
    },
  );

  it.each([
    ['http://api.credly.com/v1', 'only allowed to a loopback host'],
    ['http://10.0.0.5:8080', 'only allowed to a loopback host'],
    ['api.credly.com/v1', 'not an absolute URL'],
    ['/v1', 'not an absolute URL'],
    ['ftp://api.credly.com/v1', 'unsupported scheme'],
    ['https://user:secret@api.credly.com/v1', 'must not carry credentials'],
    ['https://api.credly.com/v1?key=x', 'must not have a query'],
  ])('refuses %s', (url, reason) => {
    const problem = endpointProblem(url);
    expect(problem).toContain(reason);
    expect(problem).not.toContain('secret@');
  });
});
