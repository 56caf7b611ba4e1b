import { FaultInjector } from './faults.ts';
import { credlyTokenRoute } from './credly-oauth.ts';
import {
  applicationJson,
  createCredlyState,
  tokenJson,
  type FakeCredlyApplication,
  type FakeCredlyToken,
} from './credly-state.ts';
import {
  basicAuth,
  bearer,
  json,
  realClock,
  startFakeServer,
  type Clock,
  type FakeRequest,
  type FakeResponse,
  type RecordedRequest,
  type Route,
} from './http.ts';
import { paginate } from './pagination.ts';

export { CREDLY_SCOPES, type FakeCredlyAccessToken, type FakeCredlyApplication, type FakeCredlyToken } from './credly-state.ts';

/** The fake's two hosts: `api` (REST API) and `web` (the OAuth token endpoint). */
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
  /** Whether `DELETE authorization_tokens/{id}` exists ([unconfirmed]); default true. */
  deleteSupported?: boolean;
  /** What DELETE answers when `deleteSupported` is false: 404 (no such route) or 405; default 404. */
  deleteUnsupportedStatus?: 404 | 405;
  /** Accept Basic `base64(token)` without the colon, as a lenient server does; default true. */
  acceptColonlessBasic?: boolean;
  /** Body encodings the token endpoint accepts ([unconfirmed]); default 'both'. */
  tokenBody?: 'form' | 'json' | 'both';
  /** Requested scopes the application lacks: refuse with invalid_scope, or grant the rest; default 'error'. */
  scopeMismatch?: 'error' | 'grant-subset';
  /**
   * The rights of a token made by `POST authorization_tokens` (the pages do not say): `inherit` the
   * caller's read/write/delete flags, `full` (all three whatever the caller has) or `read-only`.
   * Default 'inherit'.
   */
  createdTokenRights?: 'inherit' | 'full' | 'read-only';
  /** Lifetime of a new authorization token in days; default 180. */
  tokenLifetimeDays?: number;
  /**
   * A per-organization rate limit on the API host (a token bucket: `burst` calls at once, refilled at
   * `perSecond`, on real time). A call over it answers 429 with `Retry-After` and is counted in
   * `throttled`. Default: none.
   */
  rateLimit?: { perSecond: number; burst?: number };
}

type Caller = { kind: 'token'; token: FakeCredlyToken } | { kind: 'app'; app: FakeCredlyApplication; scopes: string[] };
type Resource = 'organization' | 'authorization_tokens' | 'oauth_applications';
type Need = 'read' | 'write' | 'delete';

const message = (status: number, text: string, headers: Record<string, string> = {}) => json(status, { message: text }, headers);
const isResponse = (x: Caller | FakeResponse): x is FakeResponse => 'status' in x;

/**
 * A stateful Credly over real HTTP: organizations, authorization tokens, OAuth applications on the API
 * host (`apiBase`, `…/v1`) and the client_credentials token endpoint on the web host (`tokenUrl`).
 */
export async function startCredlyFake(options: CredlyFakeOptions = {}) {
  const opts = {
    createStatus: 201,
    rotateKeepsId: false,
    deleteSupported: true,
    deleteUnsupportedStatus: 404,
    acceptColonlessBasic: true,
    tokenBody: 'both',
    scopeMismatch: 'error',
    tokenLifetimeDays: 180,
    createdTokenRights: 'inherit',
    ...options,
  } satisfies CredlyFakeOptions;
  const now = options.now ?? realClock;
  const state = createCredlyState(now, opts.tokenLifetimeDays);
  const faults = new FaultInjector<CredlyServer>({ latencyMs: options.latencyMs ?? 0 });
  const requests: Array<RecordedRequest<CredlyServer>> = [];
  let apiBase = '';
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

  function identify(req: FakeRequest): Caller | undefined {
    const basic = basicAuth(req);
    if (basic) {
      // The token is the user name and the password is empty; some clients leave out the colon.
      const shapeOk = basic.password === '' || (basic.password === undefined && opts.acceptColonlessBasic);
      const token = shapeOk ? state.tokenByValue(basic.user) : undefined;
      return token && state.isTokenLive(token) ? { kind: 'token', token } : undefined;
    }
    const value = bearer(req);
    const live = value ? state.liveAccess(value) : undefined;
    return live ? { kind: 'app', app: live.app, scopes: live.access.scopes } : undefined;
  }

  /** Tokens act by their write/read/delete flags; OAuth callers by the scope named like the resource. */
  function authorize(req: FakeRequest, org: string, resource: Resource, need: Need): Caller | FakeResponse {
    const who = identify(req);
    if (!who) return message(401, 'Unauthorized: the credential is unknown, expired or revoked');
    if (!state.organization(org)) return message(404, 'Organization not found');
    if ((who.kind === 'token' ? who.token.organizationId : who.app.organizationId) !== org) {
      return message(403, 'Forbidden: the credential belongs to another organization');
    }
    if (resource === 'organization') return who;
    if (who.kind === 'app') return who.scopes.includes(resource) ? who : message(403, `Forbidden: the access token lacks the ${resource} scope`);
    const allowed = { read: who.token.readEnabled, write: who.token.writeEnabled, delete: who.token.deleteEnabled }[need];
    return allowed ? who : message(403, `Forbidden: the authorization token is not ${need}-enabled`);
  }

  /** Runs `then` for an authorized caller with a usable JSON body; answers the refusal otherwise. */
  function guarded(resource: Resource, need: Need, then: (req: FakeRequest, org: string, who: Caller, m: RegExpMatchArray) => FakeResponse) {
    return (req: FakeRequest, m: RegExpMatchArray): FakeResponse => {
      const org = decodeURIComponent(m[1]!);
      const limited = overLimit(org);
      if (limited) return limited;
      const who = authorize(req, org, resource, need);
      if (isResponse(who)) return who;
      if (req.badJson) return message(400, 'Bad Request: the body is not valid JSON');
      return then(req, org, who, m);
    };
  }

  const text = (req: FakeRequest, key: string): string | undefined => {
    const value = (req.body as Record<string, unknown> | undefined)?.[key];
    return typeof value === 'string' ? value : undefined;
  };
  const flagsOf = (who: Caller) =>
    who.kind === 'token' ? { writeEnabled: who.token.writeEnabled, readEnabled: who.token.readEnabled, deleteEnabled: who.token.deleteEnabled } : {};
  const page = <T>(items: T[], req: FakeRequest) => json(200, paginate(items, req.query, `${apiBase}${req.path.slice('/v1'.length)}`));

  const ORG = '^/v1/organizations/([^/]+)';
  const TOKENS = `${ORG}/authorization_tokens`;
  const APPS = `${ORG}/oauth_applications`;
  const apiRoutes: Array<Route<CredlyServer>> = [
    { method: 'GET', pattern: new RegExp(`${ORG}$`), handler: guarded('organization', 'read', (_req, org) => json(200, { data: state.organization(org) })) },
    { method: 'GET', pattern: new RegExp(`${TOKENS}$`), handler: guarded('authorization_tokens', 'read', (req, org, who) => {
      // A read-only caller sees only read-only tokens, so it cannot lift itself to a write token.
      const seesAll = who.kind === 'app' || who.token.writeEnabled || who.token.deleteEnabled;
      const visible = state.tokens(org).filter((t) => !t.revoked && (seesAll || (!t.writeEnabled && !t.deleteEnabled)));
      return page(visible.map((t) => tokenJson(t, apiBase)), req);
    }) },
    { method: 'POST', pattern: new RegExp(`${TOKENS}/rotate$`), handler: guarded('authorization_tokens', 'write', (req, org, who) => {
      if (who.kind !== 'token') return message(422, 'Unprocessable Entity: rotate replaces the calling authorization token');
      const old = who.token;
      // The calling token dies the instant the new one exists: the caller must store the answer or lose both.
      old.revoked = true;
      const fresh = state.addToken(org, {
        ...flagsOf(who),
        description: text(req, 'description') ?? old.description,
        ...(opts.rotateKeepsId ? { id: old.id } : {}),
      });
      return json(200, { data: tokenJson(fresh, apiBase), metadata: {} });
    }) },
    { method: 'POST', pattern: new RegExp(`${TOKENS}$`), handler: guarded('authorization_tokens', 'write', (req, org, who) => {
      const rights = {
        inherit: flagsOf(who),
        full: { readEnabled: true, writeEnabled: true, deleteEnabled: true },
        'read-only': { readEnabled: true, writeEnabled: false, deleteEnabled: false },
      }[opts.createdTokenRights];
      const fresh = state.addToken(org, { ...rights, description: text(req, 'description') ?? null });
      return json(opts.createStatus, { data: tokenJson(fresh, apiBase), metadata: {} });
    }) },
    { method: 'DELETE', pattern: new RegExp(`${TOKENS}/([^/]+)$`), handler: (req, m) => {
      if (!opts.deleteSupported) return message(opts.deleteUnsupportedStatus, opts.deleteUnsupportedStatus === 404 ? 'Not Found' : 'Method Not Allowed');
      return guarded('authorization_tokens', 'delete', (_req, org, _who, match) => {
        const target = state.findToken(decodeURIComponent(match[2]!));
        if (!target || target.organizationId !== org || target.revoked) return message(404, 'Authorization token not found');
        target.revoked = true;
        return { status: 204 };
      })(req, m);
    } },
    { method: 'GET', pattern: new RegExp(`${APPS}$`), handler: guarded('oauth_applications', 'read', (req, org) =>
      page(state.applications(org).map((a) => applicationJson(a)), req)) },
    { method: 'POST', pattern: new RegExp(`${APPS}$`), handler: guarded('oauth_applications', 'write', (req, org) => {
      const name = text(req, 'name')?.trim();
      if (!name) return json(422, { message: 'Validation failed: Name can\'t be blank' });
      const app = state.createApplication(org, { name, description: text(req, 'description') ?? null });
      return json(201, { data: applicationJson(app, true), metadata: {} });
    }) },
    { method: 'GET', pattern: new RegExp(`${APPS}/(\\d+)$`), handler: guarded('oauth_applications', 'read', (_req, org, _who, m) => {
      const app = state.findApplication(org, Number(m[2]));
      return app ? json(200, { data: applicationJson(app) }) : message(404, 'OAuth application not found');
    }) },
    { method: 'PUT', pattern: new RegExp(`${APPS}/(\\d+)$`), handler: guarded('oauth_applications', 'write', (req, org, _who, m) => {
      const app = state.findApplication(org, Number(m[2]));
      if (!app) return message(404, 'OAuth application not found');
      const name = text(req, 'name');
      const description = text(req, 'description');
      if (name !== undefined) app.name = name;
      if (description !== undefined) app.description = description;
      app.updatedAt = now();
      return json(200, { data: applicationJson(app) });
    }) },
    { method: 'DELETE', pattern: new RegExp(`${APPS}/(\\d+)$`), handler: guarded('oauth_applications', 'delete', (_req, org, _who, m) => {
      const app = state.findApplication(org, Number(m[2]));
      if (!app) return message(404, 'OAuth application not found');
      state.deleteApplication(app);
      return { status: 204 };
    }) },
  ];

  const common = { faults, log: requests, now };
  const api = await startFakeServer({ ...common, name: 'api', routes: apiRoutes });
  const web = await startFakeServer({ ...common, name: 'web', routes: [credlyTokenRoute(state, opts)] });
  apiBase = `${api.origin}/v1`;

  return {
    /** `http://127.0.0.1:<port>/v1` */
    apiBase,
    /** `http://127.0.0.1:<port>/oauth/token` on the web host. */
    tokenUrl: `${web.origin}/oauth/token`,
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
