import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLearnlinkFake, type LearnlinkFake } from '../fakes/learnlink.fake.ts';

const T0 = new Date('2026-05-20T12:00:00Z');

interface GrantBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

let clock: Date;
let fake: LearnlinkFake;

const url = (template: string, tenantId: string) => template.replace('{tenantId}', encodeURIComponent(tenantId));
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
function post(target: string, fields: Record<string, string>, auth?: string) {
  return fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
    body: new URLSearchParams(fields),
  });
}
const users = (access: string, query = 'page=1&perPage=1') => fetch(`${fake.apiBase}/users?${query}`, { headers: { authorization: `Bearer ${access}` } });
const decodePart = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

beforeAll(async () => {
  fake = await startLearnlinkFake({ now: () => clock, scopeRefusal: 403 });
});
afterAll(() => fake.close());
beforeEach(() => {
  clock = T0;
  fake.reset();
});

describe('Learn.link fake: token endpoint', () => {
  it('grants a JWT-shaped Bearer token to HTTP Basic tenantId:secret on the public host', async () => {
    const t = fake.state.addTenant();
    expect(t.tenantId).toMatch(/^eu-west-2_[A-Za-z0-9]{9}$/);
    expect(t.clientSecret).toMatch(/^llsecret_[0-9a-f]{48}$/);
    const res = await post(url(fake.tokenUrl.api, t.tenantId), { grant_type: 'client_credentials', scope: 'api/read' }, basic(t.tenantId, t.clientSecret));
    expect(res.status).toBe(200);
    const body = (await res.json()) as GrantBody;
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'api/read' });
    const parts = body.access_token.split('.');
    expect(parts).toHaveLength(3);
    for (const part of parts) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePart(parts[0]!)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(decodePart(parts[1]!)).toMatchObject({ sub: t.tenantId, scope: 'api/read', exp: T0.getTime() / 1000 + 3600 });
    const seen = fake.requests[0];
    expect(seen).toMatchObject({ server: 'public', path: `/oauth2/token/${t.tenantId}`, body: { grant_type: 'client_credentials' } });
    expect(seen?.headers.authorization).toMatch(/^Basic /);
  });

  it('accepts client_id and client_secret in the form body instead of Basic', async () => {
    const t = fake.state.addTenant();
    const res = await post(url(fake.tokenUrl.api, t.tenantId), { grant_type: 'client_credentials', client_id: t.tenantId, client_secret: t.clientSecret });
    expect(res.status).toBe(200);
    expect(((await res.json()) as GrantBody).scope.split(' ').sort()).toEqual(['api/all', 'api/read', 'api/write']);
    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('grants each host family only its own scopes: api/* on public, api/webhooks or api/all on user', async () => {
    const t = fake.state.addTenant();
    const body = { grant_type: 'client_credentials', client_id: t.tenantId, client_secret: t.clientSecret };
    const webhooks = await post(url(fake.tokenUrl.webhooks, t.tenantId), { ...body, scope: 'api/webhooks' });
    expect(webhooks.status).toBe(200);
    expect(url(fake.tokenUrl.webhooks, t.tenantId).startsWith(fake.userBase)).toBe(true);
    expect((await post(url(fake.tokenUrl.webhooks, t.tenantId), { ...body, scope: 'api/all' })).status).toBe(200);
    const wrongFamily = await post(url(fake.tokenUrl.api, t.tenantId), { ...body, scope: 'api/webhooks' });
    expect(wrongFamily.status).toBe(403);
    expect(await wrongFamily.json()).toEqual({ status: 403, error: 'Forbidden', message: expect.any(String) });
    expect((await post(url(fake.tokenUrl.webhooks, t.tenantId), { ...body, scope: 'api/read' })).status).toBe(403);
    expect(fake.requests.map((r) => r.server)).toEqual(['user', 'user', 'public', 'user']);
  });

  it('refuses a scope the tenant does not hold with 403', async () => {
    const t = fake.state.addTenant({ scopes: ['api/read'] });
    const body = { grant_type: 'client_credentials', client_id: t.tenantId, client_secret: t.clientSecret };
    expect((await post(url(fake.tokenUrl.api, t.tenantId), { ...body, scope: 'api/read api/write' })).status).toBe(403);
    expect((await post(url(fake.tokenUrl.webhooks, t.tenantId), body)).status).toBe(403);
    expect((await post(url(fake.tokenUrl.api, t.tenantId), { ...body, scope: 'api/read' })).status).toBe(200);
  });

  it('answers 401 for a wrong secret, 404 for an unknown tenant and 400 without client_credentials, in its error shape', async () => {
    const t = fake.state.addTenant();
    const wrong = await post(url(fake.tokenUrl.api, t.tenantId), { grant_type: 'client_credentials', client_id: t.tenantId, client_secret: 'llsecret_wrong' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ status: 401, error: 'Unauthorized', message: expect.any(String) });
    const unknown = await post(url(fake.tokenUrl.api, 'eu-west-2_Missing00'), { grant_type: 'client_credentials' }, basic('eu-west-2_Missing00', 'x'));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ status: 404, error: 'Not Found' });
    const noGrant = await post(url(fake.tokenUrl.api, t.tenantId), { client_id: t.tenantId, client_secret: t.clientSecret });
    expect(noGrant.status).toBe(400);
    expect(await noGrant.json()).toMatchObject({ status: 400, error: 'Bad Request' });
  });

  it('stops accepting the old secret once the vendor rotates it', async () => {
    const t = fake.state.addTenant();
    const fresh = fake.state.rotateTenantSecret(t.tenantId);
    const fields = { grant_type: 'client_credentials' };
    expect((await post(url(fake.tokenUrl.api, t.tenantId), fields, basic(t.tenantId, t.clientSecret))).status).toBe(401);
    expect((await post(url(fake.tokenUrl.api, t.tenantId), fields, basic(t.tenantId, fresh))).status).toBe(200);
  });

  it('takes a client id separate from the tenant id when switched to separateClientId', async () => {
    const other = await startLearnlinkFake({ separateClientId: true });
    try {
      const t = other.state.addTenant();
      expect(t.clientId).not.toBe(t.tenantId);
      const fields = { grant_type: 'client_credentials' };
      expect((await post(url(other.tokenUrl.api, t.tenantId), fields, basic(t.tenantId, t.clientSecret))).status).toBe(401);
      expect((await post(url(other.tokenUrl.api, t.tenantId), fields, basic(t.clientId, t.clientSecret))).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('Learn.link fake: REST API', () => {
  it('reads users with a live public-family bearer token, paged by page and perPage', async () => {
    const t = fake.state.addTenant();
    const { access_token } = (await (
      await post(url(fake.tokenUrl.api, t.tenantId), { grant_type: 'client_credentials', scope: 'api/read' }, basic(t.tenantId, t.clientSecret))
    ).json()) as GrantBody;
    const res = await users(access_token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ results: [expect.objectContaining({ id: 'user-1' })], totalResults: 3, totalPages: 3, page: 1, perPage: 1 });
    expect(((await (await users(access_token, 'page=2&perPage=2')).json()) as { results: unknown[] }).results).toHaveLength(1);
  });

  it('refuses a webhook token, a token without a read scope and an expired token', async () => {
    const t = fake.state.addTenant();
    const auth = basic(t.tenantId, t.clientSecret);
    const grant = async (template: string, scope: string) =>
      ((await (await post(url(template, t.tenantId), { grant_type: 'client_credentials', scope }, auth)).json()) as GrantBody).access_token;
    expect((await users(await grant(fake.tokenUrl.webhooks, 'api/all'))).status).toBe(401);
    expect((await users(await grant(fake.tokenUrl.api, 'api/write'))).status).toBe(403);
    const read = await grant(fake.tokenUrl.api, 'api/all');
    clock = new Date(T0.getTime() + 3599_000);
    expect((await users(read)).status).toBe(200);
    clock = new Date(T0.getTime() + 3600_000);
    expect((await users(read)).status).toBe(401);
    expect(fake.state.isAccessTokenLive(read)).toBe(false);
  });
});
