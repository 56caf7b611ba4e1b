import { FaultInjector } from './faults.ts';
import { credlyTokenRoute } from './credly-oauth.ts';
import { credlyApiRoutes, message } from './credly-routes.ts';
import { createCredlyState } from './credly-state.ts';
import { realClock, startFakeServer, type Clock, type FakeResponse, type RecordedRequest } from './http.ts';

export { CREDLY_SCOPES, type FakeCredlyAccessToken, type FakeCredlyApplication, type FakeCredlyToken } from './credly-state.ts';

/**
 * The fake's two hosts: `api` (REST API, `…/v1`) and `web` (the OAuth token endpoint and, as on
 * www.credly.com, the API again under `/api/v1`: where the pages' own links point).
 */
export type CredlyServer = 'api' | 'web';

export interface CredlyFakeOptions {
  /** The fake's clock (token and access-token expiry); default real time. */
  now?: Clock;
  /** Delay before every request, on both hosts; default 0. */
  latencyMs?: number;
  /** Status of a successful `POST authorization_tokens` ([unconfirmed] 200 or 201); default 201. */
  createStatus?: 200 | 201;
  /** Whether `rotate` gives the new token the old token's id ([unconfirmed]); default false. */
  rotateKeepsId?: boolean;
  /**
   * Whether `DELETE authorization_tokens/{id}` exists (no vendor page documents it); default true.
   * False: no such route, so the server's unknown-route 404 answers (as it would for a token already
   * gone) and the token stays valid.
   */
  deleteSupported?: boolean;
  /** What DELETE answers when `deleteSupported` is false: 404 (no such route) or 405; default 404. */
  deleteUnsupportedStatus?: 404 | 405;
  /**
   * Whether `DELETE oauth_applications/{id}` exists; default true, as documented (vendor page 002,
   * lines 135–139: 204). False (unknown route, 404) exists only to prove the product confirms an
   * application's deletion by listing again rather than trusting the answer.
   */
  applicationDeleteSupported?: boolean;
  /** Whether `GET /organizations/{id}` exists (no vendor page documents it); default true. False: unknown route, 404. */
  organizationEndpoint?: boolean;
  /**
   * Where `metadata.next_page_url` / `previous_page_url` (and the owner urls) point: `api` (the API
   * base) or `web` (the web host's `/api/v1/…`, as the pages' own links sit on
   * `https://www.credly.com/api/v1/…`). The web host answers those paths like the API does, so a client
   * that follows them would work — and leak its credential there: `webApiRequests()` records every
   * such request and must stay empty. Default 'api'.
   */
  pageLinks?: 'api' | 'web';
  /** Largest `per` a listing honours (the pages show `per: 50`; a smaller cap forces paging in tests); default 100. */
  maxPer?: number;
  /**
   * The rights of a token made by `POST authorization_tokens` (the pages do not say): `inherit` the
   * caller's read/write/delete flags, `full` (all three whatever the caller has) or `read-only`.
   * Default 'inherit'.
   */
  createdTokenRights?: 'inherit' | 'full' | 'read-only';
  /** Accept Basic `base64(token)` without the colon, as a lenient server does; default true. */
  acceptColonlessBasic?: boolean;
  /** Body encodings the OAuth token endpoint accepts (the pages do not say): form-only, JSON-only or both; default 'both'. */
  tokenBody?: 'form' | 'json' | 'both';
  /** Requested scopes the application lacks: refuse with invalid_scope, or grant the rest; default 'error'. */
  scopeMismatch?: 'error' | 'grant-subset';
  /** Lifetime of a new authorization token in days; default 180. */
  tokenLifetimeDays?: number;
  /**
   * A per-organization rate limit on the API host (a token bucket: `burst` calls at once, refilled at
   * `perSecond`, on real time). A call over it answers 429 with `Retry-After` and is counted in
   * `throttled`. Default: none.
   */
  rateLimit?: { perSecond: number; burst?: number };
}

/**
 * A stateful Credly over real HTTP: organizations, authorization tokens, OAuth applications on the API
 * host (`apiBase`, `…/v1`) and the client_credentials token endpoint on the web host (`tokenUrl`).
 * Every behaviour the vendor pages leave open is a switch (test/fakes/README.md lists them).
 */
export async function startCredlyFake(options: CredlyFakeOptions = {}) {
  const opts = {
    createStatus: 201,
    rotateKeepsId: false,
    deleteSupported: true,
    deleteUnsupportedStatus: 404,
    applicationDeleteSupported: true,
    organizationEndpoint: true,
    pageLinks: 'api',
    maxPer: 100,
    createdTokenRights: 'inherit',
    acceptColonlessBasic: true,
    tokenBody: 'both',
    scopeMismatch: 'error',
    tokenLifetimeDays: 180,
    ...options,
  } satisfies CredlyFakeOptions;
  const now = options.now ?? realClock;
  const state = createCredlyState(now, opts.tokenLifetimeDays);
  const faults = new FaultInjector<CredlyServer>({ latencyMs: options.latencyMs ?? 0 });
  const requests: Array<RecordedRequest<CredlyServer>> = [];
  let apiBase = '';
  let webApiBase = '';
  /** 429s answered for the rate limit, per organization. */
  const throttled = new Map<string, number>();
  const buckets = new Map<string, { tokens: number; at: number }>();

  /** Spends one call of the organization's budget; the refusal when there is none left. */
  function overLimit(org: string): FakeResponse | undefined {
    const limit = options.rateLimit;
    if (!limit) return undefined;
    const burst = limit.burst ?? Math.max(1, Math.floor(limit.perSecond));
    const at = performance.now();
    const bucket = buckets.get(org) ?? { tokens: burst, at };
    bucket.tokens = Math.min(burst, bucket.tokens + ((at - bucket.at) / 1000) * limit.perSecond);
    bucket.at = at;
    buckets.set(org, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    throttled.set(org, (throttled.get(org) ?? 0) + 1);
    const retryAfter = Math.ceil((1 - bucket.tokens) / limit.perSecond);
    return message(429, 'Too Many Requests: the organization is over its rate limit', { 'retry-after': String(retryAfter) });
  }

  const ctx = { state, opts, now, overLimit, linkBase: () => (opts.pageLinks === 'web' ? webApiBase : apiBase) };
  const common = { faults, log: requests, now };
  const api = await startFakeServer({ ...common, name: 'api', routes: credlyApiRoutes('/v1', ctx) });
  const web = await startFakeServer({ ...common, name: 'web', routes: [credlyTokenRoute(state, opts), ...credlyApiRoutes('/api/v1', ctx)] });
  apiBase = `${api.origin}/v1`;
  webApiBase = `${web.origin}/api/v1`;

  return {
    /** `http://127.0.0.1:<port>/v1` */
    apiBase,
    /** `http://127.0.0.1:<port>/oauth/token` on the web host. */
    tokenUrl: `${web.origin}/oauth/token`,
    /** The web host's copy of the API, `http://127.0.0.1:<port>/api/v1`: where `pageLinks: 'web'` points. */
    webApiBase,
    /** Requests that reached the web host's `/api/…` (a client following a web-host page link): must stay empty. */
    webApiRequests: () => requests.filter((r) => r.server === 'web' && r.path.startsWith('/api/')),
    options: opts,
    state,
    faults,
    requests,
    /** 429s answered for the rate limit (`rateLimit`), per organization. */
    throttled,
    /** Forgets every record, request and fault; the options stay. */
    reset(): void {
      state.reset();
      requests.length = 0;
      faults.clear();
      throttled.clear();
      buckets.clear();
    },
    async close(): Promise<void> {
      await Promise.all([api.close(), web.close()]);
    },
  };
}

export type CredlyFake = Awaited<ReturnType<typeof startCredlyFake>>;
