import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isPermanent } from '../../src/errors/rotator-error.ts';
import { ProviderAuthError, ProviderRequestError, ProviderUnavailableError } from '../../src/providers/errors.ts';
import { createProviderHttp, parseRetryAfter } from '../../src/providers/http.ts';

const SECRET = 'credlytoken_5f3a9c0d2b7e4f61a8c9d0e1f2a3b4c5';

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
const reset = () => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
const refused = () => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });

function client(fetch: typeof globalThis.fetch, waits: number[] = []) {
  return createProviderHttp({ provider: 'credly', fetch, backoffMs: 10, sleep: async (ms) => void waits.push(ms) });
}
const get = { operation: 'get-organization', method: 'GET' as const, url: 'https://api.example.test/v1/x', parse: z.object({ ok: z.boolean() }), secrets: [SECRET] };
const post = { ...get, operation: 'create-token', method: 'POST' as const, json: { description: 'd' } };

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('provider HTTP client', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7_000);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('waits out a 429 for as long as Retry-After says, then succeeds', async () => {
    const waits: number[] = [];
    const { fetch, calls } = scripted(jsonAnswer(429, {}, { 'retry-after': '2' }), jsonAnswer(200, { ok: true }));
    await expect(client(fetch, waits).request(get)).resolves.toMatchObject({ status: 200, body: { ok: true } });
    expect(waits).toEqual([2_000]);
    expect(calls).toHaveLength(2);
  });

  it('does not sit on a Retry-After longer than its limit: the job retries later, told how long', async () => {
    const { fetch, calls } = scripted(jsonAnswer(429, {}, { 'retry-after': '3600' }));
    const error = await failure(client(fetch).request(get));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as ProviderUnavailableError).retryAfterMs).toBe(3_600_000);
    expect(isPermanent(error)).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('retries a GET after a reset and a 503, with growing backoff', async () => {
    const waits: number[] = [];
    const { fetch } = scripted(reset(), jsonAnswer(503, {}), jsonAnswer(200, { ok: true }));
    await expect(client(fetch, waits).request(get)).resolves.toMatchObject({ body: { ok: true } });
    expect(waits).toHaveLength(2);
    expect(waits[1]!).toBeGreaterThan(waits[0]! / 3);
  });

  it('never repeats a POST that may have reached the provider (reset, 500), but does after a refused connection or a 429', async () => {
    for (const answer of [reset(), jsonAnswer(500, {})]) {
      const { fetch, calls } = scripted(answer);
      expect(await failure(client(fetch).request(post))).toBeInstanceOf(ProviderUnavailableError);
      expect(calls).toHaveLength(1);
    }
    const { fetch, calls } = scripted(refused(), jsonAnswer(429, {}, { 'retry-after': '1' }), jsonAnswer(201, { ok: true }));
    await expect(client(fetch).request({ ...post, expect: [201] })).resolves.toMatchObject({ status: 201 });
    expect(calls).toHaveLength(3);
  });

  it('refuses 401 and 403 for good, and other 4xx as bad requests, without retrying', async () => {
    for (const [status, type] of [[401, ProviderAuthError], [403, ProviderAuthError], [404, ProviderRequestError], [422, ProviderRequestError]] as const) {
      const { fetch, calls } = scripted(jsonAnswer(status, { message: 'nope' }));
      const error = await failure(client(fetch).request(get));
      expect(error).toBeInstanceOf(type);
      expect(isPermanent(error)).toBe(true);
      expect(error.message).toBe(`credly get-organization: ${status} — nope`);
      expect(calls).toHaveLength(1);
    }
  });

  it('treats a success that is not JSON, broken JSON or an unexpected shape as a retryable failure, naming the field', async () => {
    const html = new Response('<html>gateway</html>', { status: 200, headers: { 'content-type': 'text/html' } });
    const broken = new Response('{"ok": tr', { status: 200, headers: { 'content-type': 'application/json' } });
    const shape = jsonAnswer(200, { ok: 'yes' });
    const { fetch } = scripted(html, broken, shape);
    const error = await failure(createProviderHttp({ provider: 'credly', fetch, maxAttempts: 3, sleep: async () => undefined }).request(get));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toBe('credly get-organization: 200 with an unexpected body (at ok)');
    const html2 = new Response('<html>gateway</html>', { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
    const { fetch: f2 } = scripted(html2);
    const e2 = await failure(createProviderHttp({ provider: 'credly', fetch: f2, maxAttempts: 1 }).request({ ...get, parse: undefined, method: 'DELETE' }));
    expect(e2.message).toBe("credly get-organization: 200 with an answer that is not the API's (text/html)");
  });

  it('never puts the credential into an error, even when the provider echoes it back', async () => {
    const { fetch } = scripted(jsonAnswer(401, { message: `token ${SECRET} is revoked`, token: SECRET }));
    const error = await failure(client(fetch).request(get));
    expect(error.message).toBe('credly get-organization: 401 — token [redacted] is revoked');
    expect(JSON.stringify({ message: error.message, cause: String(error.cause), stack: error.stack })).not.toContain(SECRET);
  });

  it('sends the JSON body and headers it is given, and times out a silent provider', async () => {
    const { fetch, calls } = scripted(jsonAnswer(201, { ok: true }));
    await client(fetch).request({ ...post, headers: { authorization: 'Basic x' }, expect: [201] });
    expect(calls[0]!.init).toMatchObject({ method: 'POST', body: '{"description":"d"}', redirect: 'error' });
    expect(calls[0]!.init!.headers).toMatchObject({ 'content-type': 'application/json', accept: 'application/json', authorization: 'Basic x' });

    const silent = (async (_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)))) as typeof globalThis.fetch;
    const error = await failure(createProviderHttp({ provider: 'credly', fetch: silent, requestTimeoutMs: 50, maxAttempts: 1 }).request(get));
    expect(error.message).toBe('credly get-organization: no answer within the request timeout');
  });
});
