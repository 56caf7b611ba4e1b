import { basicAuth, isForm, isJson, json, type FakeRequest, type FakeResponse, type Route } from './http.ts';
import { ACCESS_TOKEN_LIFETIME_SECONDS, type CredlyState } from './credly-state.ts';

export interface CredlyOAuthOptions {
  tokenBody: 'form' | 'json' | 'both';
  scopeMismatch: 'error' | 'grant-subset';
}

// Doorkeeper's wording, so clients that show `error_description` show something realistic.
const INVALID_CLIENT = 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.';
const INVALID_SCOPE = 'The requested scope is invalid, unknown, or malformed.';

const doorkeeperError = (status: number, error: string, description: string): FakeResponse =>
  json(status, { error, error_description: description }, status === 401 ? { 'www-authenticate': 'Bearer realm="Doorkeeper"' } : {});

/**
 * `POST /oauth/token` on Credly's web host: client_credentials only, client authenticated in the body
 * (or HTTP Basic, as Doorkeeper also allows), `scope` required and space-separated.
 */
export function credlyTokenRoute(state: CredlyState, options: CredlyOAuthOptions): Route<'api' | 'web'> {
  return { method: 'POST', pattern: /^\/oauth\/token$/, handler: (req) => grant(req, state, options) };
}

function grant(req: FakeRequest, state: CredlyState, options: CredlyOAuthOptions): FakeResponse {
  const encodingOk = isForm(req) ? options.tokenBody !== 'json' : isJson(req) ? options.tokenBody !== 'form' : false;
  if (!encodingOk || req.badJson) {
    const accepted = options.tokenBody === 'both' ? 'form-encoded or JSON' : options.tokenBody === 'form' ? 'form-encoded' : 'JSON';
    return doorkeeperError(400, 'invalid_request', `The request body must be ${accepted}.`);
  }
  const basic = basicAuth(req);
  const fields: Partial<Record<string, string>> = basic ? { ...req.fields, client_id: basic.user, client_secret: basic.password ?? '' } : req.fields;
  if (!fields.grant_type) return doorkeeperError(400, 'invalid_request', 'Missing required parameter: grant_type.');
  if (fields.grant_type !== 'client_credentials') {
    return doorkeeperError(400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.');
  }
  const app = fields.client_id ? state.findClient(fields.client_id) : undefined;
  if (!app || app.secret !== fields.client_secret) return doorkeeperError(401, 'invalid_client', INVALID_CLIENT);

  const requested = (fields.scope ?? '').split(' ').filter(Boolean);
  const granted = requested.filter((s) => app.scopes.includes(s));
  const partial = granted.length !== requested.length;
  if (granted.length === 0 || (partial && options.scopeMismatch === 'error')) return doorkeeperError(400, 'invalid_scope', INVALID_SCOPE);

  const access = state.issueAccessToken(app, granted);
  return json(200, {
    access_token: access.value,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
    scope: granted.join(' '),
    created_at: Math.floor(access.createdAt.getTime() / 1000),
  });
}
