import type { CredentialBase } from '../../config/index.ts';
import type { RateLimiter } from '../../provider-http/rate-limit.ts';
import type { SecretStore } from '../../secrets/store-types.ts';
import { createCredlyOAuthClient, type CredlyApplication, type CredlyOAuthClient } from './application-client.ts';
import { KIND as TOKEN_KIND, parseCredlyToken, type CredlyTokenConfig } from './authorization-token/schema.ts';
import { parseMarker } from './marker.ts';
import { KIND as APPLICATION_KIND, parseCredlyOAuthApp, type CredlyOAuthAppConfig } from './oauth-application/schema.ts';
import { createCredlyClient, type CredlyClient, type CredlyToken } from './token-client.ts';

/**
 * The expiry radar: every authorization token and OAuth application of each Credly organization the
 * inventory reaches, managed by the rotator or not, listed with the credentials the inventory
 * already holds (no new secret). A token nobody manages dies on its expiry date and takes its
 * integration down with it: the radar names those that expire within a window.
 *
 * What makes a listed record managed, and by which inventory credential (`managedBy`):
 * - it is the one a credential's secret holds now (the token id, the application id or client id in
 *   the secret's current version), or
 * - its description carries the rotator's marker naming a credential of this inventory, of the same
 *   kind and organization (a replacement made by a rotation, or a replaced one awaiting its revoke).
 * Anything else is unmanaged (`managedBy: null`): made by hand, by another tool, or by the rotator
 * for a credential this inventory does not hold (`madeFor` then names it).
 */

export interface RadarToken {
  id: string;
  /** As Credly lists it, at most 200 characters, control characters removed; null when it has none. */
  description: string | null;
  createdAt: string;
  expiresAt: string;
  rights: { read: boolean; write: boolean; delete: boolean };
  managedBy: string | null;
  /** A rotator marker naming a credential this inventory does not hold (another deployment's). */
  madeFor?: string;
}

export interface RadarApplication {
  id: string;
  name: string;
  createdAt: string;
  managedBy: string | null;
  madeFor?: string;
}

export interface RadarOrganization {
  organizationId: string;
  apiBase: string;
  /** The inventory credential whose token listed the organization; null when none could. */
  listedWith: string | null;
  /**
   * A read-only token sees only read-only tokens (Credly's token listing): then the tokens of the
   * organization with more rights are not in `tokens`.
   */
  readOnlyListing: boolean;
  /** null when the listing failed: never read as "no tokens". */
  tokens: RadarToken[] | null;
  applications: RadarApplication[] | null;
  /** Why a listing failed (no secret value): every token credential of the organization was tried. */
  error?: string;
}

export interface RadarReport {
  at: string;
  organizations: RadarOrganization[];
}

export interface RadarDependencies {
  credentials: readonly CredentialBase[];
  secrets: Pick<SecretStore, 'readCurrent'>;
  /** Credly's token API for an API base (the kinds' clients: the same rate-limit budgets). */
  tokens(apiBase: string): Pick<CredlyClient, 'listTokens'>;
  applications(apiBase: string): Pick<CredlyOAuthClient, 'listApplications'>;
  now?: () => Date;
}

type TokenCredential = CredlyTokenConfig;
type ApplicationCredential = CredlyOAuthAppConfig;

interface Organization {
  organizationId: string;
  apiBase: string;
  tokens: TokenCredential[];
  applications: ApplicationCredential[];
}

// A credential of the kind is its kind's configuration (the inventory read it with the kind's schema).
const isToken = (c: CredentialBase): c is TokenCredential => c.kind === TOKEN_KIND;
const isApplication = (c: CredentialBase): c is ApplicationCredential => c.kind === APPLICATION_KIND;

/** Each Credly organization the inventory reaches (one per API base and organization id), in inventory order. */
export function organizationsOf(credentials: readonly CredentialBase[]): Organization[] {
  const byKey = new Map<string, Organization>();
  for (const c of credentials) {
    if (!isToken(c) && !isApplication(c)) continue;
    const key = `${c.endpoints.apiBase}\n${c.organizationId}`;
    let org = byKey.get(key);
    if (!org) byKey.set(key, (org = { organizationId: c.organizationId, apiBase: c.endpoints.apiBase, tokens: [], applications: [] }));
    if (isToken(c)) org.tokens.push(c);
    else org.applications.push(c);
  }
  return [...byKey.values()];
}

/** A description fit for a report, a log line and an alert: bounded, one line. */
function shownDescription(description: string | null): string | null {
  if (description === null) return null;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  const text = description.replace(/\s*[\u0000-\u001f\u007f]+\s*/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).split('\n')[0] ?? '';

/** What each credential's secret holds now (ids only), or nothing when it cannot be read. */
async function heldIds(secrets: RadarDependencies['secrets'], org: Organization) {
  const tokens = new Map<string, string>();
  const applications = new Map<string, string>();
  const tokenValues = new Map<string, string>();
  await Promise.all([
    ...org.tokens.map(async (c) => {
      const value = await secrets.readCurrent(c.secretId).catch(() => undefined);
      if (!value) return;
      try {
        const secret = parseCredlyToken(value.secretString, { secretId: c.secretId });
        tokenValues.set(c.id, secret.token);
        if (secret.tokenId) tokens.set(secret.tokenId, c.id);
      } catch {
        // A malformed secret is its credential's check's to report; the radar just cannot use it.
      }
    }),
    ...org.applications.map(async (c) => {
      const value = await secrets.readCurrent(c.secretId).catch(() => undefined);
      if (!value) return;
      try {
        const secret = parseCredlyOAuthApp(value.secretString, { secretId: c.secretId });
        applications.set(`client:${secret.clientId}`, c.id);
        if (secret.applicationId !== undefined) applications.set(`id:${String(secret.applicationId)}`, c.id);
      } catch {
        // As above.
      }
    }),
  ]);
  return { tokens, applications, tokenValues };
}

/** The inventory credential of `kind` in `org` a marker in `description` names, or what it names otherwise. */
function markerOwner(description: string | null, own: ReadonlySet<string>): { managedBy: string } | { madeFor: string } | undefined {
  const marker = parseMarker(description);
  if (!marker) return undefined;
  return own.has(marker.credentialId) ? { managedBy: marker.credentialId } : { madeFor: marker.credentialId };
}

function radarToken(t: CredlyToken, held: ReadonlyMap<string, string>, own: ReadonlySet<string>): RadarToken {
  const base = {
    id: t.id,
    description: shownDescription(t.description),
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt.toISOString(),
    rights: { read: t.readEnabled, write: t.writeEnabled, delete: t.deleteEnabled },
  };
  const holder = held.get(t.id);
  if (holder) return { ...base, managedBy: holder };
  const owner = markerOwner(t.description, own);
  return owner && 'managedBy' in owner ? { ...base, managedBy: owner.managedBy } : { ...base, managedBy: null, ...(owner ? { madeFor: owner.madeFor } : {}) };
}

function radarApplication(a: CredlyApplication, held: ReadonlyMap<string, string>, own: ReadonlySet<string>): RadarApplication {
  const base = { id: String(a.id), name: shownDescription(a.name) ?? '', createdAt: a.createdAt.toISOString() };
  const holder = held.get(`id:${String(a.id)}`) ?? held.get(`client:${a.uid}`);
  if (holder) return { ...base, managedBy: holder };
  const owner = markerOwner(a.description, own);
  return owner && 'managedBy' in owner ? { ...base, managedBy: owner.managedBy } : { ...base, managedBy: null, ...(owner ? { madeFor: owner.madeFor } : {}) };
}

/** One organization: listed with the first of its token credentials whose token Credly accepts. */
async function scanOrganization(deps: RadarDependencies, org: Organization): Promise<RadarOrganization> {
  const report = { organizationId: org.organizationId, apiBase: org.apiBase };
  const held = await heldIds(deps.secrets, org);
  // An application's managing token is a token credential of the same organization (the inventory's rule), so it is among these.
  const listers = org.tokens.filter((c) => held.tokenValues.has(c.id));
  if (listers.length === 0) {
    const why = org.tokens.length
      ? `no token credential of the organization has a readable token (${org.tokens.map((c) => c.id).join(', ')})`
      : 'the inventory holds no authorization token of this organization to list it with';
    return { ...report, listedWith: null, readOnlyListing: false, tokens: null, applications: null, error: why };
  }
  const failures: string[] = [];
  const ownTokens = new Set(org.tokens.map((c) => c.id));
  const ownApplications = new Set(org.applications.map((c) => c.id));
  for (const lister of listers) {
    const auth = held.tokenValues.get(lister.id)!;
    let listed: CredlyToken[];
    try {
      // Records that do not fit the documented shape are skipped here, not fatal: the radar reports what it can read.
      listed = await deps.tokens(org.apiBase).listTokens(auth, org.organizationId, () => undefined);
    } catch (error) {
      failures.push(`${lister.id}: ${errorText(error)}`);
      continue;
    }
    const self = listed.find((t) => t.token === auth);
    const tokens = listed.map((t) => radarToken(t, held.tokens, ownTokens));
    let applications: RadarApplication[] | null = null;
    let error: string | undefined;
    try {
      const apps = await deps.applications(org.apiBase).listApplications(auth, org.organizationId, () => undefined);
      applications = apps.map((a) => radarApplication(a, held.applications, ownApplications));
    } catch (e) {
      error = `the applications could not be listed with ${lister.id}: ${errorText(e)}`;
    }
    return {
      ...report,
      listedWith: lister.id,
      readOnlyListing: self !== undefined && !self.writeEnabled,
      tokens,
      applications,
      ...(error ? { error } : {}),
    };
  }
  return {
    ...report,
    listedWith: null,
    readOnlyListing: false,
    tokens: null,
    applications: null,
    error: `the tokens could not be listed: ${failures.join('; ')}`,
  };
}

/** Every organization the inventory reaches, one after another (each listing spends its organization's budget). */
export async function runRadar(deps: RadarDependencies): Promise<RadarReport> {
  const at = (deps.now ?? (() => new Date()))();
  const organizations: RadarOrganization[] = [];
  for (const org of organizationsOf(deps.credentials)) organizations.push(await scanOrganization(deps, org));
  return { at: at.toISOString(), organizations };
}

export interface ExpiringToken {
  organizationId: string;
  token: RadarToken;
}

/** What the radar warns of, one unmanaged token expiring soon (ids, a description and dates; never a value). */
export interface RadarExpiringAlert {
  /** The inventory credential whose token listed the organization (its alert sinks). */
  credentialId: string;
  organizationId: string;
  tokenId: string;
  description: string | null;
  expiresAt: string;
  daysToExpiry: number;
}

/** Unmanaged tokens still valid at `at` that expire within `withinMs` of it. */
export function unmanagedExpiring(report: RadarReport, withinMs: number, at = new Date(report.at)): ExpiringToken[] {
  const from = at.getTime();
  return report.organizations.flatMap((org) =>
    (org.tokens ?? []).flatMap((token) => {
      const expires = Date.parse(token.expiresAt);
      return token.managedBy === null && expires > from && expires - from <= withinMs ? [{ organizationId: org.organizationId, token }] : [];
    }),
  );
}

/** Organizations whose tokens could not be listed: the radar cannot say what expires there. */
export function unlisted(report: RadarReport): RadarOrganization[] {
  return report.organizations.filter((org) => org.tokens === null);
}

/**
 * Credly's clients for the radar, one per API base, over the same HTTP layer as the kinds': the
 * same request deadline, retries, and the same per-organization rate-limit budgets when a limiter
 * is given (the limiter shares them through Redis with every worker).
 */
export function radarClients(options: { requestTimeoutMs?: number | undefined; limiter?: RateLimiter | undefined } = {}): {
  tokens(apiBase: string): Pick<CredlyClient, 'listTokens'>;
  applications(apiBase: string): Pick<CredlyOAuthClient, 'listApplications'>;
} {
  const http = {
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    ...(options.limiter ? { limiter: options.limiter } : {}),
  };
  const tokens = new Map<string, CredlyClient>();
  const applications = new Map<string, CredlyOAuthClient>();
  return {
    tokens(apiBase) {
      let client = tokens.get(apiBase);
      if (!client) tokens.set(apiBase, (client = createCredlyClient({ apiBase, ...http })));
      return client;
    },
    applications(apiBase) {
      let client = applications.get(apiBase);
      if (!client) applications.set(apiBase, (client = createCredlyOAuthClient({ apiBase, ...http })));
      return client;
    },
  };
}
