import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCredlyFake, type CredlyFake } from '../fakes/credly.fake.ts';
import { startDegreedFake } from '../fakes/degreed.fake.ts';
import { seededRandom, type Fault } from '../fakes/faults.ts';
import { startLearnlinkFake } from '../fakes/learnlink.fake.ts';

let fake: CredlyFake;
let org: string;
let auth: string;

const read = (init: RequestInit = {}) => fetch(`${fake.apiBase}/organizations/${org}`, { ...init, headers: { authorization: auth } });
const tokenPost = () =>
  fetch(fake.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
async function elapsed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const started = performance.now();
  const [result] = await Promise.allSettled([fn()]);
  return { ms: performance.now() - started, result };
}

beforeAll(async () => {
  fake = await startCredlyFake();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  org = fake.state.addOrganization();
  auth = `Basic ${Buffer.from(`${fake.state.addToken(org).token}:`).toString('base64')}`;
});

describe('fault injection: each kind', () => {
  it('answers 429 with Retry-After for as many requests as the rule says, then normally', async () => {
    fake.faults.add({ match: { path: '/organizations/' }, times: 2, fault: { kind: 'status', status: 429, retryAfter: 7 } });
    for (let i = 0; i < 2; i++) {
      const res = await read();
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
    }
    expect(fake.faults.pending()).toBe(0);
    expect((await read()).status).toBe(200);
  });

  it('answers 500 with a JSON body, and a 503 HTML error page with an HTTP-date Retry-After', async () => {
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    fake.faults
      .add({ fault: { kind: 'status', status: 500 } })
      .add({ fault: { kind: 'status', status: 503, retryAfter: date, body: '<html><body>Down for maintenance</body></html>', contentType: 'text/html' } });
    const error = await read();
    expect(error.status).toBe(500);
    expect(await error.json()).toEqual({ message: 'injected 500' });
    const page = await read();
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toBe('text/html');
    expect(page.headers.get('retry-after')).toBe(date);
    expect(await page.text()).toContain('Down for maintenance');
  });

  it('resets the connection without an answer, yet logs the request', async () => {
    fake.faults.add({ fault: { kind: 'reset' } });
    await expect(read()).rejects.toThrow(TypeError);
    expect(fake.requests.map((r) => r.path)).toEqual([`/v1/organizations/${org}`]);
    expect((await read()).status).toBe(200);
  });

  it('loses the answer after the route ran: the create happened, the client sees a reset', async () => {
    fake.faults.add({ match: { method: 'POST' }, fault: { kind: 'lose-answer' } });
    const before = fake.state.tokens(org).length;
    const create = fetch(`${fake.apiBase}/organizations/${org}/authorization_tokens`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'lost answer' }),
    });
    await expect(create).rejects.toThrow(TypeError);
    expect(fake.state.tokens(org)).toHaveLength(before + 1);
    expect(fake.state.tokens(org).at(-1)!.description).toBe('lost answer');
    expect(fake.faults.applied.map((a) => a.fault.kind)).toEqual(['lose-answer']);
  });

  it('answers 200 with a JSON content type and a body that does not parse', async () => {
    fake.faults.add({ fault: { kind: 'malformed' } }).add({ fault: { kind: 'malformed', body: '{"data": [' } });
    const first = await read();
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('application/json');
    await expect(first.json()).rejects.toThrow(SyntaxError);
    expect(await (await read()).text()).toBe('{"data": [');
  });

  it('answers 200 with an HTML page for wrong-content-type', async () => {
    fake.faults.add({ fault: { kind: 'wrong-content-type' } });
    const res = await read();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toMatch(/^<!DOCTYPE html>/);
  });

  it('adds latency and then answers normally', async () => {
    fake.faults.add({ fault: { kind: 'latency', ms: 250 } });
    const { ms, result } = await elapsed(() => read());
    expect(result.status === 'fulfilled' && result.value.status).toBe(200);
    expect(ms).toBeGreaterThanOrEqual(240);
  });

  it('hangs without answering: a client timeout fires first, and without one the socket resets after the hang', async () => {
    fake.faults.add({ fault: { kind: 'hang', ms: 2_000 } });
    const timedOut = await elapsed(() => read({ signal: AbortSignal.timeout(150) }));
    expect(timedOut.result.status).toBe('rejected');
    expect(timedOut.result.status === 'rejected' && (timedOut.result.reason as Error).name).toBe('TimeoutError');
    expect(timedOut.ms).toBeLessThan(1_500);

    fake.faults.add({ fault: { kind: 'hang', ms: 300 } });
    const reset = await elapsed(() => read());
    expect(reset.result.status).toBe('rejected');
    expect(reset.ms).toBeGreaterThanOrEqual(280);
  });
});

describe('fault injection: rules, latency option and random mode', () => {
  it('consumes rules in order, matching by method, server and path pattern', async () => {
    fake.faults
      .add({ match: { method: 'POST', server: 'web' }, fault: { kind: 'status', status: 500 } })
      .add({ match: { path: /\/organizations\/[^/]+$/ }, fault: { kind: 'status', status: 502 } })
      .add({ fault: { kind: 'status', status: 504 } });
    expect((await read()).status).toBe(502);
    expect((await tokenPost()).status).toBe(500);
    expect((await read()).status).toBe(504);
    expect((await read()).status).toBe(200);
    expect(fake.faults.applied.map((a) => [a.server, a.method, (a.fault as Extract<Fault, { kind: 'status' }>).status])).toEqual([
      ['api', 'GET', 502],
      ['web', 'POST', 500],
      ['api', 'GET', 504],
    ]);
  });

  it('keeps an unlimited rule (times: Infinity) until the faults are cleared', async () => {
    fake.faults.add({ times: Infinity, fault: { kind: 'status', status: 503 } });
    for (let i = 0; i < 4; i++) expect((await read()).status).toBe(503);
    expect(fake.faults.pending()).toBe(Infinity);
    fake.faults.clear();
    expect((await read()).status).toBe(200);
    expect(fake.faults.applied).toEqual([]);
  });

  it('delays every request by the latencyMs option, on every host, and keeps it across clear()', async () => {
    const slow = await startDegreedFake({ latencyMs: 400 });
    try {
      const c = slow.state.addClient();
      const grant = () =>
        fetch(slow.tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }),
        });
      expect((await elapsed(grant)).ms).toBeGreaterThanOrEqual(390);
      expect((await elapsed(() => fetch(`${slow.apiBase}/users`))).ms).toBeGreaterThanOrEqual(390);
      slow.faults.latencyMs = 0;
      expect((await elapsed(grant)).ms).toBeLessThan(300);
      slow.faults.clear();
      expect(slow.faults.latencyMs).toBe(400);
    } finally {
      await slow.close();
    }
  });

  it('injects on the Degreed and Learn.link hosts by server name', async () => {
    const degreed = await startDegreedFake();
    const learnlink = await startLearnlinkFake();
    try {
      degreed.faults.add({ match: { server: 'token' }, fault: { kind: 'status', status: 503, retryAfter: 60 } });
      const users = await fetch(`${degreed.apiBase}/users?limit=1`);
      expect(users.status).toBe(401);
      const limited = await fetch(degreed.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      expect([limited.status, limited.headers.get('retry-after')]).toEqual([503, '60']);

      const t = learnlink.state.addTenant();
      learnlink.faults.add({ match: { server: 'user' }, fault: { kind: 'reset' } });
      const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: t.tenantId, client_secret: t.clientSecret });
      const headers = { 'content-type': 'application/x-www-form-urlencoded' };
      expect((await fetch(learnlink.tokenUrl.api.replace('{tenantId}', t.tenantId), { method: 'POST', headers, body })).status).toBe(200);
      await expect(fetch(learnlink.tokenUrl.webhooks.replace('{tenantId}', t.tenantId), { method: 'POST', headers, body })).rejects.toThrow(TypeError);
    } finally {
      await Promise.all([degreed.close(), learnlink.close()]);
    }
  });

  it('replays the same random faults for the same seed, and others for another seed', async () => {
    const sequence = async (seed: number) => {
      fake.faults.clear();
      fake.faults.setRandom({
        rate: 0.5,
        seed,
        kinds: [
          { kind: 'status', status: 500 },
          { kind: 'status', status: 429, retryAfter: 1 },
        ],
      });
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await read()).status);
      return statuses;
    };
    const a = await sequence(42);
    expect(await sequence(42)).toEqual(a);
    expect(a.filter((s) => s !== 200).length).toBeGreaterThan(5);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(5);
    expect(new Set(a)).toEqual(new Set([200, 429, 500]));
    expect(await sequence(7)).not.toEqual(a);
  });

  it('draws random faults only for matching requests, from bare kinds too, after the explicit rules', async () => {
    fake.faults.setRandom({ rate: 1, seed: 1, kinds: ['status', 'malformed'], match: { server: 'web' } });
    fake.faults.add({ match: { server: 'web' }, fault: { kind: 'status', status: 418 } });
    for (let i = 0; i < 5; i++) expect((await read()).status).toBe(200);
    expect((await tokenPost()).status).toBe(418);
    const kinds = new Set<number>();
    for (let i = 0; i < 12; i++) kinds.add((await tokenPost()).status);
    expect(kinds).toEqual(new Set([503, 200]));
    expect(fake.faults.applied.slice(1).every((a) => a.server === 'web' && ['status', 'malformed'].includes(a.fault.kind))).toBe(true);
  });

  it('uses mulberry32: a deterministic sequence in [0, 1) per seed', () => {
    const a = seededRandom(123);
    const b = seededRandom(123);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(values).size).toBe(1000);
  });

  it('closes promptly while a request hangs', async () => {
    const other = await startCredlyFake();
    other.faults.add({ fault: { kind: 'hang', ms: 10_000 } });
    const pending = fetch(`${other.apiBase}/organizations/x`).catch((error: unknown) => error);
    // Until the fake has the request (it hangs from then on), within a deadline.
    await expect.poll(() => other.requests.length, { timeout: 5_000, interval: 10 }).toBeGreaterThan(0);
    const { ms } = await elapsed(() => other.close());
    expect(ms).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(TypeError);
  });
});
