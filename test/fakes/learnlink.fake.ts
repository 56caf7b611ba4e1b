import { randomBytes } from 'node:crypto';
import { FaultInjector } from './faults.ts';
import {
  basicAuth,
  bearer,
  isForm,
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

/** The fake's two hosts, as Learn.link's token families: `public` (API tokens and the REST API) and `user` (webhooks). */
export type LearnlinkServer = 'public' | 'user';

export interface LearnlinkFakeOptions {
  /** The fake's clock (access-token expiry); default real time. */
  now?: Clock;
  /** Delay before every request, on both hosts; default 0. */
  latencyMs?: number;
  /** Give each tenant a client id of its own instead of the tenant id ([unconfirmed]); default false. */
  separateClientId?: boolean;
  /** Access token lifetime in seconds; default 3600. */
  tokenLifetimeSeconds?: number;
  /**
   * The status of a scope refusal at the token endpoint (a scope the tenant or the family does not
   * allow): 400, the only client error the page documents besides 401 (vendor page 003, lines
   * 115–135), or 403. Both carry `{ status, error, message }`. Default 400, as the page.
   */
  scopeRefusal?: 400 | 403;
}

export interface FakeLearnlinkTenant {
  tenantId: string;
  /** The tenant id itself unless `separateClientId`. */
  clientId: string;
  clientSecret: string;
  /** Scopes the tenant's client may ask for, across both families. */
  scopes: string[];
}

export interface FakeLearnlinkAccessToken {
  value: string;
  tenantId: string;
  family: LearnlinkServer;
  scopes: string[];
  expiresAt: Date;
}

/** Scopes each family's token endpoint grants. */
export const LEARNLINK_FAMILY_SCOPES: Record<LearnlinkServer, readonly string[]> = {
  public: ['api/all', 'api/read', 'api/write'],
  user: ['api/webhooks', 'api/all'],
};
const READ_SCOPES = ['api/all', 'api/read'];
const USERS = [1, 2, 3].map((n) => ({ id: `user-${n}`, firstName: 'Ada', lastName: `Tester ${n}`, email: `ada.${n}@example.test` }));

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const error = (status: number, name: string, message: string): FakeResponse => json(status, { status, error: name, message });

/** Like an AWS Cognito user-pool id, as Learn.link tenant ids are: `eu-west-2_` and nine letters or digits. */
function tenantIdLike(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `eu-west-2_${[...randomBytes(9)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/**
 * A stateful Learn.link (Thrive) over real HTTP: a per-tenant client_credentials endpoint on each
 * family's host (`/oauth2/token/{tenantId}`) and a users read on the public host's REST API.
 */
export async function startLearnlinkFake(options: LearnlinkFakeOptions = {}) {
  const now = options.now ?? realClock;
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
  const tenants = new Map<string, FakeLearnlinkTenant>();
  const tokens = new Map<string, FakeLearnlinkAccessToken>();
  const faults = new FaultInjector<LearnlinkServer>({ latencyMs: options.latencyMs ?? 0 });
  const requests: Array<RecordedRequest<LearnlinkServer>> = [];

  const scopeRefused = (text: string) => ((options.scopeRefusal ?? 400) === 400 ? error(400, 'Bad Request', text) : error(403, 'Forbidden', text));
  const liveAccess = (value: string | undefined) => {
    const access = value === undefined ? undefined : tokens.get(value);
    return access && access.expiresAt.getTime() > now().getTime() && tenants.has(access.tenantId) ? access : undefined;
  };

  function grant(family: LearnlinkServer, req: FakeRequest<LearnlinkServer>, tenantId: string): FakeResponse {
    const tenant = tenants.get(tenantId);
    if (!tenant) return error(404, 'Not Found', 'Unknown tenant');
    if (req.raw !== '' && !isForm(req)) return error(400, 'Bad Request', 'The body must be application/x-www-form-urlencoded');
    if (req.fields.grant_type !== 'client_credentials') return error(400, 'Bad Request', 'grant_type must be client_credentials');
    // HTTP Basic `clientId:secret` wins over body fields, as at an OAuth server that takes both.
    const basic = basicAuth(req);
    const clientId = basic ? basic.user : req.fields.client_id;
    const clientSecret = basic ? basic.password : req.fields.client_secret;
    if (clientId !== tenant.clientId || clientSecret !== tenant.clientSecret) return error(401, 'Unauthorized', 'Invalid client credentials');

    const familyScopes = LEARNLINK_FAMILY_SCOPES[family];
    const requested = (req.fields.scope ?? '').split(' ').filter(Boolean);
    const granted = requested.length > 0 ? requested : tenant.scopes.filter((s) => familyScopes.includes(s));
    const refused = granted.filter((s) => !familyScopes.includes(s) || !tenant.scopes.includes(s));
    if (refused.length > 0) return scopeRefused(`Scope not allowed here: ${refused.join(' ')}`);
    if (granted.length === 0) return scopeRefused(`The client holds no scope of the ${family} family`);

    const iat = Math.floor(now().getTime() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', kid: 'fake-key-1' };
    const claims = {
      iss: `${req.origin}/${tenant.tenantId}`,
      sub: tenant.clientId,
      client_id: tenant.clientId,
      token_use: 'access',
      scope: granted.join(' '),
      iat,
      exp: iat + lifetimeSeconds,
      jti: randomBytes(16).toString('hex'),
    };
    // JWT-shaped only: the signature is random bytes, nobody is meant to verify it.
    const value = `${b64url(header)}.${b64url(claims)}.${randomBytes(64).toString('base64url')}`;
    tokens.set(value, { value, tenantId: tenant.tenantId, family, scopes: granted, expiresAt: new Date((iat + lifetimeSeconds) * 1000) });
    return json(200, { access_token: value, token_type: 'Bearer', expires_in: lifetimeSeconds, scope: granted.join(' ') });
  }

  const tokenRoute = (family: LearnlinkServer): Route<LearnlinkServer> => ({
    method: 'POST',
    pattern: /^\/oauth2\/token\/([^/]+)$/,
    handler: (req, m) => grant(family, req, decodeURIComponent(m[1]!)),
  });

  const usersRoute: Route<LearnlinkServer> = {
    method: 'GET',
    pattern: /^\/rest\/v1\/users$/,
    handler: (req) => {
      // A webhook (user family) token is for the webhook audience, not the REST API.
      const access = liveAccess(bearer(req));
      if (!access || access.family !== 'public') return error(401, 'Unauthorized', 'The access token is invalid or has expired');
      if (!access.scopes.some((s) => READ_SCOPES.includes(s))) return error(403, 'Forbidden', 'Requires api/read or api/all');
      const perPage = Math.max(1, Math.min(100, Math.trunc(Number(req.query.perPage ?? 20)) || 20));
      const page = Math.max(1, Math.trunc(Number(req.query.page ?? 1)) || 1);
      const results = USERS.slice((page - 1) * perPage, page * perPage);
      return json(200, { results, totalResults: USERS.length, totalPages: Math.ceil(USERS.length / perPage), page, perPage });
    },
  };

  const common = { faults, log: requests, now };
  const publicHost = await startFakeServer({ ...common, name: 'public', routes: [tokenRoute('public'), usersRoute] });
  const userHost = await startFakeServer({ ...common, name: 'user', routes: [tokenRoute('user')] });

  const state = {
    /** A new tenant with a distinctive random secret; default scopes: all of both families. */
    addTenant(init: { scopes?: string[]; tenantId?: string } = {}): { tenantId: string; clientId: string; clientSecret: string } {
      const tenantId = init.tenantId ?? tenantIdLike();
      const tenant: FakeLearnlinkTenant = {
        tenantId,
        clientId: options.separateClientId ? secretValue('llclient_', 10) : tenantId,
        clientSecret: secretValue('llsecret_'),
        scopes: [...(init.scopes ?? ['api/all', 'api/read', 'api/write', 'api/webhooks'])],
      };
      tenants.set(tenantId, tenant);
      return { tenantId, clientId: tenant.clientId, clientSecret: tenant.clientSecret };
    },
    tenants: () => [...tenants.values()],
    /** The vendor issues a new secret: the old one stops working at once, issued tokens live on. */
    rotateTenantSecret(tenantId: string): string {
      const tenant = tenants.get(tenantId);
      if (!tenant) throw new Error(`learnlink fake: no tenant ${tenantId}`);
      tenant.clientSecret = secretValue('llsecret_');
      return tenant.clientSecret;
    },
    isAccessTokenLive: (value: string) => liveAccess(value) !== undefined,
    liveAccessTokens: () => [...tokens.values()].filter((t) => liveAccess(t.value) !== undefined),
    issuedAccessTokens: () => [...tokens.values()],
  };

  return {
    /** `http://127.0.0.1:<port>`: the public family's host (API tokens and the REST API). */
    publicBase: publicHost.origin,
    /** `http://127.0.0.1:<port>`: the user family's host (webhook tokens). */
    userBase: userHost.origin,
    /** Token URL templates with `{tenantId}`, as the inventory's `endpoints.tokenUrl` takes them. */
    tokenUrl: { api: `${publicHost.origin}/oauth2/token/{tenantId}`, webhooks: `${userHost.origin}/oauth2/token/{tenantId}` },
    /** `http://127.0.0.1:<port>/rest/v1` on the public host. */
    apiBase: `${publicHost.origin}/rest/v1`,
    state,
    faults,
    requests,
    /** Forgets every tenant, token, request and fault; the options stay. */
    reset(): void {
      tenants.clear();
      tokens.clear();
      requests.length = 0;
      faults.clear();
    },
    async close(): Promise<void> {
      await Promise.all([publicHost.close(), userHost.close()]);
    },
  };
}

export type LearnlinkFake = Awaited<ReturnType<typeof startLearnlinkFake>>;
