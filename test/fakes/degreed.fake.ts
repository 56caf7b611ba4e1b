import { FaultInjector } from './faults.ts';
import {
  bearer,
  isForm,
  isJson,
  json,
  realClock,
  secretValue,
  startFakeServer,
  type Clock,
  type FakeRequest,
  type FakeResponse,
  type RecordedRequest,
  type Route,
} from './http.ts';

/** The fake's two hosts: `token` (OAuth token and logout) and `api` (the v2 REST API). */
export type DegreedServer = 'token' | 'api';

export interface DegreedFakeOptions {
  /** The fake's clock (token expiry, rate-limit windows); default real time. */
  now?: Clock;
  /** Delay before every request, on both hosts; default 0. */
  latencyMs?: number;
  /** Access token lifetime in seconds; default 300 (the guide's default; its example shows 5183999). */
  tokenLifetimeSeconds?: number;
  /** Requests per minute per API client before 429; default 70. */
  rateLimitPerMinute?: number;
  /** Logout path on the token host (the page's URL is lost); default `/oauth/logout`; null for a Degreed without one. */
  logoutPath?: string | null;
  /**
   * The logout's method. `GET`: the page's example (vendor page 000, lines 75–81: a curl with no method
   * and no body, so a GET, with `Content-Type: application/json` and the bearer token) — the fake
   * requires both headers and expires the access token. `POST`: a JSON body, whose `refresh_token`
   * (when given) is expired too. The other method has no route (404). Default 'GET', as the page.
   */
  logoutMethod?: 'GET' | 'POST';
  /** Whether a logout expires the access token (default true); false answers 200 and leaves it live. */
  logoutExpires?: boolean;
  /**
   * The status of the `invalid_client` and `invalid_scope` refusals: 403 (what Degreed answers,
   * default) or 400 (RFC 6749 §5.2's error response).
   */
  refusalStatus?: 403 | 400;
}

export interface FakeDegreedClient {
  clientId: string;
  clientSecret: string;
  scopes: string[];
  revoked: boolean;
}

export interface FakeDegreedAccessToken {
  value: string;
  refreshToken: string;
  refreshRevoked: boolean;
  clientId: string;
  scopes: string[];
  expiresAt: Date;
}

const DEFAULT_SCOPES = ['users:read', 'content:read'];
const WINDOW_MS = 60_000;
// Enough records for a `limit=1` read to have a next page.
const RECORDS = {
  users: [1, 2, 3].map((n) => ({ id: `user-${n}`, attributes: { 'employee-id': `E${1000 + n}`, 'first-name': 'Ada', 'last-name': `Tester ${n}` } })),
  content: [1, 2, 3].map((n) => ({ id: `content-${n}`, attributes: { title: `Course ${n}`, 'content-type': 'Course' } })),
};

/**
 * A stateful Degreed over real HTTP: the form-encoded token endpoint with comma-separated scopes,
 * logout, cheap reads of users and content, and the per-client rate limit with its headers.
 */
export async function startDegreedFake(options: DegreedFakeOptions = {}) {
  const now = options.now ?? realClock;
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? 300;
  const limit = options.rateLimitPerMinute ?? 70;
  const logoutPath = options.logoutPath === undefined ? '/oauth/logout' : options.logoutPath;
  const logoutMethod = options.logoutMethod ?? 'GET';
  const logoutExpires = options.logoutExpires ?? true;
  const refusalStatus = options.refusalStatus ?? 403;
  const clients = new Map<string, FakeDegreedClient>();
  const tokens = new Map<string, FakeDegreedAccessToken>();
  const windows = new Map<string, { start: number; count: number }>();
  const faults = new FaultInjector<DegreedServer>({ latencyMs: options.latencyMs ?? 0 });
  const requests: Array<RecordedRequest<DegreedServer>> = [];

  const liveAccess = (value: string | undefined) => {
    const access = value === undefined ? undefined : tokens.get(value);
    if (!access || access.expiresAt.getTime() <= now().getTime()) return undefined;
    return clients.get(access.clientId)?.revoked === false ? access : undefined;
  };

  /** Counts the request against the client's minute; every answer carries X-Rate-Limit-*, a 429 also Retry-After. */
  function metered(clientId: string, answer: () => FakeResponse): FakeResponse {
    const t = now().getTime();
    let window = windows.get(clientId);
    if (!window || t - window.start >= WINDOW_MS) windows.set(clientId, (window = { start: t, count: 0 }));
    window.count += 1;
    const reset = new Date(window.start + WINDOW_MS);
    const headers = {
      'x-rate-limit-limit': String(limit),
      'x-rate-limit-remaining': String(Math.max(0, limit - window.count)),
      'x-rate-limit-reset': reset.toISOString(),
    };
    if (window.count > limit) {
      const retryAfter = String(Math.max(1, Math.ceil((reset.getTime() - t) / 1000)));
      return json(429, { error: 'too_many_requests', message: 'Rate limit exceeded' }, { ...headers, 'retry-after': retryAfter });
    }
    const response = answer();
    return { ...response, headers: { ...headers, ...response.headers } };
  }

  function read(req: FakeRequest, resource: keyof typeof RECORDS, origin: string): FakeResponse {
    const access = liveAccess(bearer(req));
    if (!access) return json(401, { error: 'invalid_token', message: 'The access token is invalid or has expired' });
    return metered(access.clientId, () => {
      if (!access.scopes.includes(`${resource}:read`)) return json(403, { error: 'insufficient_scope', message: `Requires the ${resource}:read scope` });
      const size = Math.max(1, Math.min(1000, Math.trunc(Number(req.query.limit ?? 100)) || 100));
      const offset = Math.max(0, Math.trunc(Number(req.query.next ?? 0)) || 0);
      const all = RECORDS[resource];
      const data = all.slice(offset, offset + size).map((r) => ({
        id: r.id,
        type: resource,
        attributes: r.attributes,
        links: { self: `${origin}/api/v2/${resource}/${r.id}` },
        relationships: {},
      }));
      const next = offset + size < all.length ? `${origin}/api/v2/${resource}?limit=${size}&next=${offset + size}` : null;
      return json(200, { data, links: { self: `${origin}${req.path}?limit=${size}`, next } });
    });
  }

  function grant(req: FakeRequest): FakeResponse {
    if (!isForm(req)) return json(400, { error: 'invalid_request', error_description: 'The body must be application/x-www-form-urlencoded' });
    const f = req.fields;
    if (f.grant_type !== 'client_credentials') return json(400, { error: 'unsupported_grant_type', error_description: 'Use client_credentials' });
    const client = f.client_id === undefined ? undefined : clients.get(f.client_id);
    // Degreed answers 403, not 401, for a wrong client id or secret.
    if (!client || client.revoked || client.clientSecret !== f.client_secret) {
      return json(refusalStatus, { error: 'invalid_client', error_description: 'The client credentials are invalid' });
    }
    return metered(client.clientId, () => {
      const requested = (f.scope ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const missing = requested.filter((s) => !client.scopes.includes(s));
      if (missing.length > 0) return json(refusalStatus, { error: 'invalid_scope', error_description: `The key does not hold: ${missing.join(',')}` });
      const access: FakeDegreedAccessToken = {
        value: secretValue('degreedaccess_'),
        refreshToken: secretValue('degreedrefresh_'),
        refreshRevoked: false,
        clientId: client.clientId,
        scopes: requested.length > 0 ? requested : [...client.scopes],
        expiresAt: new Date(now().getTime() + lifetimeSeconds * 1000),
      };
      tokens.set(access.value, access);
      return json(200, { access_token: access.value, token_type: 'bearer', expires_in: lifetimeSeconds, refresh_token: access.refreshToken });
    });
  }

  function logout(req: FakeRequest): FakeResponse {
    const access = liveAccess(bearer(req));
    if (!access) return json(401, { error: 'invalid_token', message: 'The access token is invalid or has expired' });
    // The page's example sends `Content-Type: application/json` even without a body.
    if (!isJson(req) || req.badJson) return json(415, { error: 'unsupported_media_type', message: 'Send application/json' });
    const refresh = logoutMethod === 'POST' ? (req.body as { refresh_token?: unknown } | undefined)?.refresh_token : undefined;
    if (!logoutExpires) return json(200, { success: true });
    access.expiresAt = now();
    for (const t of tokens.values()) if (t.refreshToken === refresh && t.clientId === access.clientId) t.refreshRevoked = true;
    return json(200, { success: true });
  }

  const tokenRoutes: Array<Route<DegreedServer>> = [{ method: 'POST', pattern: /^\/oauth\/token$/, handler: grant }];
  if (logoutPath !== null) tokenRoutes.push({ method: logoutMethod, pattern: new RegExp(`^${escapeRegExp(logoutPath)}$`), handler: logout });

  const common = { faults, log: requests, now };
  const tokenHost = await startFakeServer({ ...common, name: 'token', routes: tokenRoutes });
  let apiOrigin = '';
  const apiHost = await startFakeServer({
    ...common,
    name: 'api',
    routes: [
      { method: 'GET', pattern: /^\/api\/v2\/users$/, handler: (req) => read(req, 'users', apiOrigin) },
      { method: 'GET', pattern: /^\/api\/v2\/content$/, handler: (req) => read(req, 'content', apiOrigin) },
    ],
  });
  apiOrigin = apiHost.origin;

  const state = {
    /** A new API client with distinctive random credentials; default scopes users:read and content:read. */
    addClient(init: { scopes?: string[]; clientId?: string } = {}): { clientId: string; clientSecret: string } {
      const client: FakeDegreedClient = {
        clientId: init.clientId ?? secretValue('dgclient_', 8),
        clientSecret: secretValue('dgsecret_'),
        scopes: [...(init.scopes ?? DEFAULT_SCOPES)],
        revoked: false,
      };
      clients.set(client.clientId, client);
      return { clientId: client.clientId, clientSecret: client.clientSecret };
    },
    clients: () => [...clients.values()],
    /** The admin deletes the key: its credentials and every token it got stop working. */
    revokeClient(clientId: string): void {
      requireClient(clientId).revoked = true;
    },
    /** The admin regenerates the secret: the old one stops working, issued tokens live on. */
    rotateClientSecret(clientId: string): string {
      const client = requireClient(clientId);
      client.clientSecret = secretValue('dgsecret_');
      return client.clientSecret;
    },
    isAccessTokenLive: (value: string) => liveAccess(value) !== undefined,
    isRefreshTokenLive: (value: string) =>
      [...tokens.values()].some((t) => t.refreshToken === value && !t.refreshRevoked && clients.get(t.clientId)?.revoked === false),
    liveAccessTokens: () => [...tokens.values()].filter((t) => liveAccess(t.value) !== undefined),
    issuedAccessTokens: () => [...tokens.values()],
  };

  function requireClient(clientId: string): FakeDegreedClient {
    const client = clients.get(clientId);
    if (!client) throw new Error(`degreed fake: no client ${clientId}`);
    return client;
  }

  return {
    /** `http://127.0.0.1:<port>/oauth/token` on the token host. */
    tokenUrl: `${tokenHost.origin}/oauth/token`,
    /** The logout URL on the token host, or undefined when `logoutPath` is null. */
    logoutUrl: logoutPath === null ? undefined : `${tokenHost.origin}${logoutPath}`,
    logoutPath,
    logoutMethod,
    /** `http://127.0.0.1:<port>/api/v2` on the API host. */
    apiBase: `${apiHost.origin}/api/v2`,
    state,
    faults,
    requests,
    /** Forgets every client, token, rate-limit window, request and fault; the options stay. */
    reset(): void {
      clients.clear();
      tokens.clear();
      windows.clear();
      requests.length = 0;
      faults.clear();
    },
    async close(): Promise<void> {
      await Promise.all([tokenHost.close(), apiHost.close()]);
    },
  };
}

export type DegreedFake = Awaited<ReturnType<typeof startDegreedFake>>;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
