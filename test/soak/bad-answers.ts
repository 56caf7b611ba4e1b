import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Worker } from 'bullmq';
import type { JobOutcome } from '../../jobs/index.ts';
import { type Inventory } from '../../src/config/index.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { createJobDependencies, createKinds } from '../../src/composition-root.ts';
import { enqueue } from '../../src/queue/producer.ts';
import { createRotatorWorker } from '../../src/queue/worker.ts';
import { createSecretStore, createSecretsManagerClient, type SecretStore } from '../../src/secrets/secret-store.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import { startCredlyFake, type CredlyFake, type FakeCredlyToken } from '../fakes/credly.fake.ts';
import { tokenJson } from '../fakes/credly-state.ts';
import { startDegreedFake, type DegreedFake } from '../fakes/degreed.fake.ts';
import type { FaultMatch, FaultRule } from '../fakes/faults.ts';
import { seededRandom } from '../fakes/faults.ts';
import type { Clock } from '../fakes/http.ts';
import { startLearnlinkFake, type LearnlinkFake } from '../fakes/learnlink.fake.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { openJobQueue } from '../support/job-queue.ts';
import { countRow, type SoakRow, type SoakScenario } from './report.ts';
import type { KindRuntimes } from '../../src/kinds/kind.ts';

const SCENARIO = 'bad answers';
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// An in-process worker over the real wiring (createJobDependencies, createRotatorWorker), with the
// real providers and validators whose HTTP retries back off for milliseconds instead of seconds,
// so a corpus of failing cases runs in seconds. Shared with the clock scenario.
// ---------------------------------------------------------------------------------------------

/** HTTP options of every provider client in the soak: retries as in production, only quicker. */
export const SOAK_HTTP = { requestTimeoutMs: 5_000, backoffMs: 5 } as const;

/** The kinds as the composition root builds them, with SOAK_HTTP. */
export function soakKinds(inventory: Pick<Inventory, 'credentials'>, secrets: Pick<SecretStore, 'readCurrent'>): KindRuntimes {
  return createKinds({ inventory, secrets, ...SOAK_HTTP });
}

export interface JobResult {
  state: 'completed' | 'failed' | 'hung';
  outcome?: JobOutcome;
  reason?: string;
}

export interface SoakWorker {
  store: SecretStore;
  /** Every log line of the worker so far. */
  logs: string[];
  /** Crashes seen while the worker ran: uncaught exceptions, unhandled rejections, worker errors. */
  crashes: string[];
  run(credentialId: string, options?: { force?: boolean; attempts?: number }): Promise<JobResult>;
  close(): Promise<void>;
}

/** One worker for an inventory, on a queue prefix of its own, against real Redis and the emulator. */
export async function startSoakWorker(inventoryText: string, options: { now?: Clock } = {}): Promise<SoakWorker> {
  const inventory = parseInventory(inventoryText);
  const store = createSecretStore(createSecretsManagerClient());
  const prefix = `{soak-${randomUUID().slice(0, 8)}}`;
  const jobs = openJobQueue(prefix);
  const { redis, queue, events } = jobs;
  const { logger, lines: logs } = captureLogger();
  const deps = createJobDependencies({
    inventory,
    secrets: store,
    redis,
    queue,
    prefix,
    lockDurationMs: 5_000,
    kinds: soakKinds(inventory, store),
    ...(options.now ? { now: options.now } : {}),
  });
  const worker: Worker = createRotatorWorker({ connection: redis, prefix, deps, logger, lockDurationMs: 5_000, concurrency: 2 });
  const crashes: string[] = [];
  const onCrash = (kind: string) => (error: unknown) => crashes.push(`${kind}: ${error instanceof Error ? error.name : typeof error}`);
  const onException = onCrash('uncaught exception');
  const onRejection = onCrash('unhandled rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  worker.on('error', onCrash('worker error'));
  await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);
  return {
    store,
    logs,
    crashes,
    async run(credentialId, runOptions = {}) {
      const job = await enqueue(
        queue,
        'check-credential',
        { credentialId, trigger: 'manual', force: runOptions.force ?? false },
        { attempts: runOptions.attempts ?? 2, backoff: { type: 'fixed', delay: 50 } },
      );
      try {
        return { state: 'completed', outcome: (await job.waitUntilFinished(events, 30_000)) as JobOutcome };
      } catch (error) {
        const reason = (error as Error).message;
        // waitUntilFinished's own deadline: the job never ended.
        if (/timed out/i.test(reason) && !(await job.isFailed())) return { state: 'hung', reason };
        return { state: 'failed', reason };
      }
    },
    async close() {
      await jobs.close(worker);
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

type Kind = 'credly-token' | 'credly-oauth' | 'degreed' | 'learnlink';
type Where = 'credly' | 'degreed' | 'learnlink';

/** One credential, arranged at the fakes and in Secrets Manager before the worker starts. */
interface Fixture {
  kind: Kind;
  credentialId: string;
  secretId: string;
  /** The SecretString stored at start (AWSCURRENT). */
  original: string;
  /** Inventory lines of the credential(s), indented for `credentials:`. */
  inventory: string;
  /** Credly: the organization; Learn.link: the tenant id. */
  organizationId: string;
  /** Credly token: the token in the secret. */
  token?: FakeCredlyToken;
  /** Credly OAuth: the application in the secret. */
  app?: { id: number; uid: string; secret: string };
  /** Values that must never appear in an error message or a log line. */
  secrets: string[];
}

interface Ctx {
  f: Fixture;
  credly: CredlyFake;
  /** Origin of a listener standing for "another host": nothing may ever reach it. */
  elsewhere: string;
}

interface Case {
  name: string;
  kind: Kind;
  /** The hostile answers, each for every matching request of the case. */
  faults(c: Ctx): Array<{ at: Where; match: FaultMatch; fault: FaultRule['fault'] }>;
  force?: boolean;
  /** What the failure reason must say. */
  says: RegExp;
  /**
   * What AWSCURRENT holds afterwards: the original value (`old`), or — for a failure after
   * promotion — a new, working token with the original one as AWSPREVIOUS (`promoted`).
   */
  after?: 'old' | 'promoted';
}

const HTML_PAGE = '<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Something went wrong</h1><p>Please try again later.</p></body></html>';
const html = (status: number) => ({ kind: 'status', status, body: HTML_PAGE, contentType: 'text/html; charset=utf-8' }) as const;
const jsonAnswer = (status: number, body: unknown) =>
  ({ kind: 'respond', status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) }) as const;
const rawJson = (status: number, body: string) => ({ kind: 'respond', status, headers: { 'content-type': 'application/json; charset=utf-8' }, body }) as const;
/** Several MB: a proxy's error page, or a body gone wrong. */
const HUGE_HTML = `<!DOCTYPE html><html><body><pre>${'stack frame at proxy.internal:8080\n'.repeat(200_000)}</pre></body></html>`;
const HUGE_JSON = `{"data": [${Array.from({ length: 60_000 }, (_, i) => `{"id": ${i}, "note": "${'x'.repeat(80)}"}`).join(',')}]`;

const org = (c: Ctx) => encodeURIComponent(c.f.organizationId);
const credlyTokens = (c: Ctx, method: string): FaultMatch => ({
  server: 'api',
  method,
  path: new RegExp(`^/v1/organizations/${org(c)}/authorization_tokens$`),
});
const credlyApps = (c: Ctx, method: string): FaultMatch => ({ server: 'api', method, path: new RegExp(`^/v1/organizations/${org(c)}/oauth_applications$`) });
const credlyOrg = (c: Ctx): FaultMatch => ({ server: 'api', method: 'GET', path: new RegExp(`^/v1/organizations/${org(c)}$`) });
const credlyDelete = (c: Ctx): FaultMatch => ({
  server: 'api',
  method: 'DELETE',
  path: new RegExp(`^/v1/organizations/${org(c)}/authorization_tokens/[^/]+$`),
});
const credlyGrant: FaultMatch = { server: 'web', method: 'POST', path: '/oauth/token' };
const degreedGrant: FaultMatch = { server: 'token', method: 'POST', path: '/oauth/token' };
const degreedProbe: FaultMatch = { server: 'api', method: 'GET', path: '/api/v2/users' };
const learnlinkGrant = (c: Ctx): FaultMatch => ({ server: 'public', method: 'POST', path: `/oauth2/token/${c.f.organizationId}` });
const learnlinkProbe: FaultMatch = { server: 'public', method: 'GET', path: '/rest/v1/users' };

/** A token record as Credly would list it, but one Credly never made. */
function madeUpToken(c: Ctx, overrides: Record<string, unknown>) {
  return { ...tokenJson(c.f.token!, c.credly.apiBase), id: randomUUID(), description: 'made up', ...overrides };
}
function madeUpApplication(overrides: Record<string, unknown>) {
  const at = new Date().toISOString();
  return {
    id: 987_654,
    name: 'LMS badge sync',
    description: 'made up',
    created_at: at,
    updated_at: at,
    uid: 'a1b2c3d4e5',
    secret: 'credlysecret_madeup',
    ...overrides,
  };
}

export const CASES: Case[] = [
  // Credly authorization token: list (inspect)
  {
    name: 'token list: HTML error page with 200',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyTokens(c, 'GET'), fault: { kind: 'wrong-content-type' } }],
    says: /inspect failed: .*credly list-tokens: 200 with a text\/html body instead of JSON/,
  },
  {
    name: 'token list: HTML error page with 502',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyTokens(c, 'GET'), fault: html(502) }],
    says: /inspect failed: .*credly list-tokens: 502 Bad Gateway/,
  },
  {
    name: 'token list: huge HTML body (several MB) with 200',
    kind: 'credly-token',
    faults: (c) => [
      { at: 'credly', match: credlyTokens(c, 'GET'), fault: { kind: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: HUGE_HTML } },
    ],
    says: /inspect failed: .*credly list-tokens: 200 with a text\/html body instead of JSON/,
  },
  {
    name: 'token list: JSON array instead of an object',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyTokens(c, 'GET'), fault: jsonAnswer(200, [tokenJson(c.f.token!, c.credly.apiBase)]) }],
    says: /inspect failed: .*credly list-tokens: 200 with an unexpected body \(at \(body\): invalid_type\)/,
  },
  {
    name: 'token list: null data',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyTokens(c, 'GET'), fault: jsonAnswer(200, { data: null, metadata: {} }) }],
    says: /inspect failed: .*credly list-tokens: 200 with an unexpected body \(at data: invalid_type\)/,
  },
  {
    name: 'token list: expires_at not a date',
    kind: 'credly-token',
    faults: (c) => [
      {
        at: 'credly',
        match: credlyTokens(c, 'GET'),
        fault: jsonAnswer(200, { data: [{ ...tokenJson(c.f.token!, c.credly.apiBase), expires_at: 'in about six months' }], metadata: {} }),
      },
    ],
    // The stored token's own record: for good, naming the field (another integration's would be skipped).
    says: /inspect failed: .*credly list-tokens: token \S+ of credential "[^"]+" is listed in a shape the documentation does not give \(at expires_at: custom\)/,
  },
  {
    name: 'token list: next page on another host',
    kind: 'credly-token',
    faults: (c) => [
      {
        at: 'credly',
        match: credlyTokens(c, 'GET'),
        fault: jsonAnswer(200, { data: [], metadata: { next_page_url: `${c.elsewhere}/v1/organizations/${org(c)}/authorization_tokens?page=2` } }),
      },
    ],
    says: /inspect failed: .*next_page_url points to another host; refused/,
  },
  {
    name: 'token list: 302 redirect to another host',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyTokens(c, 'GET'), fault: { kind: 'redirect', status: 302, location: `${c.elsewhere}/steal` } }],
    says: /inspect failed: .*credly list-tokens: .*redirect/,
  },
  // Credly authorization token: create
  {
    name: 'token create: the new token equals the old one',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyTokens(c, 'POST'), fault: jsonAnswer(201, { data: tokenJson(c.f.token!, c.credly.apiBase), metadata: {} }) }],
    says: /create failed: .*credly create-token: .*current token/,
  },
  {
    name: 'token create: token is a number',
    kind: 'credly-token',
    faults: (c) => [
      { at: 'credly', match: credlyTokens(c, 'POST'), fault: jsonAnswer(201, { data: madeUpToken(c, { token: 73_551_208_114 }), metadata: {} }) },
    ],
    says: /create failed: .*credly create-token: 201 with an unexpected body \(at data\.token: invalid_type\)/,
  },
  {
    name: 'token create: fields missing',
    kind: 'credly-token',
    faults: (c) => [
      { at: 'credly', match: credlyTokens(c, 'POST'), fault: jsonAnswer(201, { data: { id: randomUUID(), description: 'partial' }, metadata: {} }) },
    ],
    says: /create failed: .*credly create-token: 201 with an unexpected body \(at data\.token: invalid_type/,
  },
  {
    name: 'token create: empty body with 201',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyTokens(c, 'POST'), fault: rawJson(201, '') }],
    says: /create failed: .*credly create-token: 201 with a body that is not valid JSON/,
  },
  {
    name: 'token create: 307 redirect to another host',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyTokens(c, 'POST'), fault: { kind: 'redirect', status: 307, location: `${c.elsewhere}/steal` } }],
    says: /create failed: .*credly create-token: .*redirect/,
  },
  // Credly authorization token: test with the new token (its own listing, then GET organization: testWithOrganizationEndpoint)
  {
    name: 'token test: organization answer names another organization',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyOrg(c), fault: jsonAnswer(200, { data: { id: randomUUID(), name: 'Someone Else Inc.' } }) }],
    says: /test failed: .*credly get-organization: .*another organization/,
  },
  {
    name: 'token test: HTML error page with 200',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyOrg(c), fault: { kind: 'wrong-content-type' } }],
    says: /test failed: .*credly get-organization: 200 with a text\/html body instead of JSON/,
  },
  {
    name: 'token test: null data',
    kind: 'credly-token',
    faults: (c) => [{ at: 'credly', match: credlyOrg(c), fault: jsonAnswer(200, { data: null }) }],
    says: /test failed: .*credly get-organization: 200 with an unexpected body \(at data: invalid_type\)/,
  },
  // Credly authorization token: DELETE of the previous token, after promotion
  {
    name: 'token revoke: HTML error page with 200',
    kind: 'credly-token',
    after: 'promoted',
    faults: (c) => [{ at: 'credly', match: credlyDelete(c), fault: { kind: 'wrong-content-type' } }],
    says: /revoke failed: .*credly delete-token: 200 with an answer that is not the API's \(text\/html\)/,
  },
  {
    name: 'token revoke: 302 redirect to another host',
    kind: 'credly-token',
    after: 'promoted',
    faults: (c) => [{ at: 'credly', match: credlyDelete(c), fault: { kind: 'redirect', status: 302, location: `${c.elsewhere}/steal` } }],
    says: /revoke failed: .*credly delete-token: .*redirect/,
  },
  // Credly OAuth application: the token endpoint (inspect grants with the stored secret)
  {
    name: 'oauth grant: access_token missing',
    kind: 'credly-oauth',
    faults: () => [
      { at: 'credly', match: credlyGrant, fault: jsonAnswer(200, { token_type: 'Bearer', expires_in: 7200, scope: 'issued_badges badge_templates' }) },
    ],
    says: /inspect failed: .*credly token-grant: 200 with an unexpected body \(at access_token: invalid_type\)/,
  },
  {
    name: 'oauth grant: HTML error page with 502',
    kind: 'credly-oauth',
    faults: () => [{ at: 'credly', match: credlyGrant, fault: html(502) }],
    says: /inspect failed: .*credly token-grant: 502 Bad Gateway/,
  },
  {
    name: 'oauth grant: 302 redirect to another host',
    kind: 'credly-oauth',
    faults: (c) => [{ at: 'credly', match: credlyGrant, fault: { kind: 'redirect', status: 302, location: `${c.elsewhere}/oauth/token` } }],
    says: /inspect failed: .*credly token-grant: .*redirect/,
  },
  {
    name: 'oauth grant: expires_in negative',
    kind: 'credly-oauth',
    faults: () => [
      {
        at: 'credly',
        match: credlyGrant,
        fault: jsonAnswer(200, {
          access_token: 'credlyaccess_madeup0000000000',
          token_type: 'Bearer',
          expires_in: -3600,
          scope: 'issued_badges badge_templates',
          created_at: 1_700_000_000,
        }),
      },
    ],
    says: /inspect failed: .*credly token-grant: 200 with an unexpected body \(at expires_in: too_small\)/,
  },
  // Credly OAuth application: list (recreateEvery) and create (forced recreation)
  {
    name: 'oauth list applications: HTML error page with 200',
    kind: 'credly-oauth',
    faults: (c) => [{ at: 'credly', match: credlyApps(c, 'GET'), fault: { kind: 'wrong-content-type' } }],
    says: /inspect failed: .*credly list-applications: 200 with a text\/html body instead of JSON/,
  },
  {
    name: 'oauth list applications: JSON array instead of an object',
    kind: 'credly-oauth',
    faults: (c) => [{ at: 'credly', match: credlyApps(c, 'GET'), fault: jsonAnswer(200, [madeUpApplication({ secret: null })]) }],
    says: /inspect failed: .*credly list-applications: 200 with an unexpected body \(at \(body\): invalid_type\)/,
  },
  {
    name: 'oauth create: no client secret in the answer',
    kind: 'credly-oauth',
    force: true,
    faults: (c) => [{ at: 'credly', match: credlyApps(c, 'POST'), fault: jsonAnswer(201, { data: madeUpApplication({ secret: null }), metadata: {} }) }],
    says: /create failed: .*credly create-application: the new application came without its client secret/,
  },
  {
    name: 'oauth create: null data',
    kind: 'credly-oauth',
    force: true,
    faults: (c) => [{ at: 'credly', match: credlyApps(c, 'POST'), fault: jsonAnswer(201, { data: null, metadata: {} }) }],
    says: /create failed: .*credly create-application: 201 with an unexpected body \(at data: invalid_type\)/,
  },
  {
    name: 'oauth create: application id a string',
    kind: 'credly-oauth',
    force: true,
    faults: (c) => [
      { at: 'credly', match: credlyApps(c, 'POST'), fault: jsonAnswer(201, { data: madeUpApplication({ id: 'four-one-oh-one' }), metadata: {} }) },
    ],
    says: /create failed: .*credly create-application: 201 with an unexpected body \(at data\.id: invalid_type\)/,
  },
  // Degreed: token endpoint and probe
  {
    name: 'degreed grant: HTML error page with 200',
    kind: 'degreed',
    faults: () => [{ at: 'degreed', match: degreedGrant, fault: { kind: 'wrong-content-type' } }],
    says: /provider-unavailable: .*degreed token-grant: 200 with a text\/html body instead of JSON/,
  },
  {
    name: 'degreed grant: expires_in negative',
    kind: 'degreed',
    faults: () => [
      {
        at: 'degreed',
        match: degreedGrant,
        fault: jsonAnswer(200, {
          access_token: 'degreedaccess_madeup000000',
          token_type: 'bearer',
          expires_in: -1,
          refresh_token: 'degreedrefresh_madeup0000',
        }),
      },
    ],
    says: /provider-unavailable: .*degreed token-grant: 200 with an unexpected body \(at expires_in: too_small\)/,
  },
  {
    name: 'degreed grant: access_token a number',
    kind: 'degreed',
    faults: () => [{ at: 'degreed', match: degreedGrant, fault: jsonAnswer(200, { access_token: 1234567890, token_type: 'bearer', expires_in: 300 }) }],
    says: /provider-unavailable: .*degreed token-grant: 200 with an unexpected body \(at access_token: invalid_type\)/,
  },
  {
    name: 'degreed grant: 307 redirect to another host',
    kind: 'degreed',
    faults: (c) => [{ at: 'degreed', match: degreedGrant, fault: { kind: 'redirect', status: 307, location: `${c.elsewhere}/oauth/token` } }],
    says: /misconfiguration: .*degreed token-grant: .*redirect/,
  },
  {
    name: 'degreed probe: JSON array instead of an object',
    kind: 'degreed',
    faults: () => [{ at: 'degreed', match: degreedProbe, fault: jsonAnswer(200, [{ id: 'user-1' }]) }],
    says: /provider-unavailable: .*degreed probe: 200 with an unexpected body \(at \(body\): invalid_type\)/,
  },
  {
    name: 'degreed probe: HTML error page with 502',
    kind: 'degreed',
    faults: () => [{ at: 'degreed', match: degreedProbe, fault: html(502) }],
    says: /provider-unavailable: .*degreed probe: 502 Bad Gateway/,
  },
  // Learn.link: token endpoint and probe
  {
    name: 'learnlink grant: empty body with 200',
    kind: 'learnlink',
    faults: (c) => [{ at: 'learnlink', match: learnlinkGrant(c), fault: rawJson(200, '') }],
    says: /provider-unavailable: .*learnlink token-grant: 200 with a body that is not valid JSON/,
  },
  {
    name: 'learnlink grant: null body',
    kind: 'learnlink',
    faults: (c) => [{ at: 'learnlink', match: learnlinkGrant(c), fault: rawJson(200, 'null') }],
    says: /provider-unavailable: .*learnlink token-grant: 200 with an unexpected body \(at \(body\): invalid_type\)/,
  },
  {
    name: 'learnlink grant: expires_in negative',
    kind: 'learnlink',
    faults: (c) => [
      {
        at: 'learnlink',
        match: learnlinkGrant(c),
        fault: jsonAnswer(200, { access_token: 'eyJmYWtlIjp0cnVlfQ.e30.madeup', token_type: 'Bearer', expires_in: -3600, scope: 'api/read' }),
      },
    ],
    says: /provider-unavailable: .*learnlink token-grant: 200 with an unexpected body \(at expires_in: too_small\)/,
  },
  {
    name: 'learnlink grant: huge JSON body (several MB) with 502',
    kind: 'learnlink',
    faults: (c) => [{ at: 'learnlink', match: learnlinkGrant(c), fault: rawJson(502, HUGE_JSON) }],
    says: /provider-unavailable: .*learnlink token-grant: 502 Bad Gateway/,
  },
  {
    name: 'learnlink probe: 302 redirect to another host',
    kind: 'learnlink',
    faults: (c) => [{ at: 'learnlink', match: learnlinkProbe, fault: { kind: 'redirect', status: 302, location: `${c.elsewhere}/rest/v1/users` } }],
    says: /misconfiguration: .*learnlink probe: .*redirect/,
  },
  {
    name: 'learnlink probe: results null',
    kind: 'learnlink',
    faults: () => [{ at: 'learnlink', match: learnlinkProbe, fault: jsonAnswer(200, { results: null, totalResults: 0, totalPages: 0, page: 1, perPage: 1 }) }],
    says: /provider-unavailable: .*learnlink probe: 200 with an unexpected body \(at results: invalid_type\)/,
  },
];

/** A failure reason the rotator classified: a provider error, a protocol error, or a validation class. */
const CLASSIFIED =
  /(Provider(Unavailable|Request|Auth|Answer)Error|CredentialNotListedError|SecretFormatError|MissingScopesError|RefusedRevokeError|^(ValidationError: )?(provider-unavailable|invalid-credential|missing-scope|misconfiguration): )/;
/** What an unclassified failure looks like: a runtime error escaping, or an object printed as text. */
const UNCLASSIFIED = /\b(TypeError|ReferenceError|SyntaxError|RangeError)\b|Cannot read|is not a function|\[object Object\]|\bundefined\b/;

/** Arranges one case's credential at the fakes and in Secrets Manager. */
async function arrange(
  kind: Kind,
  n: number,
  run: string,
  fakes: { credly: CredlyFake; degreed: DegreedFake; learnlink: LearnlinkFake },
  store: SecretStore,
): Promise<Fixture> {
  const credentialId = `c${n}-${kind}`;
  const secretId = `soak/bad-answers/${run}/${n}`;
  const { credly, degreed, learnlink } = fakes;
  const put = async (value: unknown) => {
    const text = JSON.stringify(value);
    await store.putCurrent(secretId, text);
    return text;
  };
  switch (kind) {
    case 'credly-token': {
      const organizationId = credly.state.addOrganization(`Org ${run}-${n}`);
      const token = credly.state.addToken(organizationId, { description: 'LMS integration (made by hand)', createdAt: new Date(Date.now() - 170 * DAY_MS) });
      const original = await put({ token: token.token, tokenId: token.id });
      const inventory = `  - id: ${credentialId}
    kind: credly-authorization-token
    secretId: ${secretId}
    organizationId: ${organizationId}
    environment: sandbox
    testWithOrganizationEndpoint: true
    endpoints: { apiBase: "${credly.apiBase}" }
`;
      return { kind, credentialId, secretId, original, inventory, organizationId, token, secrets: [token.token] };
    }
    case 'credly-oauth': {
      const organizationId = credly.state.addOrganization(`Org ${run}-${n}`);
      const manager = credly.state.addToken(organizationId, { description: 'management token (by hand)' });
      const app = credly.state.addApplication(organizationId, { name: 'LMS badge sync' });
      const managerSecret = `${secretId}/manager`;
      await store.putCurrent(managerSecret, JSON.stringify({ token: manager.token, tokenId: manager.id }));
      const original = await put({ clientId: app.uid, clientSecret: app.secret, applicationId: app.id });
      const inventory = `  - id: ${credentialId}-manager
    kind: credly-authorization-token
    secretId: ${managerSecret}
    organizationId: ${organizationId}
    environment: sandbox
    endpoints: { apiBase: "${credly.apiBase}" }
  - id: ${credentialId}
    kind: credly-oauth-application
    secretId: ${secretId}
    organizationId: ${organizationId}
    environment: sandbox
    managedBy: ${credentialId}-manager
    applicationName: LMS badge sync
    scopes: [issued_badges, badge_templates]
    recreateEvery: 30d
    endpoints: { apiBase: "${credly.apiBase}", tokenUrl: "${credly.tokenUrl}" }
`;
      return { kind, credentialId, secretId, original, inventory, organizationId, app, secrets: [manager.token, app.secret] };
    }
    case 'degreed': {
      const client = degreed.state.addClient();
      const original = await put(client);
      const inventory = `  - id: ${credentialId}
    kind: degreed-client-credentials
    secretId: ${secretId}
    environment: production
    dataCenter: EU
    scopes: [users:read, content:read]
    probe: true
    logoutPath: /oauth/logout
    endpoints: { tokenUrl: "${degreed.tokenUrl}", apiBase: "${degreed.apiBase}" }
`;
      return { kind, credentialId, secretId, original, inventory, organizationId: '', secrets: [client.clientSecret] };
    }
    case 'learnlink': {
      const tenant = learnlink.state.addTenant();
      const original = await put({ clientSecret: tenant.clientSecret });
      const inventory = `  - id: ${credentialId}
    kind: learnlink-client-credentials
    secretId: ${secretId}
    tenantId: ${tenant.tenantId}
    environment: production
    audience: api
    scopes: [api/read]
    probe: true
    endpoints: { tokenUrl: "${learnlink.tokenUrl.api}", apiBase: "${learnlink.apiBase}" }
`;
      return { kind, credentialId, secretId, original, inventory, organizationId: tenant.tenantId, secrets: [tenant.clientSecret] };
    }
  }
}

/** Every secret value the fakes know of: tokens, client secrets, access and refresh tokens. */
function knownSecrets(fakes: { credly: CredlyFake; degreed: DegreedFake; learnlink: LearnlinkFake }): string[] {
  const { credly, degreed, learnlink } = fakes;
  return [
    ...credly.state.tokens().map((t) => t.token),
    ...credly.state.applications().map((a) => a.secret),
    ...credly.state.liveAccessTokens().map((a) => a.value),
    ...degreed.state.clients().map((c) => c.clientSecret),
    ...degreed.state.issuedAccessTokens().flatMap((t) => [t.value, t.refreshToken]),
    ...learnlink.state.tenants().map((t) => t.clientSecret),
    ...learnlink.state.issuedAccessTokens().map((t) => t.value),
  ];
}

/**
 * What Secrets Manager holds after a case, or why it is wrong: AWSCURRENT still the original value
 * (or, after promotion, a new working token, with the original as AWSPREVIOUS unless its revoke took
 * the label off), and any AWSPENDING
 * a credential the provider really issued to this organization — never a value from a bad answer.
 */
async function storedProblem(store: SecretStore, f: Fixture, after: 'old' | 'promoted', credly: CredlyFake): Promise<string | undefined> {
  const versions = await store.listVersions(f.secretId);
  const current = await store.readCurrent(f.secretId);
  const liveToken = (value: string) => credly.state.liveTokens(f.organizationId).some((t) => t.token === value);
  if (after === 'old' && current.secretString !== f.original) return 'AWSCURRENT changed';
  if (after === 'promoted') {
    const token = parseSecretValue('credly-authorization-token', current.secretString).token;
    if (token === f.token?.token || !liveToken(token)) return 'AWSCURRENT is not a new working token';
    // The original stays AWSPREVIOUS until its revoke, which takes the label off first.
    const previous = versions.find((v) => v.stages.includes('AWSPREVIOUS'));
    if (previous && (await store.readVersion(f.secretId, previous.versionId)).secretString !== f.original) return 'AWSPREVIOUS is not the original';
  }
  for (const v of versions.filter((x) => x.stages.includes('AWSPENDING'))) {
    const value = (await store.readVersion(f.secretId, v.versionId)).secretString;
    if (f.kind === 'credly-token') {
      const token = parseSecretValue('credly-authorization-token', value).token;
      if (token === f.token?.token || !liveToken(token)) return 'AWSPENDING holds a token Credly did not issue anew';
    } else if (f.kind === 'credly-oauth') {
      const app = parseSecretValue('credly-oauth-application', value);
      const real = credly.state.findApplication(f.organizationId, app.applicationId);
      if (!real || app.applicationId === f.app?.id || !credly.state.isClientValid(app.clientId, app.clientSecret))
        return 'AWSPENDING holds an application Credly did not create';
    } else {
      return 'a validated credential got a pending version';
    }
  }
  if ((f.kind === 'degreed' || f.kind === 'learnlink') && versions.length !== 1) return 'a validated credential got another version';
  return undefined;
}

function addFault(fakes: { credly: CredlyFake; degreed: DegreedFake; learnlink: LearnlinkFake }, at: Where, rule: FaultRule): void {
  // Each fake types its own host names; the matches above name the right ones for their fake.
  if (at === 'credly') fakes.credly.faults.add(rule as FaultRule<'api' | 'web'>);
  else if (at === 'degreed') fakes.degreed.faults.add(rule as FaultRule<'token' | 'api'>);
  else fakes.learnlink.faults.add(rule as FaultRule<'public' | 'user'>);
}

/** Fisher–Yates with the run's seed: the same seed, the same order. */
function shuffled<T>(items: T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Issue 9, item 5: a corpus of malformed and hostile provider answers across every provider call
 * of the four credential kinds, each run through the in-process worker against the fakes over HTTP
 * and the Secrets Manager emulator. Each must end in a classified failure that names what is wrong,
 * with the old working value still AWSCURRENT, nothing bad stored, no crash and no secret in the text.
 * `full` runs the corpus three times in seeded orders.
 */
export const badAnswers: SoakScenario = async (ctx) => {
  const rounds = ctx.scale === 'full' ? 3 : 1;
  const run = randomUUID().slice(0, 8);
  const [credly, degreed, learnlink] = await Promise.all([startCredlyFake(), startDegreedFake(), startLearnlinkFake()]);
  const fakes = { credly, degreed, learnlink };
  // "Another host": a listener of our own on loopback, so a followed redirect would show here.
  let reachedElsewhere = 0;
  const catcher = createServer((_req, res) => {
    reachedElsewhere += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"data": []}');
  });
  await new Promise<void>((resolve) => catcher.listen(0, '127.0.0.1', resolve));
  const address = catcher.address();
  const elsewhere = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 9}`;
  const setupStore = createSecretStore(createSecretsManagerClient());

  const planned = Array.from({ length: rounds }, (_, round) => shuffled(CASES, ctx.seed + round)).flat();
  const fixtures: Fixture[] = [];
  for (const [n, c] of planned.entries()) fixtures.push(await arrange(c.kind, n, run, fakes, setupStore));
  const worker = await startSoakWorker(
    `version: 1\ndefaults:\n  revokePreviousAfter: 0s\n  forceCooldown: 0s\ncredentials:\n${fixtures.map((f) => f.inventory).join('')}`,
  );

  const failures = { unclassified: [] as string[], badStored: [] as string[], leaked: [] as string[], hung: [] as string[] };
  let classified = 0;
  try {
    for (const [n, c] of planned.entries()) {
      const f = fixtures[n]!;
      const caseCtx: Ctx = { f, credly, elsewhere };
      for (const { at, match, fault } of c.faults(caseCtx)) addFault(fakes, at, { match, fault, times: Infinity });
      const crashesBefore = worker.crashes.length;
      const logsBefore = worker.logs.length;
      const result = await worker.run(f.credentialId, { force: c.force ?? false });
      for (const fake of Object.values(fakes)) fake.faults.clear();
      const reason = result.reason ?? '';
      // One line per case on request (SOAK_VERBOSE=1); misses are in the rows' detail anyway.
      if (process.env.SOAK_VERBOSE) ctx.log(`${SCENARIO}: ${c.name}: ${result.state}${reason ? ` — ${reason.slice(0, 200)}` : ''}`);

      if (result.state === 'hung') failures.hung.push(`${c.name}: no end within 30 s`);
      for (const crash of worker.crashes.slice(crashesBefore)) failures.hung.push(`${c.name}: ${crash}`);
      if (result.state === 'failed' && c.says.test(reason) && CLASSIFIED.test(reason) && !UNCLASSIFIED.test(reason)) classified += 1;
      else failures.unclassified.push(`${c.name} (${result.state}: ${(reason || result.outcome?.summary || '').slice(0, 160)})`);
      const problem = await storedProblem(worker.store, f, c.after ?? 'old', credly).catch(
        (error: unknown) => `cannot read the secret: ${(error as Error).name}`,
      );
      if (problem) failures.badStored.push(`${c.name}: ${problem}`);
      const text = `${reason}\n${worker.logs.slice(logsBefore).join('\n')}`;
      if ([...f.secrets, ...knownSecrets(fakes)].some((s) => s.length >= 8 && text.includes(s))) failures.leaked.push(c.name);
    }
  } finally {
    await worker.close();
    await Promise.all([credly.close(), degreed.close(), learnlink.close(), new Promise<void>((resolve) => catcher.close(() => resolve()))]);
  }

  const total = planned.length;
  const kinds = new Set(planned.map((c) => c.kind)).size;
  const list = (names: string[]) => names.slice(0, 6).join('; ') + (names.length > 6 ? `; and ${names.length - 6} more` : '');
  const rows: SoakRow[] = [
    { scenario: SCENARIO, figure: 'cases run', value: String(total), target: '≥ 20', ok: total >= 20 },
    countRow(SCENARIO, 'credential kinds covered', kinds, 4),
    countRow(SCENARIO, 'cases ending in a classified failure', classified, total, list(failures.unclassified)),
    countRow(SCENARIO, 'bad values stored', failures.badStored.length, 0, list(failures.badStored)),
    countRow(SCENARIO, 'crashes', failures.hung.length, 0, list(failures.hung)),
    countRow(SCENARIO, 'secrets in error text', failures.leaked.length, 0, list(failures.leaked)),
    countRow(SCENARIO, 'requests that reached another host', reachedElsewhere, 0, 'a redirect or next_page_url was followed'),
  ];
  return rows;
};
