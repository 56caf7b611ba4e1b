import { setTimeout as delay } from 'node:timers/promises';
import type { z } from 'zod';
import type { RateLimiter } from './rate-limit.ts';
import { ProviderAuthError, ProviderRequestError, ProviderUnavailableError, type ProviderError, type ProviderName } from './errors.ts';

export interface ProviderHttpOptions {
  provider: ProviderName;
  /** Deadline of one attempt, in ms. Default 15000. */
  requestTimeoutMs?: number;
  /** Attempts per call for failures worth retrying, the first included. Default 3. */
  maxAttempts?: number;
  /** First backoff between attempts, in ms; doubles each time, with jitter. Default 500. */
  backoffMs?: number;
  /**
   * Longest Retry-After waited for inside one call, in ms. A longer one ends the call with a
   * retryable error carrying it, and the job retries later. Default 60000.
   */
  maxRetryAfterMs?: number;
  /** Injected in tests. Default: timers. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected in tests. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Client-side rate limiting, per request's `rateKey`. Default: none. */
  limiter?: RateLimiter;
}

export interface ProviderRequest<T> {
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  /** Statuses that count as success. Default: any 2xx. */
  expect?: number[];
  /** Schema of a success body; without one the body is not read (204, DELETE). */
  parse?: z.ZodType<T>;
  /** Values (credentials) that must never appear in an error message. */
  secrets?: string[];
  /**
   * Whether the call may be repeated after a failure that might have reached the provider (a
   * timeout, a reset, a 5xx). Default: true for GET, PUT and DELETE, false for POST — a POST that
   * may have been executed is left to the caller (the rotation protocol looks before creating again).
   */
  idempotent?: boolean;
  /** The budget this call spends (e.g. `credly:<organization id>`), when a limiter is set. */
  rateKey?: string;
}

export interface ProviderResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ProviderHttp {
  request<T = undefined>(req: ProviderRequest<T>): Promise<ProviderResponse<T>>;
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  return out;
}

/**
 * A short reason from a provider's error body (`error_description`, `message`, `error`) and its
 * error code (`error`), never the body itself.
 */
async function reasonOf(response: Response, secrets: readonly string[]): Promise<{ reason: string; code?: string }> {
  try {
    const body = (await response.json()) as Record<string, unknown>;
    const reason = [body.error_description, body.message, body.error].find((v) => typeof v === 'string');
    const code = typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : undefined;
    return { reason: typeof reason === 'string' ? ` — ${scrub(reason.slice(0, 200), secrets)}` : '', ...(code ? { code } : {}) };
  } catch {
    return { reason: '' };
  }
}

function isJsonText(type: string, text: string): boolean {
  if (!/[/+]json\b/.test(type)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function networkReason(error: unknown): string {
  const err = error as { name?: string; cause?: { code?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer within the request timeout';
  return err.cause?.code ? `network error (${err.cause.code})` : 'network error';
}

/** JSON over fetch for the provider clients: timeouts, bounded retries, errors that carry no secret. */
export function createProviderHttp(options: ProviderHttpOptions): ProviderHttp {
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const backoffMs = options.backoffMs ?? 500;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const doFetch = options.fetch ?? fetch;
  const { provider } = options;

  async function attempt<T>(req: ProviderRequest<T>): Promise<ProviderResponse<T> | { failure: ProviderError; reached: boolean }> {
    const secrets = req.secrets ?? [];
    const where = { provider, operation: req.operation };
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    let body: string | undefined;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(req.form).toString();
    }
    let response: Response;
    try {
      response = await doFetch(req.url, { method: req.method, headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    } catch (error) {
      const refused = (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
      // The cause is dropped on purpose: undici's errors can quote the request.
      return { failure: new ProviderUnavailableError(networkReason(error), where), reached: !refused };
    }
    const { status } = response;
    const ok = req.expect ? req.expect.includes(status) : status >= 200 && status < 300;
    if (!ok) {
      const said = await reasonOf(response, secrets);
      const reason = `${status}${said.reason}`;
      const withStatus = { ...where, status, code: said.code };
      if (status === 401 || status === 403) return { failure: new ProviderAuthError(reason, withStatus), reached: true };
      if (status === 429) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        return { failure: new ProviderUnavailableError(reason, { ...withStatus, retryAfterMs }), reached: false };
      }
      if (status >= 500) return { failure: new ProviderUnavailableError(reason, withStatus), reached: true };
      return { failure: new ProviderRequestError(reason, withStatus), reached: true };
    }
    const type = response.headers.get('content-type') ?? '';
    if (!req.parse) {
      // No body is needed, but one that is not the API's (an HTML page from a proxy, broken JSON)
      // means something else answered: the call cannot count as done.
      const text = await response.text().catch(() => '');
      if (text.trim() !== '' && !isJsonText(type, text)) {
        return { failure: new ProviderUnavailableError(`${status} with an answer that is not the API's (${type.split(';')[0] || 'typeless'})`, { ...where, status }), reached: true };
      }
      return { status, body: undefined as T, headers: response.headers };
    }
    let parsed: unknown;
    try {
      if (!/[/+]json\b/.test(type)) throw new Error('not JSON');
      parsed = await response.json();
    } catch {
      const what = /[/+]json\b/.test(type) ? 'a body that is not valid JSON' : `a ${type.split(';')[0] || 'typeless'} body instead of JSON`;
      return { failure: new ProviderUnavailableError(`${status} with ${what}`, { ...where, status }), reached: true };
    }
    const result = req.parse.safeParse(parsed);
    if (!result.success) {
      const at = result.error.issues.map((i) => i.path.join('.') || '(body)').slice(0, 3).join(', ');
      return { failure: new ProviderUnavailableError(`${status} with an unexpected body (at ${at})`, { ...where, status }), reached: true };
    }
    return { status, body: result.data, headers: response.headers };
  }

  return {
    async request<T>(req: ProviderRequest<T>): Promise<ProviderResponse<T>> {
      const idempotent = req.idempotent ?? req.method !== 'POST';
      for (let n = 1; ; n += 1) {
        if (req.rateKey && options.limiter) await options.limiter.acquire(req.rateKey);
        const out = await attempt(req);
        if (!('failure' in out)) return out;
        const { failure, reached } = out;
        const retryable = failure instanceof ProviderUnavailableError && (idempotent || !reached);
        if (!retryable || n >= maxAttempts) throw failure;
        const wait = failure.retryAfterMs ?? backoffMs * 2 ** (n - 1) * (0.5 + Math.random());
        if (wait > maxRetryAfterMs) throw failure;
        await sleep(wait);
      }
    },
  };
}
