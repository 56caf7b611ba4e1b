import { STATUS_CODES } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { z } from 'zod';
import { scrubSecrets } from '../errors/scrub.ts';
import { BodyTooLargeError, readCapped } from './body.ts';
import { currentFence } from '../lease/fence.ts';
import type { RateLimiter } from './rate-limit.ts';
import { ProviderAuthError, ProviderRequestError, ProviderUnavailableError, type ProviderError, type ProviderName } from '../errors/provider-errors.ts';

/**
 * Longest Retry-After honoured, by default inside one call and always by the job layer
 * (queue/retry-delay.ts): a provider cannot park a rotation beyond its failure alerting.
 */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

export interface ProviderHttpOptions {
  provider: ProviderName;
  /** Deadline of one attempt (answer and body), in ms. Default 15000. */
  requestTimeoutMs?: number;
  /** Attempts per call for failures worth retrying, the first included. Default 3. */
  maxAttempts?: number;
  /** First backoff between attempts, in ms; doubles each time, with jitter (×0.5–1.5). Default 500. */
  backoffMs?: number;
  /**
   * Longest Retry-After waited for inside one call, in ms. A longer one ends the call at once with
   * a transient (not permanent) error carrying it (`retryAfterMs`), and the job retries later, no
   * sooner than it says (up to DEFAULT_MAX_RETRY_AFTER_MS). Default DEFAULT_MAX_RETRY_AFTER_MS.
   */
  maxRetryAfterMs?: number;
  /** Injected in tests. Default: timers. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected in tests. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Client-side rate limiting, per request's `rateKey`. Default: none. */
  limiter?: RateLimiter;
  /** Told of every attempt and every wait for the rate limit (metrics). Default: nobody. */
  observe?: ProviderObserver;
}

/**
 * What an SRE graphs of the provider calls: each attempt's operation, how it ended — the HTTP
 * status as a string when the provider answered, `no-answer` when nothing did (refused, reset,
 * timed out) — and how long it took; and each wait for the organization's rate limit.
 */
export interface ProviderObserver {
  attempt(record: { provider: string; operation: string; status: string; seconds: number }): void;
  rateLimitWait(record: { provider: string; seconds: number }): void;
}

export interface ProviderRequest<T> {
  /** Names the call in errors, e.g. `list-tokens`. */
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  /** Statuses that count as success. Default: any 2xx. */
  expect?: number[];
  /** Schema of a success body; without one the body is not kept (204, DELETE). */
  parse?: z.ZodType<T>;
  /** Values (credentials) that must never appear in an error message. The Authorization header is always added. */
  secrets?: string[];
  /**
   * Whether the call may be repeated after a failure that might have reached the provider (a
   * timeout, a reset, a 5xx). Default: true for GET, PUT and DELETE, false for POST — a POST that
   * may have been executed is left to the caller (the rotation protocol looks before creating again).
   * Failures that certainly happened first (429, a refused connection, DNS) are retried regardless.
   */
  idempotent?: boolean;
  /** What a refusal means for this call, by status (`403: 'the token is not write-enabled'`). Default: none. */
  explain?: Partial<Record<number, string>>;
  /** The budget this call spends (e.g. `<provider>:<organization id>`), when a limiter is set. */
  rateKey?: string;
  /**
   * The inventory field that gives this URL's host (`endpoints.tokenUrl (or environment)`), named
   * when the host does not exist. Default: the credential's endpoints.
   */
  hostField?: string;
}

export interface ProviderResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ProviderHttp {
  request<T = undefined>(req: ProviderRequest<T>): Promise<ProviderResponse<T>>;
}

/** A failed attempt, before it becomes an error: `reached` = the provider may have acted on it. */
interface Failure {
  kind: 'auth' | 'request' | 'unavailable';
  detail: string;
  reached: boolean;
  status?: number;
  code?: string;
  retryAfterMs?: number;
}

// Failures of the connection before anything was sent: even a POST may be repeated.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const isJsonType = (type: string) => /[/+]json\b/i.test(type);
const mediaType = (type: string) => type.split(';')[0]?.trim() || 'typeless';
const statusLine = (status: number) => `${status} ${STATUS_CODES[status] ?? ''}`.trim();

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  const text = value?.trim() ?? '';
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  // Date.parse reads bare numbers like "1.5" as dates: an HTTP date always has a weekday or month name.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Replaces every secret in every form a provider may echo it in, then shortens: shortening first
 * could leave a secret's beginning behind.
 */
function scrub(text: string, secrets: readonly string[], max = 160): string {
  let out = scrubSecrets(text, secrets);
  out = out.replace(/[\s\p{Cc}]+/gu, ' ').trim();
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/** The values to scrub: the caller's, and the Authorization header whole and without its scheme. */
function secretsOf(req: ProviderRequest<unknown>): string[] {
  const auth = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  const credential = auth?.replace(/^\S+\s+/, '');
  return [...(req.secrets ?? []), ...(auth ? [auth] : []), ...(credential ? [credential] : [])].filter(Boolean);
}

/**
 * A provider's short reason (`error_description`, `message`, `error`) and code (`error`), never its
 * body. A body over the cap, or not JSON, gives none: the status alone classifies the refusal.
 */
async function reasonOf(response: Response): Promise<{ reason?: string; code?: string }> {
  try {
    const body = JSON.parse(await readCapped(response)) as Record<string, unknown>;
    const reason = [body.error_description, body.message, body.error].find((v): v is string => typeof v === 'string' && v.trim() !== '');
    const code = typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : undefined;
    return { ...(reason ? { reason } : {}), ...(code ? { code } : {}) };
  } catch {
    return {};
  }
}

function networkFailure(error: unknown, timeoutMs: number, request?: { url: string; hostField?: string | undefined }): Failure {
  const err = error as { name?: string; cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return { kind: 'unavailable', detail: `no answer within ${timeoutMs} ms`, reached: true };
  }
  // fetch refuses a 3xx itself (`redirect: 'error'`): the endpoint points elsewhere, and a retry
  // would be pointed there again. Where it points is not said: a Location may carry anything.
  if (err.cause?.message === 'unexpected redirect') {
    return { kind: 'request', detail: 'answered with a redirect, not followed (the request carries credentials): check the endpoint', reached: true };
  }
  const code = err.cause?.code ?? err.cause?.errors?.[0]?.code;
  if (code === 'ENOTFOUND' && request) {
    // The name does not exist (NXDOMAIN): the host the inventory configures or derives is wrong, and
    // a retry asks the same name. EAI_AGAIN (the resolver could not answer) stays transient.
    const host = new URL(request.url).hostname;
    return {
      kind: 'request',
      detail: `the host ${host} does not exist (DNS: ENOTFOUND): check ${request.hostField ?? "the credential's endpoints"} in the inventory`,
      reached: false,
      code,
    };
  }
  // The error itself is dropped on purpose: undici's messages and causes can quote the request.
  return { kind: 'unavailable', detail: code ? `network error (${code})` : 'network error', reached: !(code && NOT_SENT.has(code)) };
}

/** JSON over fetch for the provider clients: timeouts, bounded retries, errors that carry no secret. */
export function createProviderHttp(options: ProviderHttpOptions): ProviderHttp {
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const backoffMs = options.backoffMs ?? 500;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const doFetch = options.fetch ?? fetch;
  const { provider } = options;

  async function refusal<T>(req: ProviderRequest<T>, response: Response, secrets: string[]): Promise<Failure> {
    const { status } = response;
    const said = await reasonOf(response);
    const theirs = said.reason ? scrub(said.reason, secrets) : undefined;
    const ours = req.explain?.[status];
    const why = ours && theirs ? `${ours} (${provider} says: ${theirs})` : (ours ?? theirs);
    const base = { detail: why ? `${statusLine(status)} — ${why}` : statusLine(status), status, ...(said.code ? { code: said.code } : {}) };
    if (status === 401 || status === 403) return { ...base, kind: 'auth', reached: true };
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      // A 429 is a refusal before any work, a 408 a request that never arrived whole (a proxy or a
      // slow network gave up on it); a 5xx may come after the work was done.
      return { ...base, kind: 'unavailable', reached: status >= 500, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    return { ...base, kind: 'request', reached: true };
  }

  async function attempt<T>(req: ProviderRequest<T>, secrets: string[]): Promise<ProviderResponse<T> | Failure> {
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
    // A lock holder's call is aborted at the socket the moment its lease is lost (fence.ts).
    const fence = currentFence();
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      fence?.assertHeld();
      // No redirects: following one would hand the Authorization header to wherever it points.
      const signal = fence ? AbortSignal.any([deadline, fence.signal]) : deadline;
      response = await doFetch(req.url, { method: req.method, headers, body, signal, redirect: 'error' });
    } catch (error) {
      fence?.signal.throwIfAborted();
      return networkFailure(error, timeoutMs, req);
    }
    const { status } = response;
    const ok = req.expect ? req.expect.includes(status) : status >= 200 && status < 300;
    if (!ok) return refusal(req, response, secrets);
    const broken = (detail: string): Failure => ({ kind: 'unavailable', detail: `${status} with ${detail}`, reached: true, status });
    const type = response.headers.get('content-type') ?? '';
    if (req.parse && !isJsonType(type)) {
      // Judged by its type alone: a body that cannot be the API's answer is not read at all.
      await response.body?.cancel().catch(() => undefined);
      return broken(`a ${mediaType(type)} body instead of JSON`);
    }
    let text: string;
    try {
      text = await readCapped(response);
    } catch (error) {
      // Over the cap: not the API's answer (every one the rotator needs is a few kB); never buffered whole.
      if (error instanceof BodyTooLargeError) return broken(error.message);
      fence?.signal.throwIfAborted();
      const lost = networkFailure(error, timeoutMs);
      return { ...lost, detail: `${status} with an answer cut off (${lost.detail})`, status };
    }
    if (!req.parse) {
      // No body is needed, but a 2xx body that is not the API's (an HTML page from a proxy, broken
      // JSON) means something else answered: the call cannot count as done. An expected non-2xx
      // (a DELETE's 404/405) is judged by its status alone.
      const api = text.trim() === '' || (isJsonType(type) && isJson(text));
      if (status < 300 && !api) return broken(`an answer that is not the API's (${mediaType(type)})`);
      return { status, body: undefined as T, headers: response.headers };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return broken('a body that is not valid JSON');
    }
    const result = req.parse.safeParse(parsed);
    if (!result.success) {
      // Paths and issue codes only: zod's messages may quote the values, and values may be secrets.
      const at = result.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'}: ${i.code}`);
      return broken(`an unexpected body (at ${scrub(at.join(', '), secrets, 200)})`);
    }
    return { status, body: result.data, headers: response.headers };
  }

  function toError(operation: string, f: Failure, note = ''): ProviderError {
    const options = { provider, operation, status: f.status, code: f.code };
    if (f.kind === 'auth') return new ProviderAuthError(f.detail + note, options);
    if (f.kind === 'request') return new ProviderRequestError(f.detail + note, options);
    return new ProviderUnavailableError(f.detail + note, { ...options, retryAfterMs: f.retryAfterMs });
  }

  return {
    async request<T>(req: ProviderRequest<T>): Promise<ProviderResponse<T>> {
      const idempotent = req.idempotent ?? req.method !== 'POST';
      const secrets = secretsOf(req);
      for (let n = 1; ; n += 1) {
        if (req.rateKey && options.limiter) {
          const waited = performance.now();
          await options.limiter.acquire(req.rateKey);
          options.observe?.rateLimitWait({ provider, seconds: (performance.now() - waited) / 1000 });
        }
        const started = performance.now();
        const out = await attempt(req, secrets);
        const status = 'kind' in out ? (out.status === undefined ? 'no-answer' : String(out.status)) : String(out.status);
        options.observe?.attempt({ provider, operation: req.operation, status, seconds: (performance.now() - started) / 1000 });
        if (!('kind' in out)) return out;
        const fail = (note?: string) => toError(req.operation, out, note);
        if (out.kind !== 'unavailable') throw fail();
        if (!idempotent && out.reached) throw fail('; not repeated: the provider may have carried it out');
        if (out.retryAfterMs !== undefined && out.retryAfterMs > maxRetryAfterMs) throw fail();
        if (n >= maxAttempts) throw fail(n > 1 ? ` (after ${n} attempts)` : '');
        await untilLeaseLost(sleep(out.retryAfterMs ?? backoffMs * 2 ** (n - 1) * (0.5 + Math.random())));
      }
    },
  };
}

/** A wait between attempts, cut short (with the lease's error) when a lock holder loses its lease. */
async function untilLeaseLost(wait: Promise<void>): Promise<void> {
  const fence = currentFence();
  if (!fence) return wait;
  fence.assertHeld();
  const { signal } = fence;
  await new Promise<void>((resolve, reject) => {
    const lost = () => reject(signal.reason as Error);
    signal.addEventListener('abort', lost, { once: true });
    void wait.then(() => {
      signal.removeEventListener('abort', lost);
      resolve();
    });
  });
  fence.assertHeld();
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
