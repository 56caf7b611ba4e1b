import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDegreedFake, type DegreedFake } from '../fakes/degreed.fake.ts';

const T0 = new Date('2026-03-02T09:30:00Z');

interface GrantBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
}
interface ListBody {
  data: Array<{ id: string; type: string; attributes: object; links: object; relationships: object }>;
  links: { next: string | null };
}

let clock: Date;
let fake: DegreedFake;

const formPost = (url: string, fields: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
const token = (clientId: string, clientSecret: string, scope?: string) =>
  formPost(fake.tokenUrl, { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, ...(scope === undefined ? {} : { scope }) });
const accessToken = async (clientId: string, clientSecret: string, scope?: string) => (await (await token(clientId, clientSecret, scope)).json()) as GrantBody;
const get = (url: string, access: string) => fetch(url, { headers: { authorization: `Bearer ${access}` } });

beforeAll(async () => {
  fake = await startDegreedFake({ now: () => clock, rateLimitPerMinute: 5, logoutMethod: 'POST' });
});
afterAll(() => fake.close());
beforeEach(() => {
  clock = T0;
  fake.reset();
});

describe('Degreed fake: token endpoint', () => {
  it('grants a bearer token with a refresh token for comma-separated scopes, form-encoded', async () => {
    const c = fake.state.addClient({ scopes: ['users:read', 'content:read'] });
    const res = await token(c.clientId, c.clientSecret, 'users:read,content:read');
    expect(res.status).toBe(200);
    const body = (await res.json()) as GrantBody;
    expect(body).toEqual({
      access_token: expect.stringMatching(/^degreedaccess_[0-9a-f]{48}$/),
      token_type: 'bearer',
      expires_in: 300,
      refresh_token: expect.stringMatching(/^degreedrefresh_[0-9a-f]{48}$/),
    });
    expect(c.clientSecret).toMatch(/^dgsecret_[0-9a-f]{48}$/);
    expect(fake.state.liveAccessTokens().map((t) => t.scopes)).toEqual([['users:read', 'content:read']]);
    expect(fake.requests[0]).toMatchObject({ server: 'token', method: 'POST', path: '/oauth/token', body: { scope: 'users:read,content:read' } });
  });

  it('answers 403 for an unknown client, a wrong secret and a revoked key', async () => {
    const c = fake.state.addClient();
    expect((await token('dgclient_unknown', c.clientSecret, 'users:read')).status).toBe(403);
    const wrong = await token(c.clientId, 'dgsecret_wrong', 'users:read');
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
    fake.state.revokeClient(c.clientId);
    expect((await token(c.clientId, c.clientSecret, 'users:read')).status).toBe(403);
  });

  it('answers 403 naming the scope the key lacks, and treats space-separated scopes as one unknown scope', async () => {
    const c = fake.state.addClient({ scopes: ['users:read', 'content:read'] });
    const missing = await token(c.clientId, c.clientSecret, 'users:read,skills:read');
    expect(missing.status).toBe(403);
    expect(JSON.stringify(await missing.json())).toContain('skills:read');
    expect((await token(c.clientId, c.clientSecret, 'users:read content:read')).status).toBe(403);
    expect(fake.state.issuedAccessTokens()).toEqual([]);
  });

  it('refuses a JSON body and any grant other than client_credentials with 400', async () => {
    const c = fake.state.addClient();
    const jsonBody = await fetch(fake.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }),
    });
    expect(jsonBody.status).toBe(400);
    const password = await formPost(fake.tokenUrl, { grant_type: 'password', client_id: c.clientId, client_secret: c.clientSecret });
    expect(password.status).toBe(400);
  });

  it('stops accepting the old secret once the admin regenerates it', async () => {
    const c = fake.state.addClient();
    const fresh = fake.state.rotateClientSecret(c.clientId);
    expect((await token(c.clientId, c.clientSecret)).status).toBe(403);
    expect((await token(c.clientId, fresh)).status).toBe(200);
  });
});

describe('Degreed fake: API and logout', () => {
  it('reads users with a live bearer holding users:read, as a JSON:API-like page with an absolute next link', async () => {
    const c = fake.state.addClient();
    const { access_token } = await accessToken(c.clientId, c.clientSecret, 'users:read');
    const res = await get(`${fake.apiBase}/users?limit=1`, access_token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as ListBody;
    expect(body.data).toEqual([{ id: 'user-1', type: 'users', attributes: expect.any(Object), links: expect.any(Object), relationships: {} }]);
    expect(body.links.next).toBe(`${fake.apiBase}/users?limit=1&next=1`);
    const last = (await (await get(`${fake.apiBase}/users?limit=2&next=2`, access_token)).json()) as ListBody;
    expect(last.data.map((d) => d.id)).toEqual(['user-3']);
    expect(last.links.next).toBeNull();
  });

  it('answers 403 on content without content:read, and 401 for an unknown or expired token', async () => {
    const c = fake.state.addClient({ scopes: ['users:read', 'content:read'] });
    const { access_token } = await accessToken(c.clientId, c.clientSecret, 'users:read');
    expect((await get(`${fake.apiBase}/content?limit=1`, access_token)).status).toBe(403);
    expect((await get(`${fake.apiBase}/users?limit=1`, 'degreedaccess_unknown')).status).toBe(401);
    clock = new Date(T0.getTime() + 299_000);
    expect((await get(`${fake.apiBase}/users?limit=1`, access_token)).status).toBe(200);
    clock = new Date(T0.getTime() + 300_000);
    expect((await get(`${fake.apiBase}/users?limit=1`, access_token)).status).toBe(401);
    expect(fake.state.isAccessTokenLive(access_token)).toBe(false);
  });

  it('logs out at once with bearer auth and a JSON body: the access token and the given refresh token die', async () => {
    const c = fake.state.addClient();
    const { access_token, refresh_token } = await accessToken(c.clientId, c.clientSecret, 'users:read');
    expect(fake.logoutUrl).toBe(`${new URL(fake.tokenUrl).origin}/oauth/logout`);
    const form = await fetch(fake.logoutUrl!, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(form.status).toBe(415);
    expect(fake.state.isAccessTokenLive(access_token)).toBe(true);

    const logout = await fetch(fake.logoutUrl!, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token }),
    });
    expect(logout.status).toBe(200);
    expect(fake.state.isAccessTokenLive(access_token)).toBe(false);
    expect(fake.state.isRefreshTokenLive(refresh_token)).toBe(false);
    expect((await get(`${fake.apiBase}/users?limit=1`, access_token)).status).toBe(401);
  });

  it('keeps the refresh token alive when logout does not name it, and serves logout at a configured path or not at all', async () => {
    const c = fake.state.addClient();
    const { access_token, refresh_token } = await accessToken(c.clientId, c.clientSecret);
    await fetch(fake.logoutUrl!, { method: 'POST', headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(fake.state.isRefreshTokenLive(refresh_token)).toBe(true);

    for (const logoutPath of ['/api/v2/logout', null]) {
      const other = await startDegreedFake({ logoutPath, logoutMethod: 'POST' });
      try {
        const oc = other.state.addClient();
        const { access_token: at } = (await (
          await formPost(other.tokenUrl, { grant_type: 'client_credentials', client_id: oc.clientId, client_secret: oc.clientSecret })
        ).json()) as GrantBody;
        const origin = new URL(other.tokenUrl).origin;
        const res = await fetch(`${origin}${logoutPath ?? '/oauth/logout'}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${at}`, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(res.status).toBe(logoutPath === null ? 404 : 200);
        expect(other.logoutUrl).toBe(logoutPath === null ? undefined : `${origin}${logoutPath}`);
        expect(other.state.isAccessTokenLive(at)).toBe(logoutPath === null);
      } finally {
        await other.close();
      }
    }
  });
});

describe('Degreed fake: rate limit', () => {
  it('carries X-Rate-Limit-Limit, -Remaining and an ISO-8601 UTC -Reset on every answer for a client', async () => {
    const c = fake.state.addClient();
    const res = await token(c.clientId, c.clientSecret, 'users:read');
    expect(res.headers.get('x-rate-limit-limit')).toBe('5');
    expect(res.headers.get('x-rate-limit-remaining')).toBe('4');
    expect(res.headers.get('x-rate-limit-reset')).toBe(new Date(T0.getTime() + 60_000).toISOString());
    const { access_token } = (await res.json()) as GrantBody;
    const read = await get(`${fake.apiBase}/users?limit=1`, access_token);
    expect(read.headers.get('x-rate-limit-remaining')).toBe('3');
  });

  it('answers 429 with Retry-After in seconds past the per-client limit, and serves again in the next minute', async () => {
    const a = fake.state.addClient();
    const b = fake.state.addClient();
    for (let i = 0; i < 5; i++) expect((await token(a.clientId, a.clientSecret)).status).toBe(200);
    clock = new Date(T0.getTime() + 20_000);
    const limited = await token(a.clientId, a.clientSecret);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('40');
    expect(limited.headers.get('x-rate-limit-remaining')).toBe('0');
    expect((await token(b.clientId, b.clientSecret)).status).toBe(200);
    clock = new Date(T0.getTime() + 60_000);
    expect((await token(a.clientId, a.clientSecret)).status).toBe(200);
  });

  it('defaults to 70 requests per minute and 300-second tokens', async () => {
    const other = await startDegreedFake({ now: () => clock });
    try {
      const c = other.state.addClient();
      const res = await formPost(other.tokenUrl, { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret });
      expect(res.headers.get('x-rate-limit-limit')).toBe('70');
      expect(((await res.json()) as GrantBody).expires_in).toBe(300);
    } finally {
      await other.close();
    }
  });
});
