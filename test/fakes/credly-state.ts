import { randomUUID } from 'node:crypto';
import { CREDLY_SCOPES } from '../../src/kinds/credly/shared.ts';
import type { CredlyToken } from '../../src/kinds/credly/token-client.ts';
import { secretValue, type Clock } from './http.ts';

const DAY_MS = 86_400_000;
const ACCESS_TOKEN_SECONDS = 7200;

// The documented scopes (docs/providers.md): a new fake application holds all of them unless told otherwise.
export { CREDLY_SCOPES };

/** The user every fake token and application belongs to. */
export const CREDLY_OWNER = { type: 'User', id: '5d1c0c36-6f4b-4a57-9d57-6f0e3c1b2a90', name: 'Integration Owner' } as const;

/** A token as the fake keeps it: what Credly lists of it, its organization, and whether it was revoked. */
export interface FakeCredlyToken extends CredlyToken {
  organizationId: string;
  /** Rotated away or deleted; expiry is separate (see expiresAt). */
  revoked: boolean;
  /**
   * Fields listed in place of the token's own (`{ expires_at: null }`): a record Credly lists in a
   * shape the documentation does not give, such as a token made in the web UI without an expiry.
   */
  listedAs?: Record<string, unknown>;
}

export interface FakeCredlyApplication {
  id: number;
  organizationId: string;
  name: string;
  description: string | null;
  /** The OAuth client id. */
  uid: string;
  /** The client secret: Credly shows it once, in the create answer. */
  secret: string;
  /** Scopes a client_credentials grant may ask for. */
  scopes: string[];
  createdAt: Date;
  updatedAt: Date;
  deleted: boolean;
  /** Fields listed in place of the application's own (`{ created_at: null }`), as for tokens. */
  listedAs?: Record<string, unknown>;
}

export interface FakeCredlyAccessToken {
  value: string;
  applicationId: number;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date;
}

export interface NewCredlyToken {
  description?: string | null;
  writeEnabled?: boolean;
  readEnabled?: boolean;
  /** Default: like writeEnabled. */
  deleteEnabled?: boolean;
  /** Default: now. */
  createdAt?: Date;
  /** Default: createdAt + the fake's token lifetime (180 days). */
  expiresAt?: Date;
  /** Default: a fresh uuid (rotate with `rotateKeepsId` passes the old one). */
  id?: string;
  /** Fields the listing shows in place of the token's own (see FakeCredlyToken.listedAs). */
  listedAs?: Record<string, unknown>;
}

export interface NewCredlyApplication {
  /** Default `Integration`. */
  name?: string;
  description?: string | null;
  /** Default: every Credly scope. */
  scopes?: readonly string[];
}

/** Credly's records in memory, with the helpers tests use to arrange and inspect them. */
export function createCredlyState(now: Clock, tokenLifetimeDays: number) {
  const organizations = new Map<string, { id: string; name: string }>();
  const tokens: FakeCredlyToken[] = [];
  const applications: FakeCredlyApplication[] = [];
  const accessTokens = new Map<string, FakeCredlyAccessToken>();
  let nextApplicationId = 4101;

  const isLive = (t: FakeCredlyToken) => !t.revoked && t.expiresAt.getTime() > now().getTime();
  const requireOrganization = (id: string) => {
    if (!organizations.has(id)) throw new Error(`credly fake: no organization ${id}`);
  };
  // With `rotateKeepsId` an id names a dead record and its live successor; the newest one counts.
  const findToken = (id: string) => tokens.findLast((t) => t.id === id);
  const requireToken = (id: string) => findToken(id) ?? raise(`credly fake: no authorization token ${id}`);

  const state = {
    addOrganization(name = 'Demo Academy', id: string = randomUUID()): string {
      organizations.set(id, { id, name });
      return id;
    },
    organization: (id: string) => organizations.get(id),

    addToken(organizationId: string, init: NewCredlyToken = {}): FakeCredlyToken {
      requireOrganization(organizationId);
      const createdAt = init.createdAt ?? now();
      const writeEnabled = init.writeEnabled ?? true;
      const token: FakeCredlyToken = {
        id: init.id ?? randomUUID(),
        organizationId,
        token: secretValue('credlytoken_'),
        description: init.description ?? null,
        writeEnabled,
        readEnabled: init.readEnabled ?? true,
        deleteEnabled: init.deleteEnabled ?? writeEnabled,
        createdAt,
        expiresAt: init.expiresAt ?? new Date(createdAt.getTime() + tokenLifetimeDays * DAY_MS),
        revoked: false,
        ...(init.listedAs ? { listedAs: init.listedAs } : {}),
      };
      tokens.push(token);
      return token;
    },
    /** Every token record of the organization (or of all), dead ones included, oldest first. */
    tokens: (organizationId?: string) => tokens.filter((t) => organizationId === undefined || t.organizationId === organizationId),
    liveTokens: (organizationId?: string) => state.tokens(organizationId).filter(isLive),
    findToken,
    tokenByValue: (value: string) => tokens.find((t) => t.token === value),
    isTokenLive: isLive,
    /** Known, not revoked and not expired by the fake's clock. */
    isTokenValid: (value: string) => tokens.some((t) => t.token === value && isLive(t)),
    setTokenExpiry(id: string, expiresAt: Date): void {
      requireToken(id).expiresAt = expiresAt;
    },
    killToken(id: string): void {
      requireToken(id).revoked = true;
    },

    addApplication(organizationId: string, init: NewCredlyApplication = {}): { id: number; uid: string; secret: string } {
      const app = state.createApplication(organizationId, init);
      return { id: app.id, uid: app.uid, secret: app.secret };
    },
    createApplication(organizationId: string, init: NewCredlyApplication = {}): FakeCredlyApplication {
      requireOrganization(organizationId);
      const app: FakeCredlyApplication = {
        id: nextApplicationId++,
        organizationId,
        name: init.name ?? 'Integration',
        description: init.description ?? null,
        uid: secretValue('', 20),
        secret: secretValue('credlysecret_'),
        scopes: [...(init.scopes ?? CREDLY_SCOPES)],
        createdAt: now(),
        updatedAt: now(),
        deleted: false,
      };
      applications.push(app);
      return app;
    },
    /** Every application the organization ever had, deleted ones included. */
    applicationsEver: (organizationId: string) => applications.filter((a) => a.organizationId === organizationId),
    /** Applications not deleted, of the organization (or of all). */
    applications: (organizationId?: string) => applications.filter((a) => !a.deleted && (organizationId === undefined || a.organizationId === organizationId)),
    findApplication: (organizationId: string, id: number) => applications.find((a) => a.id === id && a.organizationId === organizationId && !a.deleted),
    findClient: (uid: string) => applications.find((a) => a.uid === uid && !a.deleted),
    isClientValid: (uid: string, secret: string) => applications.some((a) => a.uid === uid && a.secret === secret && !a.deleted),
    /** Deleting an application kills its client credentials and every access token issued to it. */
    deleteApplication(app: FakeCredlyApplication): void {
      app.deleted = true;
      for (const [value, access] of accessTokens) if (access.applicationId === app.id) accessTokens.delete(value);
    },

    issueAccessToken(app: FakeCredlyApplication, scopes: string[]): FakeCredlyAccessToken {
      const createdAt = now();
      const access = {
        value: secretValue('credlyaccess_'),
        applicationId: app.id,
        scopes,
        createdAt,
        expiresAt: new Date(createdAt.getTime() + ACCESS_TOKEN_SECONDS * 1000),
      };
      accessTokens.set(access.value, access);
      return access;
    },
    /** The access token with its application, when both are alive. */
    liveAccess(value: string): { access: FakeCredlyAccessToken; app: FakeCredlyApplication } | undefined {
      const access = accessTokens.get(value);
      if (!access || access.expiresAt.getTime() <= now().getTime()) return undefined;
      const app = applications.find((a) => a.id === access.applicationId && !a.deleted);
      return app ? { access, app } : undefined;
    },
    liveAccessTokens: () => [...accessTokens.values()].filter((a) => state.liveAccess(a.value) !== undefined),

    reset(): void {
      organizations.clear();
      tokens.length = 0;
      applications.length = 0;
      accessTokens.clear();
    },
  };
  return state;
}

export type CredlyState = ReturnType<typeof createCredlyState>;

export const ACCESS_TOKEN_LIFETIME_SECONDS = ACCESS_TOKEN_SECONDS;

function raise(message: string): never {
  throw new Error(message);
}

/** A token as Credly lists it: the value in clear, and its owner. */
export function tokenJson(t: FakeCredlyToken, apiBase: string) {
  return {
    id: t.id,
    token: t.token,
    owner_id: CREDLY_OWNER.id,
    description: t.description,
    write_enabled: t.writeEnabled,
    read_enabled: t.readEnabled,
    delete_enabled: t.deleteEnabled,
    created_at: t.createdAt.toISOString(),
    expires_at: t.expiresAt.toISOString(),
    owner: { ...CREDLY_OWNER, url: `${apiBase}/users/${CREDLY_OWNER.id}` },
    ...t.listedAs,
  };
}

/** An application as Credly shows it: `secret` is null except in the create answer. */
export function applicationJson(a: FakeCredlyApplication, withSecret = false) {
  return {
    id: a.id,
    name: a.name,
    description: a.description,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
    uid: a.uid,
    created_by_id: CREDLY_OWNER.id,
    created_by_type: CREDLY_OWNER.type,
    created_by_name: CREDLY_OWNER.name,
    creator_available: true,
    secret: withSecret ? a.secret : null,
    ...a.listedAs,
  };
}
