import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isPermanent } from '../../src/errors/rotator-error.ts';
import { ProviderAuthError, ProviderError, ProviderRequestError, ProviderUnavailableError } from '../../src/errors/provider-errors.ts';
import { createProviderHttp, parseRetryAfter } from '../../src/provider-http/http.ts';

const SECRET = 'credlytoken_5f3a9c0d2b7e4f61a8c9d0e1f2a3b4c5';
const BASIC = Buffer.from(`${SECRET}:`).toString('base64');

type Answer = Response | Error;
/** A fetch that plays the given answers in order and records each call. */
function scripted(...answers: Answer[]) {
  const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: url instanceof Request ? url.url : url.toString(), init });
    const next = answers.shift();
    if (!next) throw new Error('fetch called more often than the test expected');
    if (next instanceof Error) throw next;
    return next;
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}
const jsonAnswer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const netError = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(`connect ${code}`), { code }) });

function client(fetch: typeof globalThis.fetch, waits: number[] = [], extra: { maxAttempts?: number; requestTimeoutMs?: number } = {}) {
  return createProviderHttp({ provider: 'credly', fetch, backoffMs: 10, sleep: async (ms) => void waits.push(ms), ...extra });
}
const get = {
  operation: 'get-organization',
  method: 'GET' as const,
  url: 'https://api.example.test/v1/x',
  parse: z.object({ ok: z.boolean() }),
  secrets: [SECRET],
};
const post = { ...get, operation: 'create-token', method: 'POST' as const, json: { description: 'd' } };

/** Every text an error carries down its cause chain: what could reach a log, Redis or an alert. */
function chainText(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && depth < 10; e = (e as { cause?: unknown }).cause, depth += 1) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : '', JSON.stringify(e) ?? '');
  }
  return parts.join('\n');
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    expect(chainText(error)).not.toContain(SECRET);
    expect(chainText(error)).not.toContain(BASIC);
    return error as ProviderError;
  }
  throw new Error('expected the call to fail');
}

describe('provider HTTP client', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7_000);
    expect(parseRetryAfter('1.5')).toBe(1_500);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30_000);
    expect(parseRetryAfter(new Date(Date.UTC(2020, 0, 1)).toUTCString())).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-3')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('waits out a 429 or a 503 for as long as Retry-After says, then succeeds', async () => {
    const waits: number[] = [];
    const { fetch, calls } = scripted(jsonAnswer(429, {}, { 'retry-after': '2' }), jsonAnswer(503, {}, { 'retry-after': '1' }), jsonAnswer(200, { ok: true }));
    await expect(client(fetch, waits).request(get)).resolves.toMatchObject({ status: 200, body: { ok: true } });
    expect(waits).toEqual([2_000, 1_000]);
    expect(calls).toHaveLength(3);
  });

  it('does not sit on a Retry-After longer than its limit: the job retries later, told how long', async () => {
    const { fetch, calls } = scripted(jsonAnswer(429, {}, { 'retry-after': '3600' }));
    const error = await failure(client(fetch).request(get));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ retryAfterMs: 3_600_000, permanent: false, status: 429 });
    expect(isPermanent(error)).toBe(false);
    expect(error.message).toBe('credly get-organization: 429 Too Many Requests');
    expect(calls).toHaveLength(1);
  });

  it('retries a GET after a reset and a 503, with growing backoff, and gives up after maxAttempts', async () => {
    const waits: number[] = [];
    const { fetch } = scripted(netError('ECONNRESET'), jsonAnswer(503, {}), jsonAnswer(200, { ok: true }));
    await expect(client(fetch, waits).request(get)).resolves.toMatchObject({ body: { ok: true } });
    expect(waits).toHaveLength(2);
    expect(waits[1]!).toBeGreaterThan(waits[0]! / 3);

    const down = scripted(jsonAnswer(500, {}), jsonAnswer(502, {}), jsonAnswer(503, {}));
    const error = await failure(client(down.fetch).request(get));
    expect(error.message).toBe('credly get-organization: 503 Service Unavailable (after 3 attempts)');
    expect(error.permanent).toBe(false);
  });

  it('never repeats a POST that may have reached the provider (reset, timeout, 500), and says so', async () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    for (const answer of [netError('ECONNRESET'), timeout, jsonAnswer(500, {})]) {
      const { fetch, calls } = scripted(answer);
      const error = await failure(client(fetch).request(post));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error.message).toContain('not repeated: the provider may have carried it out');
      expect(calls).toHaveLength(1);
    }
  });

  it('repeats a POST after a refused connection, a DNS resolver that could not answer (EAI_AGAIN) or a 429, and when the caller says it is idempotent', async () => {
    const { fetch, calls } = scripted(netError('ECONNREFUSED'), netError('EAI_AGAIN'), jsonAnswer(429, {}), jsonAnswer(201, { ok: true }));
    const http = createProviderHttp({ provider: 'credly', fetch, maxAttempts: 4, sleep: async () => undefined });
    await expect(http.request({ ...post, expect: [201] })).resolves.toMatchObject({ status: 201 });
    expect(calls).toHaveLength(4);

    const grant = scripted(netError('ECONNRESET'), jsonAnswer(200, { ok: true }));
    await expect(client(grant.fetch).request({ ...post, idempotent: true })).resolves.toMatchObject({ status: 200 });
    expect(grant.calls).toHaveLength(2);
  });

  it('a host that does not exist (ENOTFOUND) is a configuration error, for good, naming the host and the inventory field; EAI_AGAIN stays transient', async () => {
    const missing = scripted(netError('ENOTFOUND'));
    const error = await failure(client(missing.fetch).request({ ...get, hostField: 'endpoints.apiBase (or environment)' }));
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(isPermanent(error)).toBe(true);
    expect(error.message).toBe(
      'credly get-organization: the host api.example.test does not exist (DNS: ENOTFOUND): check endpoints.apiBase (or environment) in the inventory',
    );
    expect(missing.calls).toHaveLength(1);
    const unnamed = await failure(client(scripted(netError('ENOTFOUND')).fetch).request(post));
    expect(unnamed.message).toContain("check the credential's endpoints in the inventory");

    const resolver = scripted(netError('EAI_AGAIN'), netError('EAI_AGAIN'), netError('EAI_AGAIN'));
    const again = await failure(client(resolver.fetch).request(get));
    expect(again).toBeInstanceOf(ProviderUnavailableError);
    expect(again.message).toBe('credly get-organization: network error (EAI_AGAIN) (after 3 attempts)');
  });

  it('refuses 401 and 403 for good, and other 4xx as bad requests, without retrying', async () => {
    for (const [status, type, text] of [
      [401, ProviderAuthError, 'Unauthorized'],
      [403, ProviderAuthError, 'Forbidden'],
      [400, ProviderRequestError, 'Bad Request'],
      [404, ProviderRequestError, 'Not Found'],
      [410, ProviderRequestError, 'Gone'],
      [422, ProviderRequestError, 'Unprocessable Entity'],
    ] as const) {
      const { fetch, calls } = scripted(jsonAnswer(status, { message: 'nope' }));
      const error = await failure(client(fetch).request(get));
      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject({ provider: 'credly', operation: 'get-organization', status, permanent: true });
      expect(isPermanent(error)).toBe(true);
      expect(error.message).toBe(`credly get-organization: ${status} ${text} — nope`);
      expect(calls).toHaveLength(1);
    }
  });

  it('puts the caller’s explanation of a refusal first, keeps OAuth error codes, and reads no body that is not JSON', async () => {
    const { fetch } = scripted(
      jsonAnswer(403, { message: 'not write-enabled' }),
      jsonAnswer(400, { error: 'invalid_scope', error_description: 'The requested scope is invalid' }),
      new Response('<html>denied</html>', { status: 403, headers: { 'content-type': 'text/html' } }),
    );
    const http = client(fetch);
    const explained = await failure(http.request({ ...get, explain: { 403: 'the token lacks the permission' } }));
    expect(explained.message).toBe('credly get-organization: 403 Forbidden — the token lacks the permission (credly says: not write-enabled)');
    const oauth = await failure(http.request(get));
    expect(oauth).toMatchObject({ code: 'invalid_scope', message: 'credly get-organization: 400 Bad Request — The requested scope is invalid' });
    expect((await failure(http.request(get))).message).toBe('credly get-organization: 403 Forbidden');
  });

  it('treats a success that is not JSON, broken JSON or an unexpected shape as a retryable failure, naming the field', async () => {
    const html = () => new Response('<html>gateway</html>', { status: 200, headers: { 'content-type': 'text/html' } });
    const broken = () => new Response('{"ok": tr', { status: 200, headers: { 'content-type': 'application/json' } });
    const shape = () => jsonAnswer(200, { ok: 'yes' });
    for (const [answer, what] of [
      [html, '200 with a text/html body instead of JSON'],
      [broken, '200 with a body that is not valid JSON'],
      [shape, '200 with an unexpected body (at ok: invalid_type)'],
    ] as const) {
      const error = await failure(client(scripted(answer()).fetch, [], { maxAttempts: 1 }).request(get));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error.message).toBe(`credly get-organization: ${what}`);
    }
    const { fetch, calls } = scripted(html(), broken(), jsonAnswer(200, { ok: true }));
    await expect(client(fetch).request(get)).resolves.toMatchObject({ body: { ok: true } });
    expect(calls).toHaveLength(3);
  });

  it('without a schema accepts an empty answer and an expected refusal, but not a 2xx HTML page', async () => {
    const del = { operation: 'delete-token', method: 'DELETE' as const, url: 'https://api.example.test/v1/x', expect: [204, 404, 405] };
    const { fetch } = scripted(
      new Response(null, { status: 204 }),
      new Response('<html>Method Not Allowed</html>', { status: 405, headers: { 'content-type': 'text/html' } }),
      new Response('<html>gateway</html>', { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } }),
    );
    const http = client(fetch, [], { maxAttempts: 1 });
    await expect(http.request(del)).resolves.toMatchObject({ status: 204, body: undefined });
    await expect(http.request(del)).resolves.toMatchObject({ status: 405 });
    const error = await failure(http.request({ ...del, expect: undefined }));
    expect(error.message).toBe("credly delete-token: 200 with an answer that is not the API's (text/html)");
  });

  it('never puts the credential into an error, even when the provider or the network layer echoes it', async () => {
    const echo = `token ${SECRET} is revoked; header Basic ${BASIC}`;
    const leaky = Object.assign(new TypeError(`fetch failed for ${SECRET}`), { cause: { code: 'ECONNRESET', detail: SECRET } });
    const { fetch } = scripted(
      jsonAnswer(401, { message: echo, token: SECRET }),
      jsonAnswer(500, { message: `${'x'.repeat(150)}${SECRET}` }),
      leaky,
      jsonAnswer(200, { [SECRET]: 1 }),
    );
    const http = client(fetch, [], { maxAttempts: 1 });
    const headers = { authorization: `Basic ${BASIC}` };
    // `secrets` names the token; the Authorization header is scrubbed without being named.
    const refused = await failure(http.request({ ...get, headers }));
    expect(refused.message).toBe('credly get-organization: 401 Unauthorized — token [redacted] is revoked; header [redacted]');
    // Scrubbed before it is shortened, so no beginning of the secret survives the cut.
    expect((await failure(http.request({ ...get, headers }))).message).not.toContain(SECRET.slice(0, 10));
    expect((await failure(http.request({ ...get, headers }))).message).toBe('credly get-organization: network error (ECONNRESET)');
    const shape = z.object({ ok: z.boolean() }).strict();
    expect((await failure(http.request({ ...get, headers, parse: shape }))).message).not.toContain('credlytoken_');
  });

  it('sends the JSON or form body and the headers it is given, without following redirects', async () => {
    const { fetch, calls } = scripted(jsonAnswer(201, { ok: true }), jsonAnswer(200, { ok: true }));
    await client(fetch).request({ ...post, headers: { authorization: 'Basic x' }, expect: [201] });
    expect(calls[0]!.init).toMatchObject({ method: 'POST', body: '{"description":"d"}', redirect: 'error' });
    expect(calls[0]!.init!.headers).toMatchObject({ 'content-type': 'application/json', accept: 'application/json', authorization: 'Basic x' });
    await client(fetch).request({ ...post, json: undefined, form: { grant_type: 'client_credentials', scope: 'a b' } });
    expect(calls[1]!.init).toMatchObject({ body: 'grant_type=client_credentials&scope=a+b' });
    expect(calls[1]!.init!.headers).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded' });
  });
});

describe('provider HTTP client over a real socket', () => {
  let server: Server;
  let base: string;
  const behaviours: Array<(res: ServerResponse) => void> = [];
  let hits = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits += 1;
      req.resume();
      (behaviours.shift() ?? ((r) => r.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')))(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const http = (maxAttempts = 3) => createProviderHttp({ provider: 'credly', requestTimeoutMs: 150, maxAttempts, sleep: async () => undefined });

  it('times out a silent provider per attempt, and a GET succeeds on the next attempt', async () => {
    hits = 0;
    behaviours.push(() => undefined);
    await expect(http().request({ ...get, url: `${base}/x` })).resolves.toMatchObject({ body: { ok: true } });
    expect(hits).toBe(2);
    behaviours.push(() => undefined);
    const error = await failure(http(1).request({ ...get, url: `${base}/x` }));
    expect(error.message).toBe('credly get-organization: no answer within 150 ms');
  });

  it('gives up on a body that stalls after the headers, and does not repeat such a POST', async () => {
    hits = 0;
    behaviours.push((res) => void res.writeHead(200, { 'content-type': 'application/json' }).write('{"ok":'));
    const error = await failure(http().request({ ...post, url: `${base}/x` }));
    expect(error.message).toBe('credly create-token: 200 with an answer cut off (no answer within 150 ms); not repeated: the provider may have carried it out');
    expect(hits).toBe(1);
  });

  it('repeats even a POST when the connection is refused: nothing was sent', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const waits: number[] = [];
    const refused = createProviderHttp({ provider: 'credly', backoffMs: 1, sleep: async (ms) => void waits.push(ms) });
    const error = await failure(refused.request({ ...post, url: `http://127.0.0.1:${port}/x` }));
    expect(error.message).toBe('credly create-token: network error (ECONNREFUSED) (after 3 attempts)');
    expect(waits).toHaveLength(2);
  });
});
