import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPermanent } from '../../src/errors/rotator-error.ts';
import { createCredlyClient, type CredlyClientOptions } from '../../src/kinds/credly/token-client.ts';
import { ProviderAuthError, ProviderError, ProviderUnavailableError } from '../../src/errors/provider-errors.ts';
import type { Fault } from '../fakes/faults.ts';
import { startCredlyFake, type CredlyFake, type CredlyFakeOptions, type FakeCredlyToken } from '../fakes/credly.fake.ts';

let fake: CredlyFake;
let org: string;
let caller: FakeCredlyToken;
/** Waits the client asked for (injected sleep: nothing really waits). */
let waits: number[];
/** Every error the suite met, checked after each test for token values. */
let errors: unknown[];
/** Token values of fakes other than `fake`, which a test closes before the check. */
let extraSecrets: string[];

const basic = (token: string) => `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
const client = (extra: Partial<CredlyClientOptions> = {}, target: CredlyFake = fake) =>
  createCredlyClient({ apiBase: target.apiBase, backoffMs: 1, requestTimeoutMs: 2_000, sleep: async (ms) => void waits.push(ms), ...extra });
const requestsOf = (method: string, path = '/authorization_tokens', target: CredlyFake = fake) =>
  target.requests.filter((r) => r.method === method && r.path.includes(path));

async function caught(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    errors.push(error);
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error('expected the call to fail');
}

/** A fake with non-default switches, closed after the test body. */
async function withFake(options: CredlyFakeOptions, body: (other: CredlyFake, org: string, token: FakeCredlyToken) => Promise<void>): Promise<void> {
  const other = await startCredlyFake(options);
  const o = other.state.addOrganization();
  try {
    await body(other, o, other.state.addToken(o, { description: 'caller' }));
  } finally {
    extraSecrets.push(...other.state.tokens().map((t) => t.token));
    await other.close();
  }
}

beforeAll(async () => {
  fake = await startCredlyFake();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  org = fake.state.addOrganization('Demo Academy');
  caller = fake.state.addToken(org, { description: 'caller' });
  waits = [];
  errors = [];
  extraSecrets = [];
});
afterEach(() => {
  const secrets = [...fake.state.tokens().map((t) => t.token), ...extraSecrets];
  for (const error of errors) {
    const e = error as Error;
    const text = JSON.stringify({ message: e.message, cause: String(e.cause), stack: e.stack, causeMessage: (e.cause as Error | undefined)?.message });
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(`${secret}:`).toString('base64'));
    }
  }
});

describe('Credly client: listing tokens', () => {
  it('returns every token across three pages, with dates parsed', async () => {
    for (let i = 0; i < 250; i++) fake.state.addToken(org, { description: `token ${i}` });
    const tokens = await client().listTokens(caller.token, org);
    expect(tokens).toHaveLength(251);
    expect(new Set(tokens.map((t) => t.id))).toEqual(new Set(fake.state.tokens(org).map((t) => t.id)));
    const mine = tokens.find((t) => t.id === caller.id)!;
    expect(mine).toEqual({
      id: caller.id,
      token: caller.token,
      description: 'caller',
      writeEnabled: true,
      readEnabled: true,
      deleteEnabled: true,
      createdAt: caller.createdAt,
      expiresAt: caller.expiresAt,
    });
    expect(mine.expiresAt).toBeInstanceOf(Date);
    expect(requestsOf('GET').map((r) => r.query.page ?? '1')).toEqual(['1', '2', '3']);
    expect(requestsOf('GET').every((r) => r.headers.authorization === basic(caller.token))).toBe(true);
  });

  it('refuses a next_page_url on another origin without total_pages, and never sends the token there', async () => {
    const elsewhere = await startCredlyFake();
    try {
      const body = JSON.stringify({ data: [], metadata: { next_page_url: `${elsewhere.apiBase}/organizations/${org}/authorization_tokens?page=2` } });
      fake.faults.add({ match: { method: 'GET', path: '/authorization_tokens' }, fault: { kind: 'status', status: 200, body } });
      const error = await caught(client().listTokens(caller.token, org));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error.message).toBe(
        'credly list-tokens: next_page_url points to another host; refused (and without metadata.total_pages the next page cannot be asked on the API base)',
      );
      expect(elsewhere.requests).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it('reads every page on the API host when the page links sit on the web host, and sends nothing there', async () => {
    await withFake({ pageLinks: 'web', maxPer: 3 }, async (other, o, token) => {
      for (let i = 0; i < 7; i++) other.state.addToken(o, { description: `token ${i}` });
      const tokens = await client({}, other).listTokens(token.token, o);
      expect(new Set(tokens.map((t) => t.id))).toEqual(new Set(other.state.tokens(o).map((t) => t.id)));
      expect(tokens).toHaveLength(8);
      expect(other.webApiRequests()).toEqual([]);
      const gets = requestsOf('GET', '/authorization_tokens', other);
      expect(gets.map((r) => [r.server, r.query.page ?? '1', r.query.per])).toEqual([
        ['api', '1', '100'],
        ['api', '2', '3'],
        ['api', '3', '3'],
      ]);
    });
  });

  it('goes on by page number when next_page_url is null but total_pages says there is more', async () => {
    await withFake({ maxPer: 2 }, async (other, o, token) => {
      const [, second] = [other.state.addToken(o), other.state.addToken(o)];
      const page1 = JSON.stringify({ data: [], metadata: { current_page: 1, total_pages: 2, per: 2, next_page_url: null } });
      other.faults.add({ match: { method: 'GET', path: '/authorization_tokens' }, fault: { kind: 'status', status: 200, body: page1 } });
      const tokens = await client({}, other).listTokens(token.token, o);
      expect(tokens.map((t) => t.id)).toEqual([second.id]);
      expect(requestsOf('GET', '/authorization_tokens', other).map((r) => [r.query.page ?? '1', r.query.per])).toEqual([
        ['1', '100'],
        ['2', '2'],
      ]);
    });
  });

  it('stops a listing whose next page is a page it already read', async () => {
    const body = JSON.stringify({ data: [], metadata: { next_page_url: `${fake.apiBase}/organizations/${org}/authorization_tokens?per=100` } });
    fake.faults.add({ match: { method: 'GET', path: '/authorization_tokens' }, times: 5, fault: { kind: 'status', status: 200, body } });
    const error = await caught(client().listTokens(caller.token, org));
    expect(error.message).toBe('credly list-tokens: the listing does not end (page 2)');
    expect(requestsOf('GET')).toHaveLength(1);
  });

  it('shows a read-only token only the read-only tokens', async () => {
    const reader = fake.state.addToken(org, { writeEnabled: false, description: 'reader' });
    const other = fake.state.addToken(org, { writeEnabled: false, description: 'other reader' });
    const tokens = await client().listTokens(reader.token, org);
    expect(tokens.map((t) => t.id).sort()).toEqual([reader.id, other.id].sort());
    expect(tokens.every((t) => !t.writeEnabled && !t.deleteEnabled)).toBe(true);
  });
});

describe('Credly client: creating tokens', () => {
  it('returns a new token that works, sends the description, and leaves the old token valid', async () => {
    const credly = client();
    const fresh = await credly.createToken(caller.token, org, 'rotator:r1');
    expect(fresh).toMatchObject({ description: 'rotator:r1', writeEnabled: true, readEnabled: true });
    expect(fresh.token).not.toBe(caller.token);
    expect(fresh.expiresAt.getTime() - fresh.createdAt.getTime()).toBe(180 * 86_400_000);
    expect(requestsOf('POST').map((r) => r.body)).toEqual([{ description: 'rotator:r1' }]);
    expect(requestsOf('POST')[0]!.headers['content-type']).toContain('application/json');
    await expect(credly.getOrganization(fresh.token, org)).resolves.toEqual({ id: org, name: 'Demo Academy' });
    await expect(credly.getOrganization(caller.token, org)).resolves.toEqual({ id: org, name: 'Demo Academy' });
    expect(fake.state.findToken(fresh.id)?.token).toBe(fresh.token);
  });

  it('accepts a 200 as well as a 201', async () => {
    await withFake({ createStatus: 200 }, async (other, o, token) => {
      const fresh = await client({}, other).createToken(token.token, o, 'rotator:r2');
      expect(other.state.isTokenValid(fresh.token)).toBe(true);
    });
  });

  it('refuses a read-only token for good, saying it lacks the permission, and creates nothing', async () => {
    const reader = fake.state.addToken(org, { writeEnabled: false });
    const error = await caught(client().createToken(reader.token, org, 'rotator:r3'));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error).toMatchObject({ status: 403, operation: 'create-token', permanent: true });
    expect(isPermanent(error)).toBe(true);
    expect(error.message).toMatch(
      /^credly create-token: 403 Forbidden — the token lacks the permission to create authorization tokens \(it must be write-enabled/,
    );
    expect(requestsOf('POST')).toHaveLength(1);
    expect(fake.state.tokens(org)).toHaveLength(2);
  });

  it.each<[string, Fault]>([
    ['a reset', { kind: 'reset' }],
    ['no answer in time', { kind: 'hang', ms: 1_000 }],
    ['a 500', { kind: 'status', status: 500 }],
  ])('does not repeat a create after %s: it may have been carried out', async (_what, fault) => {
    fake.faults.add({ match: { method: 'POST', path: '/authorization_tokens' }, fault });
    const error = await caught(client({ requestTimeoutMs: 300 }).createToken(caller.token, org, 'rotator:r4'));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('not repeated');
    expect(requestsOf('POST')).toHaveLength(1);
    expect(fake.faults.pending()).toBe(0);
  });

  it('repeats a create refused with 429, which did nothing', async () => {
    fake.faults.add({ match: { method: 'POST' }, fault: { kind: 'status', status: 429, retryAfter: 1 } });
    const fresh = await client().createToken(caller.token, org, 'rotator:r5');
    expect(waits).toEqual([1_000]);
    expect(requestsOf('POST')).toHaveLength(2);
    expect(
      fake.state
        .tokens(org)
        .filter((t) => t.description === 'rotator:r5')
        .map((t) => t.id),
    ).toEqual([fresh.id]);
  });
});

describe('Credly client: proving a token', () => {
  it('reads the organization with the token as Basic user name and an empty password', async () => {
    await expect(client().getOrganization(caller.token, org)).resolves.toEqual({ id: org, name: 'Demo Academy' });
    expect(requestsOf('GET', `/organizations/${org}`)[0]!.headers).toMatchObject({ authorization: basic(caller.token), accept: 'application/json' });
  });

  it('refuses a revoked or expired token for good, saying so without the token', async () => {
    const expired = fake.state.addToken(org, { expiresAt: new Date(Date.now() - 1_000) });
    fake.state.killToken(caller.id);
    for (const dead of [caller, expired]) {
      const error = await caught(client().getOrganization(dead.token, org));
      expect(error).toBeInstanceOf(ProviderAuthError);
      expect(error).toMatchObject({ status: 401, operation: 'get-organization' });
      expect(isPermanent(error)).toBe(true);
      expect(error.message).toMatch(/^credly get-organization: 401 Unauthorized — the token is refused: it is unknown, expired or revoked/);
      expect(error.message).not.toContain(dead.token);
    }
    expect(requestsOf('GET', '/organizations')).toHaveLength(2);
  });

  it('keeps the token out of the message even when Credly echoes it back', async () => {
    const body = JSON.stringify({ message: `token ${caller.token} (${basic(caller.token)}) is revoked`, token: caller.token });
    fake.faults.add({ match: { method: 'GET' }, fault: { kind: 'status', status: 401, body } });
    const error = await caught(client().getOrganization(caller.token, org));
    expect(error.message).toBe(
      'credly get-organization: 401 Unauthorized — the token is refused: it is unknown, expired or revoked (credly says: token [redacted] ([redacted]) is revoked)',
    );
  });
});

describe('Credly client: a flaky provider', () => {
  const flaky = (fault: Fault, times = 1) => fake.faults.add({ match: { method: 'GET', path: '/organizations' }, times, fault });

  it('waits out a 429 for its Retry-After, then succeeds', async () => {
    flaky({ kind: 'status', status: 429, retryAfter: 1 });
    await expect(client().getOrganization(caller.token, org)).resolves.toMatchObject({ id: org });
    expect(waits).toEqual([1_000]);
    expect(requestsOf('GET', '/organizations')).toHaveLength(2);
  });

  it.each<[string, Fault]>([
    ['a 500', { kind: 'status', status: 500 }],
    ['a reset', { kind: 'reset' }],
    ['malformed JSON', { kind: 'malformed' }],
  ])('retries a read after %s, then succeeds', async (_what, fault) => {
    flaky(fault);
    await expect(client().listTokens(caller.token, org)).resolves.toHaveLength(1);
    expect(waits).toHaveLength(1);
    expect(requestsOf('GET')).toHaveLength(2);
  });

  it('gives up with a retryable error when a proxy keeps answering HTML', async () => {
    flaky({ kind: 'wrong-content-type' }, 3);
    const error = await caught(client().getOrganization(caller.token, org));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toBe('credly get-organization: 200 with a text/html body instead of JSON (after 3 attempts)');
    expect(isPermanent(error)).toBe(false);
    expect(fake.faults.pending()).toBe(0);
  });

  it('times out a provider that hangs, per attempt', async () => {
    flaky({ kind: 'hang', ms: 2_000 });
    const started = Date.now();
    const error = await caught(client({ requestTimeoutMs: 300, maxAttempts: 1 }).getOrganization(caller.token, org));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toBe('credly get-organization: no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(1_500);
    flaky({ kind: 'hang', ms: 2_000 });
    await expect(client({ requestTimeoutMs: 300 }).getOrganization(caller.token, org)).resolves.toMatchObject({ id: org });
  });

  it('does not wait for an hour-long Retry-After: it fails at once, retryable, saying how long', async () => {
    flaky({ kind: 'status', status: 429, retryAfter: 3600 });
    const error = await caught(client().getOrganization(caller.token, org));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ retryAfterMs: 3_600_000, permanent: false, status: 429 });
    expect(waits).toEqual([]);
    expect(requestsOf('GET', '/organizations')).toHaveLength(1);
  });
});

describe('Credly client: deleting tokens', () => {
  it('deletes a token, which then no longer works, and a second delete finds nothing', async () => {
    const victim = fake.state.addToken(org, { description: 'old' });
    const credly = client();
    expect(await credly.deleteToken(caller.token, org, victim.id)).toBe('deleted');
    expect(fake.state.isTokenValid(victim.token)).toBe(false);
    expect(await credly.deleteToken(caller.token, org, victim.id)).toBe('not-found');
    expect((await caught(credly.getOrganization(victim.token, org))).status).toBe(401);
  });

  it('refuses a token that is not delete-enabled, saying so', async () => {
    const writer = fake.state.addToken(org, { deleteEnabled: false });
    const error = await caught(client().deleteToken(writer.token, org, caller.id));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toMatch(/403 Forbidden — the token lacks the permission to delete authorization tokens \(it must be delete-enabled/);
    expect(fake.state.isTokenValid(caller.token)).toBe(true);
  });

  it('reports a Credly without DELETE: 405 as unsupported, 404 as not found', async () => {
    await withFake({ deleteSupported: false, deleteUnsupportedStatus: 405 }, async (other, o, token) => {
      expect(await client({}, other).deleteToken(token.token, o, token.id)).toBe('unsupported');
      expect(other.state.isTokenValid(token.token)).toBe(true);
    });
    await withFake({ deleteSupported: false, deleteUnsupportedStatus: 404 }, async (other, o, token) => {
      expect(await client({}, other).deleteToken(token.token, o, token.id)).toBe('not-found');
    });
  });

  it('refuses ids that would fold into another path, before sending anything', async () => {
    for (const id of ['', '.', '..']) {
      const error = await caught(client().deleteToken(caller.token, org, id));
      expect(isPermanent(error)).toBe(true);
    }
    expect(await client().deleteToken(caller.token, org, 'a/b?c')).toBe('not-found');
    expect(requestsOf('DELETE').map((r) => r.path)).toEqual([`/v1/organizations/${org}/authorization_tokens/a%2Fb%3Fc`]);
  });
});
