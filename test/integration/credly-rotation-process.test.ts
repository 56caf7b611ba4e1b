import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobOutcome } from '../../jobs/index.ts';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import { startCredlyFake, type CredlyFake } from '../fakes/credly.fake.ts';
import { dumpRedis } from '../support/redis-dump.ts';
import { startSmProxy, type SmProxy } from '../support/sm-proxy.ts';
import { processTracker } from '../support/processes.ts';
import { spawnRotator } from '../support/worker-process.ts';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'rotator-credly-'));
const store = createSecretStore(createSecretsManagerClient());
let fake: CredlyFake;
let sm: SmProxy;
let redis: Redis;
const processes = processTracker();

beforeAll(async () => {
  fake = await startCredlyFake();
  sm = await startSmProxy(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!);
  redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
});
afterEach(async () => {
  fake.faults.clear();
  sm.clear();
  await processes.stopAll();
});
afterAll(async () => {
  await fake.close();
  await sm.close();
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** A Credly-token credential due for rotation, its inventory file and the environment of its processes. */
async function setup() {
  const run = randomUUID().slice(0, 8);
  const credentialId = `credly-${run}`;
  const secretId = `test/process/${run}`;
  const organizationId = fake.state.addOrganization(`Org ${run}`);
  const original = fake.state.addToken(organizationId, { description: 'made by hand', createdAt: new Date(Date.now() - 165 * DAY) });
  await store.putCurrent(secretId, JSON.stringify({ token: original.token, tokenId: original.id }));
  const configPath = join(dir, `${run}.yaml`);
  writeFileSync(
    configPath,
    `version: 1
credentials:
  - id: ${credentialId}
    kind: credly-authorization-token
    secretId: ${secretId}
    organizationId: ${organizationId}
    environment: production
    endpoints: { apiBase: "${fake.apiBase}" }
`,
  );
  const prefix = `{proc-${run}}`;
  const env = {
    ROTATOR_CONFIG: configPath,
    ROTATOR_QUEUE_PREFIX: prefix,
    ROTATOR_LOCK_DURATION: '5s',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
    LOG_LEVEL: 'debug',
  };
  const spawn = (args: string[]) => {
    const p = spawnRotator(args, env);
    processes.track(p);
    return p;
  };
  const startWorker = async () => {
    const worker = spawn(['worker']);
    await worker.waitForLog('worker: started');
    return worker;
  };
  const current = async () => parseSecretValue('credly-authorization-token', (await store.readCurrent(secretId)).secretString);
  const rotatorTokens = () => fake.state.tokens(organizationId).filter((t) => parseMarker(t.description)?.credentialId === credentialId);

  /** One rotation reached its end: new token current and working, old one revoked and in no stage, nothing pending, no orphan. */
  const expectOneRotation = async () => {
    const now = await current();
    expect(now.token).not.toBe(original.token);
    expect(fake.state.isTokenValid(now.token)).toBe(true);
    expect(fake.state.isTokenValid(original.token)).toBe(false);
    expect(rotatorTokens().map((t) => t.id)).toEqual([now.tokenId]);
    const versions = await store.listVersions(secretId, { includeDeprecated: true });
    // The revoked token is in no stage (its AWSPREVIOUS label went first), and still in the history.
    expect(versions.filter((v) => v.stages.length > 0).map((v) => v.stages)).toEqual([['AWSCURRENT']]);
    const values = await Promise.all(versions.map(async (v) => (await store.readVersion(secretId, v.versionId)).secretString));
    expect(values.some((v) => parseSecretValue('credly-authorization-token', v).token === original.token)).toBe(true);
  };
  const expectNoSecretsIn = async (...outputs: string[]) => {
    const { text } = await dumpRedis(redis, `${prefix}*`);
    const values = fake.state.tokens(organizationId).map((t) => t.token);
    for (const value of values) {
      expect(text.includes(value), 'a token value is in Redis').toBe(false);
      for (const output of outputs) expect(output.includes(value), 'a token value is in a log').toBe(false);
    }
  };
  return { credentialId, secretId, organizationId, original, prefix, spawn, startWorker, current, expectOneRotation, expectNoSecretsIn };
}

describe('rotator trigger --wait, with the worker in its own process', () => {
  it('rotates a due token end to end and exits 0; a token not due is skipped with its reason; --force rotates it anyway', async () => {
    const t = await setup();
    const worker = await t.startWorker();

    const trigger = t.spawn(['trigger', t.credentialId, '--wait', '--timeout', '60']);
    expect((await trigger.exited).code, trigger.output()).toBe(0);
    expect(trigger.output()).toMatch(new RegExp(`${t.credentialId}: success — rotated: new credential .* previous ${t.original.id}: revoked`));
    await t.expectOneRotation();
    const first = await t.current();

    const again = t.spawn(['trigger', t.credentialId, '--wait']);
    expect((await again.exited).code).toBe(0);
    expect(again.output()).toContain(`${t.credentialId}: skipped — not due: expires in 179 day(s) (rotate within 30d)`);
    expect((await t.current()).token).toBe(first.token);

    const forced = t.spawn(['trigger', t.credentialId, '--force', '--wait', '--json']);
    expect((await forced.exited).code).toBe(0);
    const answer = JSON.parse(forced.output()) as { state: string; outcome: JobOutcome };
    expect(answer).toMatchObject({ state: 'completed', outcome: { status: 'success', action: 'rotated', previousState: 'revoked' } });
    expect((await t.current()).token).not.toBe(first.token);
    expect(fake.state.isTokenValid(first.token)).toBe(false);

    const check = t.spawn(['check', t.credentialId]);
    expect((await check.exited).code, check.output()).toBe(0);
    expect(check.output()).toContain('token accepted by Credly, 179 days to expiry; not due: expires in 179 day(s) (rotate within 30d)');

    const status = t.spawn(['status', '--json']);
    expect((await status.exited).code, status.output()).toBe(0);
    const view = JSON.parse(status.output()) as { credentials: Array<Record<string, unknown>>; queue: Record<string, number> };
    expect(view.credentials).toEqual([
      expect.objectContaining({ id: t.credentialId, state: 'ok', lastResult: 'rotated', daysToExpiry: 179, previousState: 'revoked', nextRunAt: expect.stringMatching(/T03:00:00.000Z$/) }),
    ]);
    expect(view.queue).toMatchObject({ active: 0, failed: 0 });
    const table = t.spawn(['status']);
    expect((await table.exited).code).toBe(0);
    expect(table.output()).toMatch(new RegExp(`${t.credentialId}\\s+credly-authorization-token\\s+ok\\s+rotated\\s+\\S+\\s+179 days`));

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    await t.expectNoSecretsIn(worker.output(), trigger.output(), again.output(), forced.output(), check.output(), status.output());
  });

  it('exits 1 with the failure when the rotation fails, and 2 for an unknown credential', async () => {
    const t = await setup();
    fake.state.killToken(t.original.id);
    await t.startWorker();
    const trigger = t.spawn(['trigger', t.credentialId, '--wait']);
    expect((await trigger.exited).code).toBe(1);
    expect(trigger.output()).toContain('refused by Credly (401)');
    const unknown = t.spawn(['trigger', 'no-such-credential']);
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.output()).toContain('unknown credential id "no-such-credential"');
  });
});

/** Holds a Credly request (after letting `skip` matching ones through) until the worker is killed; resolves once it has arrived. */
function holdCredly(method: string, path: RegExp, skip = 0): Promise<void> {
  const before = fake.requests.length;
  fake.faults.add({ match: { method, path, server: 'api' }, skip, fault: { kind: 'hang', ms: 60_000 } });
  return expect.poll(() => fake.requests.slice(before).filter((r) => r.method === method && path.test(r.path)).length, { timeout: 20_000 }).toBeGreaterThan(skip);
}
/** Holds a Secrets Manager operation (after letting `skip` of them through); resolves once the held one has arrived. */
function holdSecretsManager(operation: string, skip = 0): Promise<void> {
  const before = sm.seen.filter((o) => o === operation).length;
  sm.add({ operation, skip, fault: { kind: 'hang' } });
  return expect.poll(() => sm.seen.filter((o) => o === operation).length - before, { timeout: 20_000 }).toBeGreaterThan(skip);
}

const CRASH_POINTS: Array<{ name: string; hold: () => Promise<void> }> = [
  { name: 'after create (the store is held)', hold: () => holdSecretsManager('PutSecretValue') },
  // The test is the new token listing the tokens: the third listing, after inspect's and the reaper's.
  { name: 'after store (the test is held)', hold: () => holdCredly('GET', /\/authorization_tokens$/, 2) },
  { name: 'after test (the promotion is held)', hold: () => holdSecretsManager('UpdateSecretVersionStage') },
  { name: 'after promote (the pending label removal is held)', hold: () => holdSecretsManager('UpdateSecretVersionStage', 1) },
  { name: 'before revoke (the DELETE is held)', hold: () => holdCredly('DELETE', /\/authorization_tokens\/[^/]+$/) },
];

describe('crash injection: the worker is killed (SIGKILL) mid-rotation and a new worker takes over', () => {
  it.each(CRASH_POINTS)('$name', async ({ hold }) => {
    const t = await setup();
    const first = await t.startWorker();
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: t.prefix });
    const eventsConnection = redis.duplicate();
    const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix: t.prefix });
    await events.waitUntilReady();
    try {
      const held = hold();
      const job = await queue.add('check-credential', { credentialId: t.credentialId, trigger: 'manual' }, { attempts: 5, backoff: { type: 'fixed', delay: 200 } });
      await held;
      first.child.kill('SIGKILL');
      await first.exited;
      sm.clear();
      fake.faults.clear();
      // The old token still works whatever step was interrupted, or the new one is already current.
      expect(fake.state.isTokenValid((await t.current()).token)).toBe(true);

      const second = await t.startWorker();
      const outcome = (await job.waitUntilFinished(events, 30_000)) as JobOutcome;
      expect(outcome).toMatchObject({ status: 'success', action: 'rotated' });
      await t.expectOneRotation();
      expect(second.output()).toContain('rotation: resuming');
      await t.expectNoSecretsIn(first.output(), second.output());
    } finally {
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      eventsConnection.disconnect();
    }
  });
});

describe('crash injection on an OAuth application recreation', () => {
  it('a worker killed right after create: a new worker takes over, exactly one new application survives, the unstored one is reaped', async () => {
    const run = randomUUID().slice(0, 8);
    const org = fake.state.addOrganization(`Org ${run}`);
    const manager = fake.state.addToken(org, { description: 'management token (by hand)' });
    const old = fake.state.createApplication(org, { name: 'LMS badge sync' });
    const secretIds = { token: `test/process/${run}/token`, app: `test/process/${run}/app` };
    await store.putCurrent(secretIds.token, JSON.stringify({ token: manager.token }));
    // The stored secret is refused: the application must be recreated.
    await store.putCurrent(secretIds.app, JSON.stringify({ clientId: old.uid, clientSecret: 'credlysecret_lost', applicationId: old.id }));
    const configPath = join(dir, `${run}-app.yaml`);
    writeFileSync(
      configPath,
      `version: 1
credentials:
  - id: token-${run}
    kind: credly-authorization-token
    secretId: ${secretIds.token}
    organizationId: ${org}
    environment: production
    endpoints: { apiBase: "${fake.apiBase}" }
  - id: app-${run}
    kind: credly-oauth-application
    secretId: ${secretIds.app}
    organizationId: ${org}
    environment: production
    managedBy: token-${run}
    applicationName: LMS badge sync
    scopes: [issued_badges]
    endpoints: { apiBase: "${fake.apiBase}", tokenUrl: "${fake.tokenUrl}" }
`,
    );
    const prefix = `{proc-${run}}`;
    const env = { ROTATOR_CONFIG: configPath, ROTATOR_QUEUE_PREFIX: prefix, ROTATOR_LOCK_DURATION: '5s', AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url, LOG_LEVEL: 'debug' };
    const startWorker = async () => {
      const worker = spawnRotator(['worker'], env);
      processes.track(worker);
      await worker.waitForLog('worker: started');
      return worker;
    };
    const first = await startWorker();
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
    const eventsConnection = redis.duplicate();
    const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix });
    await events.waitUntilReady();
    try {
      const held = holdSecretsManager('PutSecretValue');
      const job = await queue.add('check-credential', { credentialId: `app-${run}`, trigger: 'manual' }, { attempts: 5, backoff: { type: 'fixed', delay: 200 } });
      await held;
      first.child.kill('SIGKILL');
      await first.exited;
      sm.clear();
      // Created, never stored: its secret is gone for good.
      const unstored = fake.state.applications(org).filter((a) => parseMarker(a.description)?.credentialId === `app-${run}`);
      expect(unstored).toHaveLength(1);

      const second = await startWorker();
      const outcome = (await job.waitUntilFinished(events, 30_000)) as JobOutcome;
      expect(outcome).toMatchObject({ status: 'success', action: 'rotated', previousState: 'revoked' });
      const now = parseSecretValue('credly-oauth-application', (await store.readCurrent(secretIds.app)).secretString);
      expect(fake.state.isClientValid(now.clientId, now.clientSecret)).toBe(true);
      expect(fake.state.applications(org).map((a) => a.id)).toEqual([now.applicationId]);
      expect(now.applicationId).not.toBe(unstored[0]!.id);
      const { text } = await dumpRedis(redis, `${prefix}*`);
      const logs = first.output() + second.output();
      for (const value of [manager.token, old.secret, now.clientSecret, unstored[0]!.secret]) {
        expect(text.includes(value)).toBe(false);
        expect(logs.includes(value)).toBe(false);
      }
    } finally {
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      eventsConnection.disconnect();
    }
  });
});
