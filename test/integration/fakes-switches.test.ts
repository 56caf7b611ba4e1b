import { describe, expect, it } from 'vitest';
import { startCredlyFake, type CredlyFake, type CredlyFakeOptions } from '../fakes/credly.fake.ts';
import { startDegreedFake, type DegreedFakeOptions } from '../fakes/degreed.fake.ts';
import { startLearnlinkFake } from '../fakes/learnlink.fake.ts';

/**
 * Each switch of the fakes (test/fakes/README.md) in both positions: what the vendor pages leave open
 * must be playable either way, or a wrong guess in the product could never fail a test.
 */

const basic = (token: string) => `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
interface Meta {
  next_page_url: string | null;
  previous_page_url: string | null;
  total_pages: number;
  per: number;
}

async function withCredly(options: CredlyFakeOptions, body: (fake: CredlyFake, org: string) => Promise<void>): Promise<void> {
  const fake = await startCredlyFake(options);
  try {
    await body(fake, fake.state.addOrganization());
  } finally {
    await fake.close();
  }
}
const get = (url: string, token: string) => fetch(url, { headers: { authorization: basic(token) } });
const del = (url: string, token: string) => fetch(url, { method: 'DELETE', headers: { authorization: basic(token) } });

describe('Credly fake switches', () => {
  it('deleteSupported: false has no token DELETE route: the unknown-route 404, and the token stays valid', async () => {
    for (const deleteSupported of [true, false]) {
      await withCredly({ deleteSupported }, async (fake, org) => {
        const caller = fake.state.addToken(org);
        const victim = fake.state.addToken(org);
        const res = await del(`${fake.apiBase}/organizations/${org}/authorization_tokens/${victim.id}`, caller.token);
        expect(res.status).toBe(deleteSupported ? 204 : 404);
        if (!deleteSupported) expect(await res.json()).toEqual({ message: expect.stringMatching(/^no route for DELETE/) });
        expect(fake.state.isTokenValid(victim.token)).toBe(!deleteSupported);
      });
    }
  });

  it('applicationDeleteSupported: false answers 404 and the application stays listed and usable', async () => {
    for (const applicationDeleteSupported of [true, false]) {
      await withCredly({ applicationDeleteSupported }, async (fake, org) => {
        const caller = fake.state.addToken(org);
        const app = fake.state.addApplication(org);
        const res = await del(`${fake.apiBase}/organizations/${org}/oauth_applications/${app.id}`, caller.token);
        expect(res.status).toBe(applicationDeleteSupported ? 204 : 404);
        const listed = (await (await get(`${fake.apiBase}/organizations/${org}/oauth_applications`, caller.token)).json()) as { data: Array<{ id: number }> };
        expect(listed.data.map((a) => a.id)).toEqual(applicationDeleteSupported ? [] : [app.id]);
        expect(fake.state.isClientValid(app.uid, app.secret)).toBe(!applicationDeleteSupported);
      });
    }
  });

  it('organizationEndpoint: false has no GET /organizations/{id} (404) while the documented listing works', async () => {
    for (const organizationEndpoint of [true, false]) {
      await withCredly({ organizationEndpoint }, async (fake, org) => {
        const caller = fake.state.addToken(org);
        expect((await get(`${fake.apiBase}/organizations/${org}`, caller.token)).status).toBe(organizationEndpoint ? 200 : 404);
        expect((await get(`${fake.apiBase}/organizations/${org}/authorization_tokens`, caller.token)).status).toBe(200);
      });
    }
  });

  it('pageLinks: web puts page links on the web host, which answers them too and records every such request', async () => {
    for (const pageLinks of ['api', 'web'] as const) {
      await withCredly({ pageLinks, maxPer: 2 }, async (fake, org) => {
        const caller = fake.state.addToken(org);
        for (let i = 0; i < 4; i += 1) fake.state.addToken(org);
        const first = (await (await get(`${fake.apiBase}/organizations/${org}/authorization_tokens?per=100`, caller.token)).json()) as {
          data: unknown[];
          metadata: Meta;
        };
        expect(first.data).toHaveLength(2);
        expect(first.metadata).toMatchObject({ per: 2, total_pages: 3, previous_page_url: null });
        const base = pageLinks === 'web' ? fake.webApiBase : fake.apiBase;
        expect(first.metadata.next_page_url).toBe(`${base}/organizations/${org}/authorization_tokens?page=2&per=2`);
        expect(fake.webApiRequests()).toEqual([]);
        const second = await get(first.metadata.next_page_url!, caller.token);
        expect(second.status).toBe(200);
        expect(fake.webApiRequests()).toHaveLength(pageLinks === 'web' ? 1 : 0);
      });
    }
  });

  it("createdTokenRights: a created token inherits the caller's flags, gets all of them, or is read-only", async () => {
    const expected = {
      inherit: { write_enabled: true, read_enabled: true, delete_enabled: false },
      full: { write_enabled: true, read_enabled: true, delete_enabled: true },
      'read-only': { write_enabled: false, read_enabled: true, delete_enabled: false },
    } as const;
    for (const createdTokenRights of ['inherit', 'full', 'read-only'] as const) {
      await withCredly({ createdTokenRights }, async (fake, org) => {
        const caller = fake.state.addToken(org, { writeEnabled: true, deleteEnabled: false });
        const res = await fetch(`${fake.apiBase}/organizations/${org}/authorization_tokens`, {
          method: 'POST',
          headers: { authorization: basic(caller.token), 'content-type': 'application/json' },
          body: '{"description":"x"}',
        });
        expect(res.status).toBe(201);
        expect(((await res.json()) as { data: object }).data).toMatchObject(expected[createdTokenRights]);
      });
    }
  });

  it('tokenBody: the OAuth token endpoint takes form only, JSON only, or both', async () => {
    for (const tokenBody of ['form', 'json', 'both'] as const) {
      await withCredly({ tokenBody }, async (fake, org) => {
        const app = fake.state.addApplication(org);
        const fields = { grant_type: 'client_credentials', client_id: app.uid, client_secret: app.secret, scope: 'authorization_tokens' };
        const form = await fetch(fake.tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(fields),
        });
        const json = await fetch(fake.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) });
        expect([form.status, json.status]).toEqual([tokenBody === 'json' ? 400 : 200, tokenBody === 'form' ? 400 : 200]);
      });
    }
  });
});

describe('Degreed fake switches logoutExpires and refusalStatus', () => {
  it('a logout that does nothing answers 200 and leaves the token live; refusals come as 403 or as 400, with the same codes', async () => {
    for (const logoutExpires of [true, false]) {
      const fake = await startDegreedFake({ logoutExpires });
      try {
        const client = fake.state.addClient({ scopes: ['users:read'] });
        const form = (fields: Record<string, string>) =>
          fetch(fake.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
        const grant = (await (
          await form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'users:read' })
        ).json()) as {
          access_token: string;
        };
        const logout = await fetch(fake.logoutUrl!, { headers: { authorization: `Bearer ${grant.access_token}`, 'content-type': 'application/json' } });
        expect(logout.status).toBe(200);
        expect(fake.state.isAccessTokenLive(grant.access_token)).toBe(!logoutExpires);
      } finally {
        await fake.close();
      }
    }
    for (const refusalStatus of [403, 400] as const) {
      const fake = await startDegreedFake({ refusalStatus });
      try {
        const client = fake.state.addClient({ scopes: ['users:read'] });
        const form = (fields: Record<string, string>) =>
          fetch(fake.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
        const wrong = await form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'wrong', scope: 'users:read' });
        expect([wrong.status, ((await wrong.json()) as { error: string }).error]).toEqual([refusalStatus, 'invalid_client']);
        const lacking = await form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'content:read' });
        expect([lacking.status, ((await lacking.json()) as { error: string }).error]).toEqual([refusalStatus, 'invalid_scope']);
      } finally {
        await fake.close();
      }
    }
  });
});

describe('Degreed fake switch logoutMethod', () => {
  it("serves logout on the one method: GET as the page's example (JSON content type, no body), or POST with a JSON body", async () => {
    for (const logoutMethod of ['GET', 'POST'] as const satisfies Array<DegreedFakeOptions['logoutMethod']>) {
      const fake = await startDegreedFake({ logoutMethod });
      try {
        const c = fake.state.addClient();
        const grant = () =>
          fetch(fake.tokenUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }),
          }).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
        const access = await grant();
        const other = logoutMethod === 'GET' ? 'POST' : 'GET';
        const wrong = await fetch(fake.logoutUrl!, {
          method: other,
          headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' },
          ...(other === 'POST' ? { body: '{}' } : {}),
        });
        expect(wrong.status).toBe(404);
        expect(fake.state.isAccessTokenLive(access)).toBe(true);
        if (logoutMethod === 'GET') {
          expect((await fetch(fake.logoutUrl!, { headers: { authorization: `Bearer ${access}` } })).status).toBe(415);
          expect(fake.state.isAccessTokenLive(access)).toBe(true);
        }
        const init = logoutMethod === 'GET' ? {} : { body: '{}' };
        const res = await fetch(fake.logoutUrl!, {
          method: logoutMethod,
          headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' },
          ...init,
        });
        expect(res.status).toBe(200);
        expect(fake.state.isAccessTokenLive(access)).toBe(false);
      } finally {
        await fake.close();
      }
    }
  });
});

describe('Learn.link fake switch scopeRefusal', () => {
  it('refuses a scope the tenant lacks with 400 or 403, in the documented error shape', async () => {
    for (const scopeRefusal of [400, 403] as const) {
      const fake = await startLearnlinkFake({ scopeRefusal });
      try {
        const t = fake.state.addTenant({ scopes: ['api/read'] });
        const res = await fetch(fake.tokenUrl.api.replace('{tenantId}', t.tenantId), {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${t.tenantId}:${t.clientSecret}`).toString('base64')}`,
          },
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api/read api/write' }),
        });
        expect(res.status).toBe(scopeRefusal);
        expect(await res.json()).toEqual({
          status: scopeRefusal,
          error: scopeRefusal === 400 ? 'Bad Request' : 'Forbidden',
          message: expect.stringContaining('api/write'),
        });
      } finally {
        await fake.close();
      }
    }
  });
});
