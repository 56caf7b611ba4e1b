import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type ManagedProcess } from '../../scripts/local-services.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { createBasicAuth } from '../../src/http/basic-auth.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { startOpsServer, type OpsServer } from '../../src/http/ops-server.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createQueue } from '../../src/queue/producer.ts';
import { createRotationStateStore } from '../../src/state/rotation-state.ts';
import { PREVIOUS_STATE_CLASSES, previousStateText, UNKNOWN_PREVIOUS_STATE } from '../../src/rotation/previous-state.ts';
import { collectStatus, type CredentialView, type StatusView } from '../../src/status/collect.ts';
import { cachedStatus, lastKnownStatus } from '../../src/status/public-view.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, useScenarios, type WorkerProcess } from '../support/scenario.ts';

const dir = mkdtempSync(join(tmpdir(), 'rotator-exposure-'));
const prefix = '{exposure}';
const USER = 'ops';
const PASSWORD = 'a-long-dashboard-password';
/** What an AWS or provider message carries that a passer-by must not read. */
const INTERNALS = 'arn:aws:iam::123456789012:role/credential-rotator is not authorized to perform secretsmanager:GetSecretValue on prod/credly/main';
/** What a gateway in front of a provider answers when it refuses a call: `{"message": …}` naming its role and account. */
const GATEWAY_MESSAGE =
  'User: arn:aws:iam::123456789012:role/x is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:k7x/prod/DELETE/organizations';
const REVOKE_FAILED = previousStateText.revokeFailed(`revoke: credly delete-token: 403 Forbidden — credly says: ${GATEWAY_MESSAGE}`);
const KEPT = previousStateText.kept('AWSPREVIOUS of prod/credly/eu holds it');
/** Parts of those texts no one without the dashboard's credentials may read. */
const SECRET_PARTS = [
  'arn:aws',
  '123456789012',
  'role/x',
  'role/credential-rotator',
  'execute-api',
  'not authorized',
  'prod/credly',
  'tenant acme',
  'AWSCURRENT',
  'AWSPREVIOUS',
];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PREVIOUS_CLASS = new RegExp(`^(${[...PREVIOUS_STATE_CLASSES, UNKNOWN_PREVIOUS_STATE].join('|')})$`);
/**
 * What each field of a credential's public view may hold: an id, a state, a class, a date or a
 * figure, or nothing at all. The compiler asks for every field of CredentialView here, so a field
 * added to the view is judged here before it reaches anyone.
 */
const PUBLIC_FIELDS = {
  id: /^[a-z0-9][a-z0-9-]*$/,
  kind: /^[a-z][a-z-]*$/,
  state: /^(ok|failing|unknown|rotating \([a-z-]+\))$/,
  lastResult: /^[a-z][a-z-]*$/,
  lastSummary: 'never',
  errorClass: /^([A-Z][A-Za-z]*|[a-z][a-z-]*)$/,
  lastCheckAt: ISO,
  lastSuccessAt: ISO,
  expiresAt: ISO,
  daysToExpiry: 'integer',
  lastRotatedAt: ISO,
  previousState: PREVIOUS_CLASS,
  previousStateClass: PREVIOUS_CLASS,
  // Provider ids of replaced credentials (Credly token UUIDs, OAuth application ids): to revoke by hand.
  unrevoked: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  // Provider ids of credentials the secret names that are not provably its own: for a person to check.
  unproven: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  // Provider ids of credentials the rotator made and leaves for a person: never reaped.
  leftAlone: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  nextRunAt: ISO,
} satisfies Record<keyof CredentialView, RegExp | 'integer' | 'never'>;
/** The same for the view around them. */
const PUBLIC_VIEW_FIELDS = {
  generatedAt: ISO,
  credentials: 'list',
  queue: 'counts',
  // Whether the view was read just now or is the last one read while Redis does not answer, and when.
  redis: /^(reachable|unreachable)$/,
  readAt: ISO,
} satisfies Record<keyof StatusView, RegExp | 'list' | 'counts'>;
const inventory = parseInventory(`version: 1
credentials:
  - id: credly-main
    kind: credly-authorization-token
    secretId: prod/credly/main
    organizationId: 7c4e2f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6
    environment: production
  - id: degreed-us
    kind: degreed-client-credentials
    secretId: prod/degreed
    environment: production
    dataCenter: US
    scopes: [users:read]
  - id: credly-eu
    kind: credly-authorization-token
    secretId: prod/credly/eu
    organizationId: 00000000-0000-4000-8000-000000000001
    environment: production
`);

let redisServer: ManagedProcess;
let redis: Redis;
const servers: OpsServer[] = [];

/** An ops server over this file's own Redis, wired as the worker wires it. */
async function serve(options: { publicMessages?: boolean; ttlMs?: number } = {}) {
  const queue = createQueue(redis, prefix);
  const state = createRotationStateStore(redis, prefix);
  const read = cachedStatus(() => collectStatus({ credentials: inventory.credentials, state, queue }), options.ttlMs ?? 3_000);
  const status = lastKnownStatus(read, { connected: () => redis.status === 'ready' });
  const server = await startOpsServer({
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(read),
    runtime: {
      redis,
      status,
      auth: createBasicAuth({ user: USER, password: PASSWORD }),
      publicMessages: options.publicMessages ?? false,
    },
  });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/** GET from a chosen local address: the backoff is per client address. */
function getFrom(localAddress: string, url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function commandCalls(): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  return Object.fromEntries([...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

beforeAll(async () => {
  // A Redis of this file's own: its command counters see only this file's reads.
  redisServer = await startRedis(mkdtempSync(join(dir, 'redis-')));
  redis = new Redis(`redis://127.0.0.1:${redisServer.port}`, { maxRetriesPerRequest: null });
  const state = createRotationStateStore(redis, prefix);
  await state.updateStatus('credly-main', {
    lastResult: 'failed',
    lastErrorClass: 'SecretAccessDeniedError',
    lastSummary: INTERNALS,
    lastCheckAt: '2026-12-03T03:00:00.000Z',
    expiresAt: '2027-01-01T00:00:00.000Z',
    daysToExpiry: '29',
    lastRotatedAt: '2026-12-02T03:00:00.000Z',
    previousState: REVOKE_FAILED,
    unrevoked: '0d9f0000-0000-4000-8000-000000000001',
    unproven: '4107',
    leftAlone: '4108',
  });
  await state.updateStatus('degreed-us', {
    lastResult: 'invalid-credential',
    lastSummary: 'Degreed says: client 4f1e… of tenant acme refused',
    lastCheckAt: '2026-12-03T03:00:01.000Z',
  });
  await state.updateStatus('credly-eu', {
    lastResult: 'rotated',
    lastSummary: 'rotated: new credential in AWSCURRENT',
    lastCheckAt: '2026-12-03T03:00:02.000Z',
    lastErrorClass: 'ProviderAuthError',
    lastRotatedAt: '2026-12-03T03:00:02.000Z',
    previousState: KEPT,
  });
});
afterAll(async () => {
  for (const server of servers) await server.close();
  redis?.disconnect();
  await redisServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('/status and /status.json without secrets or internals', () => {
  it('show state, result, error class and dates to anyone, and the messages only with the dashboard’s credentials', async () => {
    const base = await serve();
    const anyone = (await (await fetch(`${base}/status.json`)).json()) as { credentials: Array<Record<string, unknown>> };
    expect(
      anyone.credentials.map(({ id, state, lastResult, errorClass, lastCheckAt, lastSummary }) => ({
        id,
        state,
        lastResult,
        errorClass,
        lastCheckAt,
        lastSummary,
      })),
    ).toEqual([
      {
        id: 'credly-main',
        state: 'failing',
        lastResult: 'failed',
        errorClass: 'SecretAccessDeniedError',
        lastCheckAt: '2026-12-03T03:00:00.000Z',
        lastSummary: null,
      },
      {
        id: 'degreed-us',
        state: 'failing',
        lastResult: 'invalid-credential',
        errorClass: 'invalid-credential',
        lastCheckAt: '2026-12-03T03:00:01.000Z',
        lastSummary: null,
      },
      // A class recorded by an earlier failure is not shown once the credential works again.
      { id: 'credly-eu', state: 'ok', lastResult: 'rotated', errorClass: null, lastCheckAt: '2026-12-03T03:00:02.000Z', lastSummary: null },
    ]);
    expect(anyone.credentials[0]).toMatchObject({ daysToExpiry: expect.any(Number), expiresAt: '2027-01-01T00:00:00.000Z' });
    const page = await (await fetch(`${base}/status`)).text();
    expect(page).toContain('SecretAccessDeniedError');
    for (const text of [JSON.stringify(anyone), page]) {
      for (const internal of SECRET_PARTS) expect(text).not.toContain(internal);
    }

    const auth = basic(USER, PASSWORD);
    const full = (await (await fetch(`${base}/status.json`, { headers: auth })).json()) as { credentials: Array<{ lastSummary: string | null }> };
    expect(full.credentials[0]!.lastSummary).toBe(INTERNALS);
    expect(await (await fetch(`${base}/status`, { headers: auth })).text()).toContain('not authorized to perform');
    const wrong = await fetch(`${base}/status.json`, { headers: basic(USER, 'not-the-password') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
  });

  it('carries in every field of the public view an id, a state, a class, a date or a figure, never a text', async () => {
    const base = await serve();
    const anyone = (await (await fetch(`${base}/status.json`)).json()) as Record<string, unknown>;
    expect(Object.keys(anyone).sort()).toEqual(Object.keys(PUBLIC_VIEW_FIELDS).sort());
    expect(anyone.generatedAt).toMatch(ISO);
    expect(anyone.redis).toMatch(PUBLIC_VIEW_FIELDS.redis);
    expect(anyone.readAt).toMatch(ISO);
    expect(Object.values(anyone.queue as Record<string, unknown>).every((n) => Number.isInteger(n))).toBe(true);
    const credentials = anyone.credentials as Array<Record<string, unknown>>;
    const seen = new Set<string>();
    for (const credential of credentials) {
      expect(Object.keys(credential).sort()).toEqual(Object.keys(PUBLIC_FIELDS).sort());
      for (const [field, shape] of Object.entries(PUBLIC_FIELDS)) {
        const value = credential[field];
        const where = `${String(credential.id)}.${field} = ${JSON.stringify(value)}`;
        if (shape === 'never') {
          expect(value, where).toBeNull();
          continue;
        }
        if (value === null || (Array.isArray(value) && value.length === 0)) continue;
        seen.add(field);
        if (shape === 'integer') expect(Number.isInteger(value), where).toBe(true);
        else for (const item of Array.isArray(value) ? value : [value]) expect(item, where).toMatch(shape);
      }
    }
    // Every field was seen with a value, so each shape above was really tried.
    expect([...seen].sort()).toEqual(
      Object.entries(PUBLIC_FIELDS)
        .filter(([, shape]) => shape !== 'never')
        .map(([field]) => field)
        .sort(),
    );
    expect(credentials.map((c) => [c.id, c.previousState, c.previousStateClass])).toEqual([
      ['credly-main', 'revoke-failed', 'revoke-failed'],
      ['degreed-us', null, null],
      ['credly-eu', 'kept', 'kept'],
    ]);

    // The dashboard's users read the texts behind the classes.
    const full = (await (await fetch(`${base}/status.json`, { headers: basic(USER, PASSWORD) })).json()) as { credentials: CredentialView[] };
    expect(full.credentials.map((c) => [c.previousState, c.previousStateClass])).toEqual([
      [REVOKE_FAILED, 'revoke-failed'],
      [null, null],
      [KEPT, 'kept'],
    ]);
  });

  it('shows the messages to anyone only when ROTATOR_STATUS_PUBLIC_MESSAGES turns them on', async () => {
    const base = await serve({ publicMessages: true });
    expect(await (await fetch(`${base}/status.json`)).text()).toContain('not authorized to perform');
  });

  it('reads Redis at most once per cache period however many requests come (300 requests → one read of every credential per 3 s)', async () => {
    const base = await serve({ ttlMs: 3_000 });
    // What one view costs Redis: the status hash and the rotation step of each credential.
    const queue = createQueue(redis, prefix);
    await redis.config('RESETSTAT');
    await collectStatus({ credentials: inventory.credentials, state: createRotationStateStore(redis, prefix), queue });
    const perView = (await commandCalls()).hgetall ?? 0;
    expect(perView).toBe(inventory.credentials.length);

    await redis.config('RESETSTAT');
    const started = Date.now();
    const paths = ['/status', '/status.json', '/metrics'];
    for (let wave = 0; wave < 10; wave += 1) {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => fetch(`${base}${paths[i % 3]}`).then(async (r) => (await r.arrayBuffer(), r.status))),
      );
      expect(answers.every((s) => s === 200)).toBe(true);
    }
    const elapsed = Date.now() - started;
    const reads = (await commandCalls()).hgetall ?? 0;
    const periods = Math.floor(elapsed / 3_000) + 1;
    expect(reads).toBeGreaterThanOrEqual(perView);
    expect(reads).toBeLessThanOrEqual(periods * perView);
  });
});

describe('the dashboard’s credentials', () => {
  it('slows a client after each failure, twice as long each time, in turn even in parallel, without slowing others', async () => {
    const base = await serve();
    const wrong = basic(USER, 'guess-number-one');
    const started = Date.now();
    for (let i = 0; i < 5; i += 1) expect(await getFrom('127.0.0.2', `${base}/status.json`, wrong)).toBe(401);
    // Waits of 0, 250, 250, 500 and 1000 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);

    // Two more in parallel take turns: the first waits 2 s, the second its own 4 s after that.
    const parallel = Date.now();
    const answers = await Promise.all(Array.from({ length: 2 }, () => getFrom('127.0.0.2', `${base}/status.json`, wrong)));
    expect(answers).toEqual([401, 401]);
    expect(Date.now() - parallel).toBeGreaterThanOrEqual(5_500);

    // Another client is not slowed, and the right credentials work at once there.
    const other = Date.now();
    expect(await getFrom('127.0.0.3', `${base}/status.json`, basic(USER, PASSWORD))).toBe(200);
    expect(await getFrom('127.0.0.3', `${base}/status.json`, basic('admin', PASSWORD))).toBe(401);
    expect(await getFrom('127.0.0.3', `${base}/status.json`)).toBe(200);
    expect(Date.now() - other).toBeLessThan(1_000);
  }, 30_000);

  it('compares digests: a password of any length, or none, is refused without an error', async () => {
    const auth = createBasicAuth({ user: USER, password: PASSWORD, baseDelayMs: 0 });
    const req = (header?: string) => ({ headers: header ? { authorization: header } : {}, socket: { remoteAddress: '127.0.0.9' } }) as never;
    expect(await auth.check(req())).toBe('none');
    expect(await auth.check(req(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`))).toBe('ok');
    for (const given of ['', ':', `${USER}:`, `${USER}:${PASSWORD}x`, `${USER}:${PASSWORD.slice(0, -1)}`, `${USER}:${'x'.repeat(10_000)}`, 'no colon at all']) {
      expect(await auth.check(req(`Basic ${Buffer.from(given).toString('base64')}`))).toBe('refused');
    }
    expect(await auth.check(req('Basic %%%not-base64'))).toBe('refused');
    expect(await auth.check(req('Bearer abc'))).toBe('none');
  });

  it('counts the attempts in flight: parallel guesses wait as long as sequential ones (turns 100, 200, 400, 800 ms, not 100, 200, 300, 400)', async () => {
    let clock = 1_000_000;
    const waits: number[] = [];
    const auth = createBasicAuth({
      user: USER,
      password: PASSWORD,
      baseDelayMs: 100,
      maxDelayMs: 60_000,
      maxQueueMs: 60_000,
      now: () => clock,
      sleep: async (ms) => void waits.push(ms),
    });
    const wrong = { headers: { authorization: `Basic ${Buffer.from(`${USER}:wrong`).toString('base64')}` }, socket: { remoteAddress: '127.0.0.7' } } as never;
    expect(await auth.check(wrong)).toBe('refused');
    // Four at once: each takes its turn after the ones still in flight, each of them counted as a failure.
    expect(await Promise.all(Array.from({ length: 4 }, () => auth.check(wrong)))).toEqual(['refused', 'refused', 'refused', 'refused']);
    expect(waits).toEqual([100, 200, 400, 800]);

    // One after the other, from a fresh client, the same four waits: parallelism gains a guesser nothing.
    waits.length = 0;
    const sequential = { ...(wrong as object), socket: { remoteAddress: '127.0.0.6' } } as never;
    expect(await auth.check(sequential)).toBe('refused');
    for (let i = 0; i < 4; i += 1) {
      const before = waits.length;
      expect(await auth.check(sequential)).toBe('refused');
      clock += waits[before] ?? 0;
    }
    expect(waits).toEqual([100, 100, 200, 400]);
    // The same client's parallel attempts, by failure count: the fifth and sixth take turns 800 and 1,600 ms after it.
    waits.length = 0;
    await Promise.all(Array.from({ length: 2 }, () => auth.check(sequential)));
    expect(waits).toEqual([800, 800 + 1_600]);
  });

  it('logs failed and throttled attempts with the client address, never what was sent, at most 30 lines a minute', async () => {
    const { logger, lines } = captureLogger();
    let clock = 5_000_000;
    const auth = createBasicAuth({ user: USER, password: PASSWORD, baseDelayMs: 0, logger, now: () => clock, sleep: async () => undefined });
    const attempt = (address: string, given: string) =>
      auth.check({ headers: { authorization: `Basic ${Buffer.from(given).toString('base64')}` }, socket: { remoteAddress: address } } as never);
    for (let i = 0; i < 50; i += 1) expect(await attempt('127.0.0.5', `${USER}:guess-${i}-${PASSWORD.slice(0, 8)}`)).toBe('refused');
    expect(await attempt('127.0.0.4', `${USER}:${PASSWORD}`)).toBe('ok');
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'ops: authentication failed');
    expect(logged).toHaveLength(30);
    expect(logged[0]).toMatchObject({ level: 'warn', client: '127.0.0.5', verdict: 'refused' });
    // A minute later the next line says how many were left out.
    clock += 60_000;
    expect(await attempt('127.0.0.5', `${USER}:again`)).toBe('refused');
    const next = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'ops: authentication failed');
    expect(next.at(-1)).toMatchObject({ client: '127.0.0.5', verdict: 'refused', notLogged: 20 });
    const text = lines.join('\n');
    for (const sent of ['guess-', PASSWORD, 'again', Buffer.from(`${USER}:again`).toString('base64')]) expect(text).not.toContain(sent);
  });

  it('throttles at once the attempts whose turn is too far away, instead of holding them open', async () => {
    const auth = createBasicAuth({ user: USER, password: PASSWORD, baseDelayMs: 100, maxQueueMs: 250 });
    const req = { headers: { authorization: `Basic ${Buffer.from(`${USER}:wrong`).toString('base64')}` }, socket: { remoteAddress: '127.0.0.8' } } as never;
    expect(await auth.check(req)).toBe('refused');
    const started = Date.now();
    // Turns 100 and 200 ms away are waited for; 300 ms and beyond are past the queue's end.
    expect(await Promise.all(Array.from({ length: 6 }, () => auth.check(req)))).toEqual([
      'refused',
      'refused',
      'throttled',
      'throttled',
      'throttled',
      'throttled',
    ]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('a revoke refused by a gateway, the worker in its own process', () => {
  const hosts = useFakeHosts({ credly: {} });
  const scenarios = useScenarios('exposure');

  it('shows anyone "revoke-failed" and nothing of the gateway’s answer; the dashboard’s users read the answer', async () => {
    const c = credlyToken(hosts.credly, { folder: 'exposure', ageDays: 170 });
    const password = `dash-${randomUUID()}`;
    const t = await scenarios.build({
      credentials: [c],
      env: { ROTATOR_DASHBOARD: 'on', ROTATOR_DASHBOARD_USER: USER, ROTATOR_DASHBOARD_PASSWORD: password },
      workers: 1,
    });
    const [worker] = t.workers as [WorkerProcess];
    const base = `http://127.0.0.1:${await worker.port()}`;
    // Every DELETE of a token is refused as an API gateway in front of Credly refuses it.
    hosts.credly.faults.add({
      match: { method: 'DELETE', path: '/authorization_tokens/', server: 'api' },
      times: Infinity,
      fault: { kind: 'status', status: 403, body: JSON.stringify({ message: GATEWAY_MESSAGE }), contentType: 'application/json' },
    });

    const trigger = t.spawn(['trigger', c.id, '--wait']);
    await trigger.exited;
    expect(
      hosts.credly.requests.some((r) => r.method === 'DELETE'),
      trigger.output(),
    ).toBe(true);

    const auth = basic(USER, password);
    const full = (await (await fetch(`${base}/status.json`, { headers: auth })).json()) as { credentials: CredentialView[] };
    expect(full.credentials).toEqual([expect.objectContaining({ id: c.id, previousStateClass: 'revoke-failed' })]);
    expect(full.credentials[0]!.previousState).toMatch(/^revoke failed: /);
    expect(full.credentials[0]!.previousState).toContain('arn:aws:iam::123456789012:role/x');
    expect(await (await fetch(`${base}/status`, { headers: auth })).text()).toContain('arn:aws:iam::123456789012:role/x');

    const anyone = (await (await fetch(`${base}/status.json`)).json()) as { credentials: CredentialView[] };
    expect(anyone.credentials).toEqual([
      expect.objectContaining({ id: c.id, previousState: 'revoke-failed', previousStateClass: 'revoke-failed', lastSummary: null }),
    ]);
    const texts = [JSON.stringify(anyone), await (await fetch(`${base}/status`)).text(), await (await fetch(`${base}/metrics`)).text()];
    for (const text of texts) for (const internal of SECRET_PARTS) expect(text).not.toContain(internal);
  }, 60_000);
});
