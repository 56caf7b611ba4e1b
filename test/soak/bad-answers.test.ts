import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/kinds/registry.ts';
import { type CredlyTokenConfig } from '../../src/kinds/credly/authorization-token/schema.ts';
import { isPermanent } from '../../src/errors/rotator-error.ts';
import { createCredlyClient, type CredlyClient, type CredlyToken } from '../../src/kinds/credly/token-client.ts';
import { credlyAccessTokenSchema } from '../../src/kinds/credly/wire-schemas.ts';
import { createCredlyTokenProvider } from '../../src/kinds/credly/authorization-token/provider.ts';
import { ProviderRequestError, ProviderUnavailableError } from '../../src/errors/provider-errors.ts';
import { createProviderHttp } from '../../src/provider-http/http.ts';
import { startCredlyFake } from '../fakes/credly.fake.ts';
import { CASES, badAnswers } from './bad-answers.ts';
import { missed, runScenario } from './context.ts';

it('bad answers (short): every hostile provider answer ends in a classified failure, nothing bad stored, nothing leaked', async () => {
  const rows = await runScenario(badAnswers, 'short', process.env.SOAK_VERBOSE ? (line) => console.log(line) : undefined);
  if (process.env.SOAK_VERBOSE) for (const r of rows) console.log(`ROW ${r.scenario} | ${r.figure} | ${r.value} | ${r.target} | ${r.ok ? 'ok' : 'MISSED'}`);
  expect(missed(rows)).toEqual([]);
  expect(CASES.length).toBeGreaterThanOrEqual(24);
  expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  expect(rows.find((r) => r.figure === 'cases run')?.value).toBe(String(CASES.length));
  expect(rows.map((r) => r.figure)).toEqual([
    'cases run',
    'credential kinds covered',
    'cases ending in a classified failure',
    'bad values stored',
    'crashes',
    'secrets in error text',
    'requests that reached another host',
  ]);
}, 120_000);

describe('defects the corpus found, each pinned on its own', () => {
  it('a redirect is a permanent request error that names it, sent once, never followed', async () => {
    let reached = 0;
    const elsewhere = createServer((_req, res) => void ((reached += 1), res.end('{}')));
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}/steal`;
    let calls = 0;
    const redirecting = createServer((_req, res) => {
      calls += 1;
      res.writeHead(307, { location: target }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const http = createProviderHttp({ provider: 'degreed', backoffMs: 1 });
      const url = `http://127.0.0.1:${(redirecting.address() as { port: number }).port}/oauth/token`;
      const error = await http
        .request({ operation: 'token-grant', method: 'POST', url, form: { client_secret: 'dgsecret_x' }, idempotent: true, secrets: ['dgsecret_x'] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderRequestError);
      expect(isPermanent(error)).toBe(true);
      expect((error as Error).message).toBe(
        'degreed token-grant: answered with a redirect, not followed (the request carries credentials): check the endpoint',
      );
      expect(calls).toBe(1);
      expect(reached).toBe(0);
    } finally {
      await Promise.all([redirecting, elsewhere].map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });

  it('GET organization answered for another organization does not prove the token', async () => {
    const fake = await startCredlyFake();
    try {
      const org = fake.state.addOrganization('Mine');
      const token = fake.state.addToken(org);
      const client = createCredlyClient({ apiBase: fake.apiBase, backoffMs: 1 });
      expect(await client.getOrganization(token.token, org)).toEqual({ id: org, name: 'Mine' });
      fake.faults.add({
        match: { method: 'GET', path: `/organizations/${org}` },
        times: Infinity,
        fault: {
          kind: 'respond',
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ data: { id: randomUUID(), name: 'Other' } }),
        },
      });
      const error = await client.getOrganization(token.token, org).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect((error as Error).message).toBe(`credly get-organization: 200 with an answer that names another organization, not ${org}`);
    } finally {
      await fake.close();
    }
  });

  it('a create answer that hands back the current token is refused before anything is stored', async () => {
    const config = parseInventory(`version: 1
credentials:
  - id: credly-main
    kind: credly-authorization-token
    secretId: prod/credly/main
    organizationId: 7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6
    environment: production
`).credentials[0] as CredlyTokenConfig;
    const current: CredlyToken = {
      id: randomUUID(),
      token: 'credlytoken_current000000000000',
      description: null,
      writeEnabled: true,
      readEnabled: true,
      deleteEnabled: true,
      createdAt: new Date('2026-01-01T00:00:00Z'),
      expiresAt: new Date('2026-06-30T00:00:00Z'),
    };
    const rotation = { rotationId: randomUUID(), startedAt: '2026-06-01T00:00:00.000Z', firstAttempt: true, scope: '{rotator}', previousRef: current.id };
    for (const answer of [current, { ...current, token: 'credlytoken_other0000000000000' }, { ...current, id: randomUUID() }]) {
      const client = { createToken: async () => answer } as unknown as CredlyClient;
      const error = await createCredlyTokenProvider(() => client)
        .issue(config, { token: current.token, tokenId: current.id }, rotation)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect((error as Error).message).toBe('credly create-token: the answer holds the current token, not a new one');
    }
  });

  it('a Credly grant whose expires_in is not positive is no proof', () => {
    const grant = { access_token: 'a', token_type: 'Bearer', scope: 'issued_badges' };
    expect(credlyAccessTokenSchema.safeParse({ ...grant, expires_in: 7200 }).success).toBe(true);
    expect(credlyAccessTokenSchema.safeParse(grant).success).toBe(true);
    for (const expiresIn of [0, -3600]) expect(credlyAccessTokenSchema.safeParse({ ...grant, expires_in: expiresIn }).success).toBe(false);
  });
});
