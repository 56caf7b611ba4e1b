import { randomUUID } from 'node:crypto';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import type { CredlyFake, FakeCredlyToken } from '../fakes/credly.fake.ts';
import type { DegreedFake } from '../fakes/degreed.fake.ts';
import { credlyEndpoints, degreedEndpoints, endpointsYaml, type Endpoints } from './fake-hosts.ts';

/**
 * The credentials a scenario declares (scenario.ts): each one made at its fake, with the inventory
 * entry that names it and the secret value to seed as AWSCURRENT; then the inventory text and the
 * seeding, shared by the in-process harness and the worker-process scenarios.
 */

export const DAY = 86_400_000;

/** The run's Secrets Manager emulator, without fault injection: what tests seed and read back through. */
export const store = createSecretStore(createSecretsManagerClient());

/** A short random id: credential ids, secret ids and queue prefixes that never clash between tests. */
export const runId = () => randomUUID().slice(0, 8);

export interface DeclaredCredential {
  id: string;
  secretId: string;
  /** Its inventory entry, `  - id: …` and the lines below it. */
  yaml: string;
  /** The secret string to store as AWSCURRENT before the scenario starts; none leaves the secret missing. */
  seed?: string;
}

/**
 * One inventory entry: `fields` in order (an undefined value is left out), the endpoints, then
 * `extra` lines (inventory settings, nested ones indented below their key).
 */
export function entryYaml(fields: Record<string, string | undefined>, endpoints?: Endpoints, extra = ''): string {
  const lines = Object.entries(fields).flatMap(([key, value]) => (value === undefined ? [] : [`${key}: ${value}`]));
  if (endpoints) lines.push(endpointsYaml(endpoints));
  // Extra lines may come indented or not: their common indentation goes, nesting stays.
  const given = extra.split('\n').filter((l) => l.trim() !== '');
  const indent = Math.min(...given.map((l) => /^ */.exec(l)![0].length));
  lines.push(...given.map((l) => l.slice(indent)));
  return `  - ${lines.join('\n    ')}\n`;
}

/**
 * The `defaults:` of every test inventory that writes none of its own: the replaced credential
 * revoked the moment the new one is promoted, and no cooldown on forced rotations, so that a test
 * rotates, forces again and sees the revoke without waiting. A test of the product's own defaults
 * (1h, 10m) passes `defaults: ''`; one that writes `defaults:` in `more` gets only its own.
 */
export const TEST_DEFAULTS = 'defaults:\n  revokePreviousAfter: 0s\n  forceCooldown: 0s\n';

/** The inventory file's text: `defaults` (TEST_DEFAULTS), the credentials' entries, then `more` (an `alerts:` section, `defaults:`…). */
export function inventoryYaml(credentials: Array<Pick<DeclaredCredential, 'yaml'>>, more = '', options: { defaults?: string } = {}): string {
  const defaults = /^defaults:/m.test(more) ? '' : (options.defaults ?? TEST_DEFAULTS);
  return `version: 1\n${defaults}credentials:\n${credentials.map((c) => c.yaml).join('')}${more}`;
}

/** Stores every declared seed as its secret's AWSCURRENT. */
export async function seedSecrets(credentials: DeclaredCredential[]): Promise<void> {
  for (const c of credentials) if (c.seed !== undefined) await store.putCurrent(c.secretId, c.seed);
}

export interface CredlyTokenOptions {
  /** Age of the token at the fake; none: made now. */
  ageDays?: number;
  description?: string;
  /** Tokens of the organization listed before the credential's own (pushes it to a later page). */
  tokensBefore?: number;
  /** A read-only token (neither write- nor delete-enabled). */
  writeEnabled?: false;
  /** Store the bare token instead of the JSON shape. */
  bare?: boolean;
  /** The organization to make the token in; default a new one. */
  organizationId?: string;
  environment?: string;
  schedule?: string;
  /** Inventory lines added to the entry (`revokePreviousAfter: 1h`…). */
  extra?: string;
  /** The run id in the credential id (`credly-<run>`), the secret id and the organization's name. */
  run?: string;
  /** Default `credly-<run>`. */
  id?: string;
  /** Default `test/<folder>/<run>`. */
  secretId?: string;
  folder?: string;
}

/** A Credly authorization token at the fake, its secret and its inventory entry. */
export function credlyToken(fake: CredlyFake, options: CredlyTokenOptions = {}) {
  const run = options.run ?? runId();
  const organizationId = options.organizationId ?? fake.state.addOrganization(`Org ${run}`);
  for (let i = 0; i < (options.tokensBefore ?? 0); i += 1) fake.state.addToken(organizationId, { description: `other integration ${i}` });
  const token = fake.state.addToken(organizationId, {
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(options.ageDays === undefined ? {} : { createdAt: new Date(Date.now() - options.ageDays * DAY) }),
    ...(options.writeEnabled === false ? { writeEnabled: false, deleteEnabled: false } : {}),
  });
  const id = options.id ?? `credly-${run}`;
  const secretId = options.secretId ?? `test/${options.folder ?? 'scenario'}/${run}`;
  const fields = {
    id,
    kind: 'credly-authorization-token',
    secretId,
    organizationId,
    environment: options.environment ?? 'production',
    schedule: options.schedule === undefined ? undefined : `"${options.schedule}"`,
  };
  const isOurs = (t: FakeCredlyToken) => parseMarker(t.description)?.credentialId === id;
  return {
    id,
    secretId,
    organizationId,
    /** The organization id (the name the worker suites read). */
    org: organizationId,
    /** The token the secret holds at the start. */
    token,
    yaml: entryYaml(fields, credlyEndpoints(fake), options.extra),
    seed: options.bare ? token.token : JSON.stringify({ token: token.token, tokenId: token.id }),
    /** The tokens the rotator created for this credential at the fake. */
    created: () => fake.state.tokens(organizationId).filter(isOurs),
    /** Every token value of the organization, for secret searches. */
    tokenValues: () => fake.state.tokens(organizationId).map((t) => t.token),
    /** The stored AWSCURRENT, parsed. */
    current: async () => parseSecretValue('credly-authorization-token', (await store.readCurrent(secretId)).secretString),
  };
}

export type CredlyTokenCredential = ReturnType<typeof credlyToken>;

export interface CredlyApplicationOptions {
  id?: string;
  secretId: string;
  environment?: string;
  /** The scopes the inventory requires; default `[issued_badges]`. */
  scopes?: string[];
  /** The scopes the application at the fake may be granted; default the fake's. */
  appScopes?: string[];
  /** What its secret holds at start: its client secret, one Credly refuses (`wrong`, `lost`), `{}`, or no secret at all. */
  secret?: 'working' | 'wrong' | 'lost' | 'empty' | 'none';
  extra?: string;
}

/** A Credly OAuth application managed by `manager` (a token credential of the same organization), made at the fake. */
export function credlyApplication(fake: CredlyFake, manager: CredlyTokenCredential, options: CredlyApplicationOptions) {
  const application = fake.state.createApplication(manager.organizationId, {
    name: 'LMS badge sync',
    ...(options.appScopes ? { scopes: options.appScopes } : {}),
  });
  const id = options.id ?? `app-${manager.id}`;
  const fields = (secretId: string) => ({
    id,
    kind: 'credly-oauth-application',
    secretId,
    organizationId: manager.organizationId,
    environment: options.environment ?? 'production',
    managedBy: manager.id,
    applicationName: 'LMS badge sync',
    scopes: `[${(options.scopes ?? ['issued_badges']).join(', ')}]`,
  });
  /** The inventory entry naming `secretId` for the application (an inventory changed later). */
  const yamlFor = (secretId: string) => entryYaml(fields(secretId), credlyEndpoints(fake, { oauth: true }), options.extra);
  const refused = { wrong: 'credlysecret_not-the-right-one', lost: 'credlysecret_lost' };
  const secret = options.secret ?? 'working';
  const seeds = {
    working: { clientId: application.uid, clientSecret: application.secret, applicationId: application.id },
    wrong: { clientId: application.uid, clientSecret: refused.wrong, applicationId: application.id },
    lost: { clientId: application.uid, clientSecret: refused.lost, applicationId: application.id },
    empty: {},
  };
  return {
    id,
    secretId: options.secretId,
    application,
    yaml: yamlFor(options.secretId),
    yamlFor,
    ...(secret === 'none' ? {} : { seed: JSON.stringify(seeds[secret]) }),
    current: async (secretId = options.secretId) => parseSecretValue('credly-oauth-application', (await store.readCurrent(secretId)).secretString),
  };
}

/** A Degreed OAuth client at the fake with `scopes`, its secret (the client as JSON) and its inventory entry. */
export function degreedClient(fake: DegreedFake, options: { id: string; secretId: string; scopes?: string[]; dataCenter?: string; extra?: string }) {
  const scopes = options.scopes ?? ['users:read'];
  const client = fake.state.addClient({ scopes });
  const fields = {
    id: options.id,
    kind: 'degreed-client-credentials',
    secretId: options.secretId,
    environment: 'production',
    dataCenter: options.dataCenter ?? 'US',
    scopes: `[${scopes.join(', ')}]`,
  };
  return { id: options.id, secretId: options.secretId, client, yaml: entryYaml(fields, degreedEndpoints(fake), options.extra), seed: JSON.stringify(client) };
}
