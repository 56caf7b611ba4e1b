import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobOutcome } from '../../jobs/index.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { createJobDependencies, createKinds } from '../../src/composition-root.ts';
import { parseMarker, rotatorDescription } from '../../src/kinds/credly/marker.ts';
import { enqueue } from '../../src/queue/producer.ts';
import { createRotatorWorker } from '../../src/queue/worker.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import { startCredlyFake, type CredlyFake } from '../fakes/credly.fake.ts';
import { CREDLY_APP_VARIANTS } from '../support/fake-variants.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { credlyApplication, credlyToken, inventoryYaml, runId, seedSecrets, store } from '../support/credentials.ts';
import { openJobQueue } from '../support/job-queue.ts';
import { operatorWrite } from '../support/operator.ts';
import { dumpRedis } from '../support/redis-dump.ts';
import { rotationOutcome } from '../support/job-outcome.ts';

let fake: CredlyFake;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  fake = await startCredlyFake();
});
afterEach(async () => {
  fake.faults.clear();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(async () => fake.close());

interface Setup {
  /** What the application's secret holds at start: the working one, a wrong secret, `{}`, or no secret at all. */
  secret?: 'working' | 'wrong' | 'empty' | 'none';
  /** Scopes the existing application may be granted. */
  appScopes?: string[];
  extra?: string;
  /** The managing token is rotated (by its own job) right after the application's job read it the n-th time. */
  managerRotatesAfterRead?: number;
  /** Another fake (a variant) instead of the suite's. */
  on?: CredlyFake;
}

async function setup(options: Setup = {}) {
  const credly = options.on ?? fake;
  const run = runId();
  const managerCredential = credlyToken(credly, {
    run,
    secretId: `test/oauth/${run}/token`,
    environment: 'sandbox',
    description: 'management token (by hand)',
  });
  const appCredential = credlyApplication(credly, managerCredential, {
    id: `app-${run}`,
    secretId: `test/oauth/${run}/app`,
    environment: 'sandbox',
    scopes: ['issued_badges', 'badge_templates'],
    ...(options.appScopes ? { appScopes: options.appScopes } : {}),
    secret: options.secret ?? 'working',
    extra: options.extra ?? '',
  });
  const { organizationId: org, token: manager } = managerCredential;
  const app = appCredential.application;
  const ids = { token: managerCredential.id, app: appCredential.id };
  const secretIds = { token: managerCredential.secretId, app: appCredential.secretId };
  await seedSecrets([managerCredential, appCredential]);
  const inventoryFor = (appSecretId: string) => parseInventory(inventoryYaml([managerCredential, { yaml: appCredential.yamlFor(appSecretId) }]));
  const prefix = `{oauth-${run}}`;
  const jobs = openJobQueue(prefix);
  const { redis, queue, events } = jobs;
  const { logger, lines: logs } = captureLogger();
  let managerReads = 0;
  const secrets: Pick<typeof store, 'readCurrent'> = {
    async readCurrent(secretId) {
      const value = await store.readCurrent(secretId);
      if (secretId === secretIds.token) managerReads += 1;
      if (secretId === secretIds.token && managerReads === options.managerRotatesAfterRead) {
        const next = credly.state.addToken(org, { description: 'the managing token, rotated' });
        await store.putCurrent(secretIds.token, JSON.stringify({ token: next.token, tokenId: next.id }));
        credly.state.killToken(manager.id);
      }
      return value;
    },
  };
  /** How far the rotator's clock runs ahead (the end of an overlap window). */
  let offsetMs = 0;
  const startWorker = async (appSecretId: string) => {
    const inventory = inventoryFor(appSecretId);
    const kinds = createKinds({ inventory, secrets, requestTimeoutMs: 1_000, recheckDelayMs: 200 });
    const deps = createJobDependencies({
      inventory,
      secrets: store,
      redis,
      queue,
      prefix,
      lockDurationMs: 5_000,
      kinds,
      now: () => new Date(Date.now() + offsetMs),
    });
    const started: Worker = createRotatorWorker({ connection: redis, prefix, deps, logger, lockDurationMs: 5_000 });
    await started.waitUntilReady();
    return started;
  };
  let worker = await startWorker(secretIds.app);
  await events.waitUntilReady();
  cleanups.push(() => jobs.close(worker));

  return {
    org,
    app,
    manager,
    prefix,
    ids,
    secretIds,
    logs,
    async run(force = false): Promise<{ state: string; outcome?: JobOutcome; reason?: string }> {
      const job = await enqueue(
        queue,
        'check-credential',
        { credentialId: ids.app, trigger: 'manual', force },
        { attempts: 5, backoff: { type: 'fixed', delay: 100 } },
      );
      try {
        return { state: 'completed', outcome: (await job.waitUntilFinished(events, 30_000)) as JobOutcome };
      } catch (error) {
        return { state: 'failed', reason: (error as Error).message };
      }
    },
    async current() {
      return parseSecretValue('credly-oauth-application', (await store.readCurrent(secretIds.app)).secretString);
    },
    advance(ms: number) {
      offsetMs += ms;
    },
    /** A person writes a value back by hand: a new version becomes AWSCURRENT (in two calls: see the token harness). */
    async putByHand(value: string) {
      await operatorWrite(store, secretIds.app, value);
    },
    async promoteDelayed() {
      const delayed = await queue.getDelayed();
      for (const job of delayed) await job.promote();
      return delayed.length;
    },
    /** The inventory now names another secret for the application (a worker restarted with it). */
    async moveSecret(appSecretId: string) {
      await worker.close();
      worker = await startWorker(appSecretId);
      secretIds.app = appSecretId;
    },
    liveApps: () => credly.state.applications(org),
    rotatorApps: () => credly.state.applications(org).filter((a) => parseMarker(a.description)?.credentialId === ids.app),
    async expectNoSecretsLeaked() {
      const { text } = await dumpRedis(redis, `${prefix}*`);
      const log = logs.join('\n');
      const values = [manager.token, app.secret, ...credly.state.applications().map((a) => a.secret), ...credly.state.liveAccessTokens().map((a) => a.value)];
      for (const value of values) {
        expect(text.includes(value), 'a secret is in Redis').toBe(false);
        expect(log.includes(value), 'a secret is in the log').toBe(false);
      }
    },
  };
}

describe('Credly OAuth applications (real Redis, moto, the Credly fake over HTTP)', () => {
  it('changes nothing while the stored secret works with every required scope', async () => {
    const t = await setup();
    const result = await t.run();
    expect(result.outcome).toMatchObject({ status: 'skipped', action: 'not-due', summary: 'not due: client secret works with issued_badges, badge_templates' });
    expect((await t.current()).applicationId).toBe(t.app.id);
    expect(t.liveApps().map((a) => a.id)).toEqual([t.app.id]);
    await t.expectNoSecretsLeaked();
  });

  it('recreates the application when the secret is refused, and deletes the old application', async () => {
    const t = await setup({ secret: 'wrong' });
    const result = await t.run();
    expect(result.state, result.reason).toBe('completed');
    expect(result.outcome).toMatchObject({ action: 'rotated', previousState: 'revoked' });
    const now = await t.current();
    expect(now.applicationId).not.toBe(t.app.id);
    expect(fake.state.isClientValid(now.clientId, now.clientSecret)).toBe(true);
    expect(t.liveApps().map((a) => a.id)).toEqual([now.applicationId]);
    expect(t.liveApps()[0]!.name).toBe('LMS badge sync');
    await t.expectNoSecretsLeaked();
  });

  it('recreates the application when the secret is empty, or missing from Secrets Manager altogether', async () => {
    for (const secret of ['empty', 'none'] as const) {
      const t = await setup({ secret });
      const result = await t.run();
      expect(result.state, result.reason).toBe('completed');
      expect(result.outcome!.summary).toContain('rotated: new credential');
      const now = await t.current();
      expect(fake.state.isClientValid(now.clientId, now.clientSecret)).toBe(true);
      // The old application's id was not in the secret: it is left alone, never guessed at.
      expect(
        t
          .liveApps()
          .map((a) => a.id)
          .sort(),
      ).toEqual([t.app.id, now.applicationId].sort());
      expect(rotationOutcome(result.outcome).previousState).toBe('none known (the secret was missing or unreadable)');
    }
  });

  it('alerts on a scope the application is not granted, naming it, and changes nothing', async () => {
    const t = await setup({ appScopes: ['issued_badges'] });
    const result = await t.run();
    expect(result.state).toBe('failed');
    expect(result.reason).toContain('the OAuth application is not granted badge_templates; recreating it would not help');
    expect((await t.current()).applicationId).toBe(t.app.id);
    expect(t.liveApps().map((a) => a.id)).toEqual([t.app.id]);
  });

  it('recreates the application when its managing token is rotated between reading and use, with the token now stored', async () => {
    // Read 1: the listing that confirms the refusal; read 2: the reaping before the rotation;
    // read 3: the create, which meets the revoked token.
    const t = await setup({ secret: 'wrong', managerRotatesAfterRead: 3 });
    const result = await t.run();
    expect(result).toMatchObject({ state: 'completed', outcome: { action: 'rotated' } });
    const now = await t.current();
    expect(fake.state.isClientValid(now.clientId, now.clientSecret)).toBe(true);
    expect(t.liveApps().map((a) => a.id)).toEqual([now.applicationId]);
    expect(fake.state.isTokenValid(t.manager.token)).toBe(false);
    // In its first attempt: the refusal of the revoked token is not a failure of the job.
    expect(t.logs.filter((l) => l.includes('"job: failed"'))).toEqual([]);
    await t.expectNoSecretsLeaked();
  });

  it('fails at once, clearly, when the managing token is dead', async () => {
    const t = await setup({ secret: 'wrong' });
    fake.state.killToken(t.manager.id);
    const result = await t.run();
    expect(result.state).toBe('failed');
    expect(result.reason).toContain(`the managing token "${t.ids.token}" of "${t.ids.app}" is refused by Credly (401)`);
    expect(t.logs.filter((l) => l.includes('"msg":"job: failed"') && l.includes('"permanent":true'))).toHaveLength(1);
    expect(t.liveApps().map((a) => a.id)).toEqual([t.app.id]);
  });

  it('leaves exactly one new application when a create is retried after a broken answer, and reaps unstored ones', async () => {
    const t = await setup({ secret: 'wrong' });
    // Made by an earlier rotation of this credential that crashed before storing it.
    const orphan = fake.state.createApplication(t.org, {
      name: 'LMS badge sync',
      description: rotatorDescription(randomUUID(), t.ids.app, { scope: t.prefix, secretId: t.secretIds.app, replaces: String(t.app.id) }),
    });
    const othersOrphan = fake.state.createApplication(t.org, {
      name: 'other',
      description: rotatorDescription(randomUUID(), 'another-app', { scope: t.prefix, secretId: t.secretIds.app, replaces: '' }),
    });
    // Marked for this credential before markers named a deployment: maybe another deployment's, left for a person.
    const legacy = fake.state.createApplication(t.org, { name: 'LMS badge sync', description: rotatorDescription(randomUUID(), t.ids.app) });
    // The application is created, but the answer is cut off: its secret is gone for good.
    fake.faults.add({ match: { method: 'POST', path: /oauth_applications$/, server: 'api' }, fault: { kind: 'malformed' } });
    const result = await t.run();
    expect(result.state, result.reason).toBe('completed');
    const now = await t.current();
    expect(t.rotatorApps().map((a) => a.id)).toEqual([legacy.id, now.applicationId]);
    expect(fake.state.findApplication(t.org, orphan.id)).toBeUndefined();
    expect(fake.state.findApplication(t.org, othersOrphan.id)).toBeDefined();
    expect(fake.state.findApplication(t.org, legacy.id)).toBeDefined();
  });

  it('with recreateEvery, recreates a working application once it is older than that', async () => {
    const t = await setup({ extra: 'recreateEvery: 1s' });
    // The rotator's clock, not the wall's: the application is a second and a bit old when the check runs.
    t.advance(1_100);
    const result = await t.run();
    expect(result.outcome).toMatchObject({ action: 'rotated' });
    expect(result.outcome!.summary).toContain(`previous ${t.app.id}: revoked`);
    expect(t.liveApps().map((a) => a.id)).toEqual([(await t.current()).applicationId]);
  });

  it('recreates when the refusal is confirmed: invalid_client twice, after a delay, with the application still listed', async () => {
    const t = await setup({ secret: 'wrong' });
    const result = await t.run();
    expect(result.state, result.reason).toBe('completed');
    // The refused secret was asked twice, the delay apart, before anything was created.
    const grants = fake.requests.filter((r) => r.path === '/oauth/token' && JSON.stringify(r.body ?? '').includes(t.app.uid));
    expect(grants.length).toBeGreaterThanOrEqual(2);
    expect(grants[1]!.at.getTime() - grants[0]!.at.getTime()).toBeGreaterThanOrEqual(200);
    expect(t.logs.some((l) => l.includes('client secret refused by Credly twice (invalid_client)'))).toBe(true);
  });

  it('recreates an application Credly no longer lists: its grant refused, the listing without it', async () => {
    const t = await setup();
    fake.state.deleteApplication(fake.state.findApplication(t.org, t.app.id)!);
    const result = await t.run();
    expect(result.state, result.reason).toBe('completed');
    expect(t.logs.some((l) => l.includes(`application ${t.app.id} is no longer listed`))).toBe(true);
    const now = await t.current();
    expect(fake.state.isClientValid(now.clientId, now.clientSecret)).toBe(true);
  });

  it('a single 401 from a proxy on the grant does not destroy the working application', async () => {
    const t = await setup();
    fake.faults.add({ match: { method: 'POST', path: '/oauth/token', server: 'web' }, fault: { kind: 'status', status: 401 } });
    const result = await t.run();
    expect(result.outcome, result.reason).toMatchObject({ status: 'skipped', action: 'not-due' });
    expect((await t.current()).applicationId).toBe(t.app.id);
    expect(t.liveApps().map((a) => a.id)).toEqual([t.app.id]);
  });

  it('a single invalid_client during an outage does not destroy the working application either', async () => {
    const t = await setup();
    const body = JSON.stringify({ error: 'invalid_client', error_description: 'Client authentication failed' });
    fake.faults.add({
      match: { method: 'POST', path: '/oauth/token', server: 'web' },
      fault: { kind: 'status', status: 401, body, contentType: 'application/json' },
    });
    const result = await t.run();
    expect(result.outcome, result.reason).toMatchObject({ status: 'skipped', action: 'not-due' });
    expect(t.liveApps().map((a) => a.id)).toEqual([t.app.id]);
  });

  it('401s without invalid_client while the application is listed fail the job transiently, after its retries, and recreate nothing', async () => {
    const t = await setup();
    fake.faults.add({ match: { method: 'POST', path: '/oauth/token', server: 'web' }, times: Infinity, fault: { kind: 'status', status: 401 } });
    const result = await t.run();
    expect(result.state).toBe('failed');
    expect(result.reason).toContain('without saying invalid_client, and the application is still listed: not recreated on that evidence');
    // Transient: every attempt of the job was spent, none failed as permanent.
    expect(t.logs.filter((l) => l.includes('"msg":"job: failed"') && l.includes('"permanent":false'))).toHaveLength(5);
    expect((await t.current()).applicationId).toBe(t.app.id);
    expect(t.liveApps().map((a) => a.id)).toEqual([t.app.id]);
    expect(fake.state.isClientValid(t.app.uid, t.app.secret)).toBe(true);
  });

  it('a brand-new application refused once right after creation is asked again, not abandoned', async () => {
    const t = await setup();
    const body = JSON.stringify({ error: 'invalid_client', error_description: 'Client authentication failed' });
    // Grant 1 is the check of the working application; grant 2 the test of the new one.
    fake.faults.add({
      match: { method: 'POST', path: '/oauth/token', server: 'web' },
      skip: 1,
      fault: { kind: 'status', status: 401, body, contentType: 'application/json' },
    });
    const result = await t.run(true);
    expect(result.state, result.reason).toBe('completed');
    expect(result.outcome).toMatchObject({ action: 'rotated' });
    const now = await t.current();
    expect(t.rotatorApps().map((a) => a.id)).toEqual([now.applicationId]);
    expect(t.logs.some((l) => l.includes('the new credential was refused right after creation; asking again'))).toBe(true);
  });
});

describe.each(CREDLY_APP_VARIANTS)('Credly OAuth application recreation against the fake: $name', (variant) => {
  let credly: CredlyFake;
  beforeAll(async () => {
    credly = await startCredlyFake(variant.options);
  });
  afterAll(() => credly.close());
  const on = () => ({ on: credly, ...(variant.inventory ? { extra: variant.inventory } : {}) });

  it('keeps a working application, and recreates a refused one, confirming the old one gone by listing', async () => {
    const working = await setup(on());
    expect((await working.run()).outcome).toMatchObject({ action: 'not-due' });
    const t = await setup({ ...on(), secret: 'wrong' });
    for (let i = 0; i < 3; i += 1) credly.state.createApplication(t.org, { name: `other ${i}` });
    const result = await t.run();
    expect(result.state, result.reason).toBe('completed');
    const now = await t.current();
    expect(credly.state.isClientValid(now.clientId, now.clientSecret)).toBe(true);
    if (variant.recreation === 'revoked') {
      expect(result.outcome).toMatchObject({ action: 'rotated', previousState: 'revoked', unrevoked: '' });
      expect(t.liveApps().map((a) => a.id)).not.toContain(t.app.id);
    } else {
      expect(result.outcome).toMatchObject({ action: 'rotated', unrevoked: String(t.app.id) });
      expect(rotationOutcome(result.outcome).previousState).toBe(
        `NOT revoked: still listed after DELETE answered 404; revoke ${t.app.id} by hand at the provider`,
      );
      expect(t.liveApps().map((a) => a.id)).toContain(t.app.id);
    }
    const encodings = credly.requests
      .filter((r) => r.server === 'web' && r.path === '/oauth/token')
      .map((r) => (r.contentType.includes('json') ? 'json' : 'form'));
    expect(new Set(encodings)).toEqual(new Set([variant.options.tokenBody === 'json' ? 'json' : 'form']));
    expect(credly.webApiRequests()).toEqual([]);
    await t.expectNoSecretsLeaked();
  });

  it('names a scope the application is not granted, and changes nothing', async () => {
    const t = await setup({ ...on(), appScopes: ['issued_badges'] });
    const result = await t.run();
    expect(result.state).toBe('failed');
    expect(result.reason).toContain('the OAuth application is not granted badge_templates');
    expect((await t.current()).applicationId).toBe(t.app.id);
  });
});

describe('reaping needs a known acting credential', () => {
  it("after the application's secretId changes, the application still in use under the old secret is left alone and named", async () => {
    const t = await setup({ secret: 'wrong' });
    expect((await t.run()).outcome).toMatchObject({ action: 'rotated' });
    const inUse = await t.current();
    // Made by the rotator, and what consumers of the old secret use.
    expect(t.rotatorApps().map((a) => a.id)).toEqual([inUse.applicationId]);
    await t.moveSecret(`${t.secretIds.app}-moved`);
    const recreated = await t.run();
    expect(recreated.outcome, recreated.reason).toMatchObject({ action: 'rotated', previousState: 'none known (the secret was missing or unreadable)' });
    expect(t.logs.some((l) => l.includes('no known acting credential'))).toBe(true);
    const now = await t.current();
    expect(now.applicationId).not.toBe(inUse.applicationId);
    // Later runs leave it alone too, and name it for a person to confirm.
    expect((await t.run()).outcome).toMatchObject({ action: 'not-due' });
    expect(fake.state.isClientValid(inUse.clientId, inUse.clientSecret)).toBe(true);
    expect(fake.state.isClientValid(now.clientId, now.clientSecret)).toBe(true);
    expect(t.logs.some((l) => l.includes('left alone for a person to confirm') && l.includes(String(inUse.applicationId)))).toBe(true);
    await t.expectNoSecretsLeaked();
  });
});

describe('never delete an application a stage holds', () => {
  it('keeps the old application when a person writes its secret back by hand during the window', async () => {
    const t = await setup({ extra: 'recreateEvery: 1s\nrevokePreviousAfter: 1h' });
    // The rotator's clock, not the wall's: the application is a second and a bit old when the check runs.
    t.advance(1_100);
    expect((await t.run()).outcome).toMatchObject({ action: 'rotated', previousState: expect.stringMatching(/^revoke scheduled for /) });
    await t.putByHand(JSON.stringify({ applicationId: t.app.id, clientSecret: t.app.secret, clientId: t.app.uid }));
    t.advance(3_600_000 + 1_000);
    expect(await t.promoteDelayed()).toBe(1);
    await expect.poll(() => t.logs.some((l) => l.includes('revoke cancelled')), { timeout: 10_000 }).toBe(true);
    expect(fake.state.isClientValid(t.app.uid, t.app.secret)).toBe(true);
    expect(t.logs.join('\n')).toContain('AWSCURRENT holds it');
    await t.expectNoSecretsLeaked();
  });
});
