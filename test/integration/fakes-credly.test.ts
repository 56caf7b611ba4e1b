import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCredlyFake, type CredlyFake, type CredlyFakeOptions } from '../fakes/credly.fake.ts';

const DAY = 86_400_000;
const T0 = new Date('2026-01-10T08:00:00Z');

interface TokenBody {
  id: string;
  token: string;
  description: string | null;
  write_enabled: boolean;
  read_enabled: boolean;
  delete_enabled: boolean;
  created_at: string;
  expires_at: string;
  owner: { type: string; id: string; name: string; url: string };
}
interface Page<T> {
  data: T[];
  metadata: { count: number; current_page: number; total_count: number; total_pages: number; per: number; next_page_url: string | null };
}
interface AppBody {
  id: number;
  uid: string;
  secret: string | null;
  name: string;
  description: string | null;
}
interface GrantBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  created_at: number;
}

let clock: Date;
let fake: CredlyFake;
let org: string;

const basic = (token: string, colon = true) => `Basic ${Buffer.from(colon ? `${token}:` : token).toString('base64')}`;

function api(target: CredlyFake, path: string, init: { method?: string; auth?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.auth) headers.authorization = init.auth;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(path.startsWith('http') ? path : `${target.apiBase}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}
const call = (path: string, init: { method?: string; auth?: string; body?: unknown } = {}) => api(fake, path, init);

function grant(target: CredlyFake, fields: Record<string, string>, encoding: 'form' | 'json' = 'form') {
  return fetch(target.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': encoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: encoding === 'form' ? new URLSearchParams(fields) : JSON.stringify(fields),
  });
}

/** A fake with non-default switches, closed after the test body. */
async function withFake(options: CredlyFakeOptions, body: (other: CredlyFake, org: string) => Promise<void>): Promise<void> {
  const other = await startCredlyFake({ now: () => clock, ...options });
  try {
    await body(other, other.state.addOrganization());
  } finally {
    await other.close();
  }
}

beforeAll(async () => {
  fake = await startCredlyFake({ now: () => clock });
});
afterAll(() => fake.close());
beforeEach(() => {
  clock = T0;
  fake.reset();
  org = fake.state.addOrganization();
});

describe('Credly fake: authentication', () => {
  it('answers the organization read for a token sent as Basic user name with an empty password, or without the colon', async () => {
    const { token } = fake.state.addToken(org);
    const res = await call(`/organizations/${org}`, { auth: basic(token) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { id: org, name: 'Demo Academy' } });
    expect((await call(`/organizations/${org}`, { auth: basic(token, false) })).status).toBe(200);
  });

  it('refuses unknown tokens, a Basic password, and colon-less Basic when switched to strict', async () => {
    const { token } = fake.state.addToken(org);
    const unknown = await call(`/organizations/${org}`, { auth: basic('credlytoken_unknown') });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({ message: expect.any(String) });
    expect((await call(`/organizations/${org}`, { auth: `Basic ${Buffer.from(`${token}:x`).toString('base64')}` })).status).toBe(401);
    expect((await call(`/organizations/${org}`)).status).toBe(401);
    await withFake({ acceptColonlessBasic: false }, async (strict, o) => {
      const t = strict.state.addToken(o);
      expect((await api(strict, `/organizations/${o}`, { auth: basic(t.token, false) })).status).toBe(401);
      expect((await api(strict, `/organizations/${o}`, { auth: basic(t.token) })).status).toBe(200);
    });
  });

  it('answers 404 for an unknown organization and 403 for a token of another organization', async () => {
    const { token } = fake.state.addToken(org);
    expect((await call('/organizations/2b0c4f5e-0000-4000-8000-000000000000', { auth: basic(token) })).status).toBe(404);
    const other = fake.state.addOrganization('Other Academy');
    expect((await call(`/organizations/${other}`, { auth: basic(token) })).status).toBe(403);
  });

  it('refuses a token once the injected clock passes its 180-day expiry, and one set to expire', async () => {
    const token = fake.state.addToken(org);
    expect(token.expiresAt.getTime() - token.createdAt.getTime()).toBe(180 * DAY);
    clock = new Date(T0.getTime() + 179 * DAY);
    expect((await call(`/organizations/${org}`, { auth: basic(token.token) })).status).toBe(200);
    clock = new Date(T0.getTime() + 180 * DAY);
    expect((await call(`/organizations/${org}`, { auth: basic(token.token) })).status).toBe(401);
    expect(fake.state.isTokenValid(token.token)).toBe(false);

    clock = T0;
    const other = fake.state.addToken(org);
    fake.state.setTokenExpiry(other.id, new Date(T0.getTime() - 1000));
    expect((await call(`/organizations/${org}`, { auth: basic(other.token) })).status).toBe(401);
  });

  it('generates distinctive secret values: a prefix and 48 hex characters', () => {
    const token = fake.state.addToken(org);
    const app = fake.state.addApplication(org);
    expect(token.token).toMatch(/^credlytoken_[0-9a-f]{48}$/);
    expect(app.secret).toMatch(/^credlysecret_[0-9a-f]{48}$/);
    expect(fake.state.addToken(org).token).not.toBe(token.token);
  });
});

describe('Credly fake: authorization tokens', () => {
  it('pages the token list over 3 pages by following the absolute next_page_url until null', async () => {
    const caller = fake.state.addToken(org);
    for (let i = 0; i < 6; i++) fake.state.addToken(org, { description: `token ${i}` });
    const seen: string[] = [];
    let url: string | null = `${fake.apiBase}/organizations/${org}/authorization_tokens?per=3`;
    const pages: number[] = [];
    while (url) {
      const res = await call(url, { auth: basic(caller.token) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Page<TokenBody>;
      expect(body.metadata).toMatchObject({ total_count: 7, total_pages: 3, per: 3 });
      if (body.metadata.next_page_url !== null) {
        expect(body.metadata.next_page_url).toBe(`${fake.apiBase}/organizations/${org}/authorization_tokens?page=${body.metadata.current_page + 1}&per=3`);
      }
      pages.push(body.metadata.current_page);
      seen.push(...body.data.map((t) => t.id));
      url = body.metadata.next_page_url;
    }
    expect(pages).toEqual([1, 2, 3]);
    expect(new Set(seen)).toEqual(new Set(fake.state.tokens(org).map((t) => t.id)));
  });

  it('lists each token with its value in clear, owner and flags, 50 to a page by default', async () => {
    const caller = fake.state.addToken(org, { description: 'LMS' });
    const body = (await (await call(`/organizations/${org}/authorization_tokens`, { auth: basic(caller.token) })).json()) as Page<TokenBody>;
    expect(body.metadata).toMatchObject({ per: 50, current_page: 1, total_pages: 1, next_page_url: null });
    expect(body.data).toEqual([
      {
        id: caller.id,
        token: caller.token,
        owner_id: expect.any(String),
        description: 'LMS',
        write_enabled: true,
        read_enabled: true,
        delete_enabled: true,
        created_at: T0.toISOString(),
        expires_at: new Date(T0.getTime() + 180 * DAY).toISOString(),
        owner: { type: 'User', id: expect.any(String), name: expect.any(String), url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1\/users\//) },
      },
    ]);
  });

  it('shows a read-only caller only the read-only tokens', async () => {
    const reader = fake.state.addToken(org, { writeEnabled: false });
    fake.state.addToken(org);
    const body = (await (await call(`/organizations/${org}/authorization_tokens`, { auth: basic(reader.token) })).json()) as Page<TokenBody>;
    expect(body.data.map((t) => t.id)).toEqual([reader.id]);
  });

  it("creates a token (201) expiring 180 days later, with the caller's flags, and keeps the caller valid", async () => {
    const caller = fake.state.addToken(org);
    const res = await call(`/organizations/${org}/authorization_tokens`, {
      method: 'POST',
      auth: basic(caller.token),
      body: { description: 'credential-rotator r-1' },
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { data: TokenBody; metadata: object };
    expect(body.metadata).toEqual({});
    expect(body.data).toMatchObject({ description: 'credential-rotator r-1', write_enabled: true, read_enabled: true, delete_enabled: true });
    expect(Date.parse(body.data.expires_at) - Date.parse(body.data.created_at)).toBe(180 * DAY);
    expect(fake.state.isTokenValid(caller.token)).toBe(true);
    expect(fake.state.isTokenValid(body.data.token)).toBe(true);
    expect((await call(`/organizations/${org}`, { auth: basic(body.data.token) })).status).toBe(200);
  });

  it('answers a create with 200 when switched to createStatus 200', async () => {
    await withFake({ createStatus: 200 }, async (other, o) => {
      const caller = other.state.addToken(o);
      const res = await api(other, `/organizations/${o}/authorization_tokens`, { method: 'POST', auth: basic(caller.token) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: TokenBody }).data.description).toBeNull();
    });
  });

  it('refuses a create by a token that is not write-enabled (403) and by a dead one (401)', async () => {
    const reader = fake.state.addToken(org, { writeEnabled: false });
    expect((await call(`/organizations/${org}/authorization_tokens`, { method: 'POST', auth: basic(reader.token) })).status).toBe(403);
    const dead = fake.state.addToken(org);
    fake.state.killToken(dead.id);
    expect((await call(`/organizations/${org}/authorization_tokens`, { method: 'POST', auth: basic(dead.token) })).status).toBe(401);
    expect(fake.state.tokens(org)).toHaveLength(2);
  });

  it('kills the calling token the instant rotate answers, carrying its description over under a new id', async () => {
    const caller = fake.state.addToken(org, { description: 'LMS badge issuing' });
    const res = await call(`/organizations/${org}/authorization_tokens/rotate`, { method: 'POST', auth: basic(caller.token) });
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: TokenBody };
    expect(fake.state.isTokenValid(caller.token)).toBe(false);
    expect(fake.state.isTokenValid(data.token)).toBe(true);
    expect(data).toMatchObject({ description: 'LMS badge issuing', write_enabled: true });
    expect(data.id).not.toBe(caller.id);
    expect((await call(`/organizations/${org}`, { auth: basic(caller.token) })).status).toBe(401);
  });

  it('keeps the token id across rotate when switched to rotateKeepsId, and id helpers then mean the new token', async () => {
    await withFake({ rotateKeepsId: true }, async (other, o) => {
      const caller = other.state.addToken(o);
      const res = await api(other, `/organizations/${o}/authorization_tokens/rotate`, {
        method: 'POST',
        auth: basic(caller.token),
        body: { description: 'next' },
      });
      const { data } = (await res.json()) as { data: TokenBody };
      expect(data).toMatchObject({ id: caller.id, description: 'next' });
      expect(other.state.isTokenValid(caller.token)).toBe(false);
      other.state.killToken(caller.id);
      expect(other.state.isTokenValid(data.token)).toBe(false);
    });
  });

  it('deletes a token: 204, then the token is dead and a second delete or an unknown id answers 404', async () => {
    const caller = fake.state.addToken(org);
    const victim = fake.state.addToken(org);
    const path = `/organizations/${org}/authorization_tokens/${victim.id}`;
    expect((await call(path, { method: 'DELETE', auth: basic(caller.token) })).status).toBe(204);
    expect(fake.state.isTokenValid(victim.token)).toBe(false);
    expect((await call(`/organizations/${org}`, { auth: basic(victim.token) })).status).toBe(401);
    expect((await call(path, { method: 'DELETE', auth: basic(caller.token) })).status).toBe(404);
    expect(
      (await call(`/organizations/${org}/authorization_tokens/0d9f0000-0000-4000-8000-000000000000`, { method: 'DELETE', auth: basic(caller.token) })).status,
    ).toBe(404);
  });

  it('plays a Credly without token DELETE when deleteSupported is false: 404 by default, 405 on request, token untouched', async () => {
    for (const [options, status] of [
      [{ deleteSupported: false }, 404],
      [{ deleteSupported: false, deleteUnsupportedStatus: 405 }, 405],
    ] as const) {
      await withFake(options, async (other, o) => {
        const caller = other.state.addToken(o);
        const victim = other.state.addToken(o);
        const res = await api(other, `/organizations/${o}/authorization_tokens/${victim.id}`, { method: 'DELETE', auth: basic(caller.token) });
        expect(res.status).toBe(status);
        expect(other.state.isTokenValid(victim.token)).toBe(true);
      });
    }
  });
});

describe('Credly fake: OAuth applications', () => {
  it('shows an application secret only in the create answer (201), null in get and list', async () => {
    const caller = fake.state.addToken(org);
    const created = await call(`/organizations/${org}/oauth_applications`, {
      method: 'POST',
      auth: basic(caller.token),
      body: { name: 'LMS', description: 'credential-rotator r-2' },
    });
    expect(created.status).toBe(201);
    const { data } = (await created.json()) as { data: AppBody };
    expect(data).toMatchObject({ name: 'LMS', description: 'credential-rotator r-2', id: expect.any(Number), uid: expect.any(String) });
    expect(data.secret).toMatch(/^credlysecret_[0-9a-f]{48}$/);
    expect(fake.state.isClientValid(data.uid, data.secret!)).toBe(true);

    const one = (await (await call(`/organizations/${org}/oauth_applications/${data.id}`, { auth: basic(caller.token) })).json()) as { data: AppBody };
    expect(Object.keys(one.data).sort()).toEqual([
      'created_at',
      'created_by_id',
      'created_by_name',
      'created_by_type',
      'creator_available',
      'description',
      'id',
      'name',
      'secret',
      'uid',
      'updated_at',
    ]);
    expect(one.data).toMatchObject({ id: data.id, uid: data.uid, secret: null });
    const list = (await (await call(`/organizations/${org}/oauth_applications?per=10`, { auth: basic(caller.token) })).json()) as Page<AppBody>;
    expect(list.data.map((a) => a.secret)).toEqual([null]);
    expect(list.metadata).toMatchObject({ total_count: 1, per: 10, next_page_url: null });
  });

  it('updates an application (200) and refuses a create without a name (422)', async () => {
    const caller = fake.state.addToken(org);
    const app = fake.state.addApplication(org, { name: 'Old' });
    clock = new Date(T0.getTime() + 60_000);
    const put = await call(`/organizations/${org}/oauth_applications/${app.id}`, { method: 'PUT', auth: basic(caller.token), body: { name: 'New' } });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { data: AppBody & { updated_at: string } }).data).toMatchObject({
      name: 'New',
      secret: null,
      updated_at: clock.toISOString(),
    });
    expect((await call(`/organizations/${org}/oauth_applications`, { method: 'POST', auth: basic(caller.token), body: {} })).status).toBe(422);
    expect((await call(`/organizations/${org}/oauth_applications/999999`, { auth: basic(caller.token) })).status).toBe(404);
  });

  it('deletes an application (204): its client credentials and access tokens die with it', async () => {
    const caller = fake.state.addToken(org);
    const app = fake.state.addApplication(org);
    const { access_token } = (await (
      await grant(fake, { grant_type: 'client_credentials', client_id: app.uid, client_secret: app.secret, scope: 'issued_badges' })
    ).json()) as GrantBody;
    expect((await call(`/organizations/${org}/oauth_applications/${app.id}`, { method: 'DELETE', auth: basic(caller.token) })).status).toBe(204);
    expect(fake.state.isClientValid(app.uid, app.secret)).toBe(false);
    expect(fake.state.applications(org)).toEqual([]);
    expect((await call(`/organizations/${org}`, { auth: `Bearer ${access_token}` })).status).toBe(401);
    expect((await grant(fake, { grant_type: 'client_credentials', client_id: app.uid, client_secret: app.secret, scope: 'issued_badges' })).status).toBe(401);
  });
});

describe('Credly fake: OAuth token endpoint', () => {
  it('grants a client_credentials token for a form body with space-separated scopes, usable as Bearer within its scopes', async () => {
    const app = fake.state.addApplication(org, { scopes: ['issued_badges', 'badge_templates', 'authorization_tokens'] });
    const res = await grant(fake, {
      grant_type: 'client_credentials',
      client_id: app.uid,
      client_secret: app.secret,
      scope: 'issued_badges authorization_tokens',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as GrantBody;
    expect(body).toEqual({
      access_token: expect.stringMatching(/^credlyaccess_[0-9a-f]{48}$/),
      token_type: 'Bearer',
      expires_in: 7200,
      scope: 'issued_badges authorization_tokens',
      created_at: T0.getTime() / 1000,
    });
    const bearer = `Bearer ${body.access_token}`;
    expect((await call(`/organizations/${org}`, { auth: bearer })).status).toBe(200);
    expect((await call(`/organizations/${org}/oauth_applications`, { auth: bearer })).status).toBe(403);
    // The recovery path: an application with authorization_tokens can mint a token when every token is lost.
    const created = await call(`/organizations/${org}/authorization_tokens`, { method: 'POST', auth: bearer, body: { description: 'recovered' } });
    expect(created.status).toBe(201);

    const seen = fake.requests.find((r) => r.server === 'web');
    expect(seen).toMatchObject({
      method: 'POST',
      path: '/oauth/token',
      origin: new URL(fake.tokenUrl).origin,
      body: { client_id: app.uid, grant_type: 'client_credentials' },
    });
    expect(seen?.headers.authorization).toBeUndefined();
  });

  it('expires an access token 7200 seconds after it was granted, by the injected clock', async () => {
    const app = fake.state.addApplication(org);
    const { access_token } = (await (
      await grant(fake, { grant_type: 'client_credentials', client_id: app.uid, client_secret: app.secret, scope: 'workforce' })
    ).json()) as GrantBody;
    clock = new Date(T0.getTime() + 7199_000);
    expect((await call(`/organizations/${org}`, { auth: `Bearer ${access_token}` })).status).toBe(200);
    clock = new Date(T0.getTime() + 7200_000);
    expect((await call(`/organizations/${org}`, { auth: `Bearer ${access_token}` })).status).toBe(401);
  });

  it('accepts HTTP Basic client authentication and a JSON body by default, and refuses JSON when switched to form only', async () => {
    const app = fake.state.addApplication(org);
    const viaBasic = await fetch(fake.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.uid}:${app.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'events' }),
    });
    expect(viaBasic.status).toBe(200);
    expect((await grant(fake, { grant_type: 'client_credentials', client_id: app.uid, client_secret: app.secret, scope: 'events' }, 'json')).status).toBe(200);
    await withFake({ tokenBody: 'form' }, async (other, o) => {
      const a = other.state.addApplication(o);
      const res = await grant(other, { grant_type: 'client_credentials', client_id: a.uid, client_secret: a.secret, scope: 'events' }, 'json');
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    });
  });

  it('answers Doorkeeper errors: invalid_client, invalid_scope, unsupported_grant_type, invalid_request', async () => {
    const app = fake.state.addApplication(org, { scopes: ['issued_badges'] });
    const ok = { grant_type: 'client_credentials', client_id: app.uid, client_secret: app.secret, scope: 'issued_badges' };
    const wrong = await grant(fake, { ...ok, client_secret: 'credlysecret_wrong' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    for (const scope of ['issued_badges workforce', '', 'no_such_scope']) {
      const res = await grant(fake, { ...ok, scope });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_scope' });
    }
    const password = await grant(fake, { ...ok, grant_type: 'password' });
    expect(password.status).toBe(400);
    expect(await password.json()).toMatchObject({ error: 'unsupported_grant_type' });
    const { grant_type: _omitted, ...noGrant } = ok;
    expect(await (await grant(fake, noGrant)).json()).toMatchObject({ error: 'invalid_request' });
    expect(fake.state.liveAccessTokens()).toEqual([]);
  });

  it('grants only the allowed scopes when switched to grant-subset', async () => {
    await withFake({ scopeMismatch: 'grant-subset' }, async (other, o) => {
      const app = other.state.addApplication(o, { scopes: ['issued_badges'] });
      const res = await grant(other, { grant_type: 'client_credentials', client_id: app.uid, client_secret: app.secret, scope: 'issued_badges workforce' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as GrantBody).scope).toBe('issued_badges');
    });
  });
});
