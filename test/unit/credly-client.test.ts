import { describe, expect, it } from 'vitest';
import { createCredlyClient } from '../../src/kinds/credly/token-client.ts';
import { createCredlyOAuthClient } from '../../src/kinds/credly/application-client.ts';

const API = 'https://api.example.test/v1';
const ORG = '7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6';
const TOKEN = 'credlytoken_0123456789abcdef';

const tokenJson = (id: string) => ({
  id,
  token: `value-${id}`,
  description: null,
  write_enabled: true,
  read_enabled: true,
  delete_enabled: true,
  created_at: '2026-01-01T00:00:00Z',
  expires_at: '2026-06-30T00:00:00Z',
});
const page = (ids: string[], next: string | null) =>
  new Response(JSON.stringify({ data: ids.map(tokenJson), metadata: { next_page_url: next } }), { headers: { 'content-type': 'application/json' } });

function scripted(answers: Array<() => Response>) {
  const calls: Array<{ url: string; headers: Record<string, string> }> = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: url instanceof Request ? url.url : url.toString(), headers: init?.headers as Record<string, string> });
    const next = answers.shift();
    if (!next) throw new Error('unexpected request');
    return next();
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

describe('Credly client', () => {
  it('follows next_page_url through every page, with the token as Basic user name and an empty password', async () => {
    const { fetch, calls } = scripted([
      () => page(['a', 'b'], `${API}/organizations/${ORG}/authorization_tokens?page=2&per=100`),
      () => page(['c'], `${API}/organizations/${ORG}/authorization_tokens?page=3&per=100`),
      () => page(['d'], null),
    ]);
    const tokens = await createCredlyClient({ apiBase: `${API}/`, fetch }).listTokens(TOKEN, ORG);
    expect(tokens.map((t) => t.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(tokens[0]!.expiresAt).toEqual(new Date('2026-06-30T00:00:00Z'));
    expect(calls.map((c) => c.url)).toEqual([
      `${API}/organizations/${ORG}/authorization_tokens?per=100`,
      `${API}/organizations/${ORG}/authorization_tokens?page=2&per=100`,
      `${API}/organizations/${ORG}/authorization_tokens?page=3&per=100`,
    ]);
    expect(calls[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`);
  });

  it('never sends the token to a next_page_url on another host, and stops a listing that loops', async () => {
    const elsewhere = scripted([() => page(['a'], 'https://evil.example.test/v1/steal')]);
    await expect(createCredlyClient({ apiBase: API, fetch: elsewhere.fetch }).listTokens(TOKEN, ORG)).rejects.toThrow(
      'credly list-tokens: next_page_url points to another host; refused',
    );
    expect(elsewhere.calls).toHaveLength(1);
    const self = `${API}/organizations/${ORG}/authorization_tokens?page=2`;
    const loop = scripted([() => page(['a'], self), () => page(['b'], self)]);
    await expect(createCredlyClient({ apiBase: API, fetch: loop.fetch }).listTokens(TOKEN, ORG)).rejects.toThrow('the listing does not end (page 3)');
  });

  it('pages by number on the API base when the links sit on another host, and refuses a server that ignores the number', async () => {
    const meta = (current: number) => ({
      current_page: current,
      total_pages: 2,
      per: 1,
      next_page_url: current < 2 ? `https://www.example.test/api/v1/organizations/${ORG}/authorization_tokens?page=2` : null,
    });
    const answer = (ids: string[], current: number) => () =>
      new Response(JSON.stringify({ data: ids.map(tokenJson), metadata: meta(current) }), { headers: { 'content-type': 'application/json' } });
    const good = scripted([answer(['a'], 1), answer(['b'], 2)]);
    expect((await createCredlyClient({ apiBase: API, fetch: good.fetch }).listTokens(TOKEN, ORG)).map((t) => t.id)).toEqual(['a', 'b']);
    expect(good.calls.map((c) => c.url)).toEqual([
      `${API}/organizations/${ORG}/authorization_tokens?per=100`,
      `${API}/organizations/${ORG}/authorization_tokens?per=1&page=2`,
    ]);
    const deaf = scripted([answer(['a'], 1), answer(['a'], 1)]);
    await expect(createCredlyClient({ apiBase: API, fetch: deaf.fetch }).listTokens(TOKEN, ORG)).rejects.toThrow(
      'credly list-tokens: asked for page 2 by number and got page 1; refused',
    );
    expect([...good.calls, ...deaf.calls].every((c) => c.url.startsWith(API))).toBe(true);
  });

  it('maps DELETE answers: 204 deleted, 404 not found, 405 unsupported', async () => {
    const { fetch } = scripted([
      () => new Response(null, { status: 204 }),
      () => new Response(null, { status: 404 }),
      () => new Response(null, { status: 405 }),
    ]);
    const client = createCredlyClient({ apiBase: API, fetch });
    expect(await client.deleteToken(TOKEN, ORG, 'a')).toBe('deleted');
    expect(await client.deleteToken(TOKEN, ORG, 'a')).toBe('not-found');
    expect(await client.deleteToken(TOKEN, ORG, 'a')).toBe('unsupported');
  });
});

describe('Credly OAuth client listing', () => {
  const appPage = (ids: number[], next: string | null) =>
    new Response(
      JSON.stringify({
        data: ids.map((id) => ({ id, name: `app ${id}`, uid: `uid-${id}`, created_at: '2026-01-01T00:00:00Z' })),
        metadata: { next_page_url: next },
      }),
      {
        headers: { 'content-type': 'application/json' },
      },
    );

  it('follows a relative next_page_url on the API host, as the token listing does', async () => {
    const { fetch, calls } = scripted([() => appPage([1], `/v1/organizations/${ORG}/oauth_applications?page=2&per=100`), () => appPage([2], null)]);
    const apps = await createCredlyOAuthClient({ apiBase: API, fetch }).listApplications(TOKEN, ORG);
    expect(apps.map((a) => a.id)).toEqual([1, 2]);
    expect(calls.map((c) => c.url)).toEqual([
      `${API}/organizations/${ORG}/oauth_applications?per=100`,
      `${API}/organizations/${ORG}/oauth_applications?page=2&per=100`,
    ]);
  });

  it('never sends the token to another host, and stops a listing that loops', async () => {
    const elsewhere = scripted([() => appPage([1], 'https://evil.example.test/v1/steal')]);
    await expect(createCredlyOAuthClient({ apiBase: API, fetch: elsewhere.fetch }).listApplications(TOKEN, ORG)).rejects.toThrow(
      'credly list-applications: next_page_url points to another host; refused',
    );
    expect(elsewhere.calls).toHaveLength(1);
    const self = `${API}/organizations/${ORG}/oauth_applications?page=2`;
    const loop = scripted([() => appPage([1], self), () => appPage([2], self)]);
    await expect(createCredlyOAuthClient({ apiBase: API, fetch: loop.fetch }).listApplications(TOKEN, ORG)).rejects.toThrow(
      'the listing does not end (page 3)',
    );
  });
});
