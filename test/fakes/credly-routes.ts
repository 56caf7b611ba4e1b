import { applicationJson, tokenJson, type CredlyState, type FakeCredlyApplication, type FakeCredlyToken, type NewCredlyToken } from './credly-state.ts';
import { basicAuth, bearer, json, type FakeRequest, type FakeResponse, type Route } from './http.ts';
import { paginate } from './pagination.ts';

/** The switches the API routes read (see CredlyFakeOptions for what each one plays). */
export interface CredlyRouteOptions {
  createStatus: 200 | 201;
  rotateKeepsId: boolean;
  deleteSupported: boolean;
  deleteUnsupportedStatus: 404 | 405;
  applicationDeleteSupported: boolean;
  organizationEndpoint: boolean;
  createdTokenRights: 'inherit' | 'full' | 'read-only';
  maxPer: number;
  acceptColonlessBasic: boolean;
}

export interface CredlyRouteContext {
  state: CredlyState;
  opts: CredlyRouteOptions;
  now: () => Date;
  /** Where the answers' absolute links point: the API base, or the web host's `/api/v1` (`pageLinks: 'web'`). */
  linkBase: () => string;
  /** The rate limit's refusal for the organization, when over it. */
  overLimit: (org: string) => FakeResponse | undefined;
}

type Caller = { kind: 'token'; token: FakeCredlyToken } | { kind: 'app'; app: FakeCredlyApplication; scopes: string[] };
type Resource = 'organization' | 'authorization_tokens' | 'oauth_applications';
type Need = 'read' | 'write' | 'delete';

export const message = (status: number, text: string, headers: Record<string, string> = {}) => json(status, { message: text }, headers);
const isResponse = (x: Caller | FakeResponse): x is FakeResponse => 'status' in x;

/**
 * Credly's REST routes under `prefix` (`/v1` on the API host; `/api/v1` on the web host, where the
 * pages' own links sit). A route the switches turn off is not registered at all, so the server's
 * unknown-route 404 answers, as a Credly without it would.
 */
export function credlyApiRoutes(prefix: string, ctx: CredlyRouteContext): Array<Route<'api' | 'web'>> {
  const { state, opts } = ctx;

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
      const limited = ctx.overLimit(org);
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
  const flagsOf = (who: Caller): NewCredlyToken =>
    who.kind === 'token' ? { writeEnabled: who.token.writeEnabled, readEnabled: who.token.readEnabled, deleteEnabled: who.token.deleteEnabled } : {};
  const RIGHTS: Record<'full' | 'read-only', NewCredlyToken> = {
    full: { writeEnabled: true, readEnabled: true, deleteEnabled: true },
    'read-only': { writeEnabled: false, readEnabled: true, deleteEnabled: false },
  };
  const createdRights = (who: Caller) => (opts.createdTokenRights === 'inherit' ? flagsOf(who) : RIGHTS[opts.createdTokenRights]);
  const page = <T>(items: T[], req: FakeRequest) => json(200, paginate(items, req.query, `${ctx.linkBase()}${req.path.slice(prefix.length)}`, opts.maxPer));
  const tokenOut = (t: FakeCredlyToken) => tokenJson(t, ctx.linkBase());

  const ORG = `^${prefix}/organizations/([^/]+)`;
  const TOKENS = `${ORG}/authorization_tokens`;
  const APPS = `${ORG}/oauth_applications`;
  const routes: Array<Route<'api' | 'web'>> = [];
  if (opts.organizationEndpoint) {
    routes.push({
      method: 'GET',
      pattern: new RegExp(`${ORG}$`),
      handler: guarded('organization', 'read', (_req, org) => json(200, { data: state.organization(org) })),
    });
  }
  routes.push(
    {
      method: 'GET',
      pattern: new RegExp(`${TOKENS}$`),
      handler: guarded('authorization_tokens', 'read', (req, org, who) => {
        // A read-only caller sees only read-only tokens, so it cannot lift itself to a write token.
        const seesAll = who.kind === 'app' || who.token.writeEnabled || who.token.deleteEnabled;
        const visible = state.tokens(org).filter((t) => !t.revoked && (seesAll || (!t.writeEnabled && !t.deleteEnabled)));
        return page(visible.map(tokenOut), req);
      }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`${TOKENS}/rotate$`),
      handler: guarded('authorization_tokens', 'write', (req, org, who) => {
        if (who.kind !== 'token') return message(422, 'Unprocessable Entity: rotate replaces the calling authorization token');
        const old = who.token;
        // The calling token dies the instant the new one exists: the caller must store the answer or lose both.
        old.revoked = true;
        const fresh = state.addToken(org, {
          ...flagsOf(who),
          description: text(req, 'description') ?? old.description,
          ...(opts.rotateKeepsId ? { id: old.id } : {}),
        });
        return json(200, { data: tokenOut(fresh), metadata: {} });
      }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`${TOKENS}$`),
      handler: guarded('authorization_tokens', 'write', (req, org, who) => {
        const fresh = state.addToken(org, { ...createdRights(who), description: text(req, 'description') ?? null });
        return json(opts.createStatus, { data: tokenOut(fresh), metadata: {} });
      }),
    },
  );
  if (opts.deleteSupported || opts.deleteUnsupportedStatus === 405) {
    routes.push({
      method: 'DELETE',
      pattern: new RegExp(`${TOKENS}/([^/]+)$`),
      handler: (req, m) => {
        if (!opts.deleteSupported) return message(405, 'Method Not Allowed');
        return guarded('authorization_tokens', 'delete', (_req, org, _who, match) => {
          const target = state.findToken(decodeURIComponent(match[2]!));
          if (!target || target.organizationId !== org || target.revoked) return message(404, 'Authorization token not found');
          target.revoked = true;
          return { status: 204 };
        })(req, m);
      },
    });
  }
  routes.push(
    {
      method: 'GET',
      pattern: new RegExp(`${APPS}$`),
      handler: guarded('oauth_applications', 'read', (req, org) =>
        page(
          state.applications(org).map((a) => applicationJson(a)),
          req,
        ),
      ),
    },
    {
      method: 'POST',
      pattern: new RegExp(`${APPS}$`),
      handler: guarded('oauth_applications', 'write', (req, org) => {
        const name = text(req, 'name')?.trim();
        if (!name) return json(422, { message: "Validation failed: Name can't be blank" });
        const app = state.createApplication(org, { name, description: text(req, 'description') ?? null });
        return json(201, { data: applicationJson(app, true), metadata: {} });
      }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`${APPS}/(\\d+)$`),
      handler: guarded('oauth_applications', 'read', (_req, org, _who, m) => {
        const app = state.findApplication(org, Number(m[2]));
        return app ? json(200, { data: applicationJson(app) }) : message(404, 'OAuth application not found');
      }),
    },
    {
      method: 'PUT',
      pattern: new RegExp(`${APPS}/(\\d+)$`),
      handler: guarded('oauth_applications', 'write', (req, org, _who, m) => {
        const app = state.findApplication(org, Number(m[2]));
        if (!app) return message(404, 'OAuth application not found');
        const name = text(req, 'name');
        const description = text(req, 'description');
        if (name !== undefined) app.name = name;
        if (description !== undefined) app.description = description;
        app.updatedAt = ctx.now();
        return json(200, { data: applicationJson(app) });
      }),
    },
  );
  if (opts.applicationDeleteSupported) {
    routes.push({
      method: 'DELETE',
      pattern: new RegExp(`${APPS}/(\\d+)$`),
      handler: guarded('oauth_applications', 'delete', (_req, org, _who, m) => {
        const app = state.findApplication(org, Number(m[2]));
        if (!app) return message(404, 'OAuth application not found');
        state.deleteApplication(app);
        return { status: 204 };
      }),
    });
  }
  return routes;
}
