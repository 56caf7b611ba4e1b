/**
 * The three cases of issue 13 that were confirmed by hand against the running worker, end to end:
 * a worker in its own process, `rotator trigger` as a user runs it, real Redis, moto and the Credly
 * fake over HTTP. Each asserts the invariant: no credential is revoked or deleted while a stage of
 * its secret holds it, or before the overlap window of the rotation that replaced it has ended.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import { startCredlyFake, type CredlyFake } from '../fakes/credly.fake.ts';
import { operatorWrite } from '../support/operator.ts';
import { processTracker } from '../support/processes.ts';
import { spawnRotator } from '../support/worker-process.ts';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'rotator-overlap-'));
const store = createSecretStore(createSecretsManagerClient());
const processes = processTracker();
let fake: CredlyFake;
let redis: Redis;

beforeAll(async () => {
  fake = await startCredlyFake();
  redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
});
afterEach(() => processes.stopAll());
afterAll(async () => {
  await fake.close();
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** A deployment of its own: inventory file, queue prefix, and the rotator commands run against it. */
function deployment(run: string) {
  const configPath = join(dir, `${run}.yaml`);
  const prefix = `{overlap-${run}}`;
  const env = { ROTATOR_CONFIG: configPath, ROTATOR_QUEUE_PREFIX: prefix, LOG_LEVEL: 'debug' };
  const spawn = (args: string[]) => processes.track(spawnRotator(args, env));
  return {
    prefix,
    writeInventory: (yaml: string) => writeFileSync(configPath, yaml),
    async startWorker() {
      const worker = spawn(['worker']);
      await worker.waitForLog('worker: started', 30_000);
      return worker;
    },
    /** `rotator trigger <id> [--force] --wait`; its exit code and output. */
    async trigger(credentialId: string, force: boolean) {
      const p = spawn(['trigger', credentialId, ...(force ? ['--force'] : []), '--wait', '--timeout', '60']);
      const { code } = await p.exited;
      return { code, output: p.output() };
    },
  };
}

function tokenInventory(credentialId: string, secretId: string, organizationId: string, extra: string): string {
  return `version: 1
credentials:
  - id: ${credentialId}
    kind: credly-authorization-token
    secretId: ${secretId}
    organizationId: ${organizationId}
    environment: production
    endpoints: { apiBase: "${fake.apiBase}" }
    ${extra}
`;
}

const currentToken = async (secretId: string) => parseSecretValue('credly-authorization-token', (await store.readCurrent(secretId)).secretString);

describe('issue 13, end to end against a worker process', () => {
  it('three forced rotations inside a one-hour overlap window: no token is revoked before its window ends', async () => {
    const run = randomUUID().slice(0, 8);
    const credentialId = `credly-${run}`;
    const secretId = `test/overlap/${run}`;
    const org = fake.state.addOrganization(`Overlap ${run}`);
    const t0 = fake.state.addToken(org, { description: 'made by hand', createdAt: new Date(Date.now() - 100 * DAY) });
    await store.putCurrent(secretId, JSON.stringify({ token: t0.token, tokenId: t0.id }));
    const d = deployment(run);
    d.writeInventory(tokenInventory(credentialId, secretId, org, 'revokePreviousAfter: 1h'));
    await d.startWorker();

    const generations = [t0.token];
    for (let i = 1; i <= 3; i += 1) {
      const result = await d.trigger(credentialId, true);
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain('rotated');
      generations.push((await currentToken(secretId)).token);
    }
    expect(new Set(generations).size).toBe(4);
    // Each rotation replaced its predecessor minutes (here: seconds) ago: every window is still open,
    // so every generation still works, the first rotation's token included.
    generations.forEach((token, i) => expect(fake.state.isTokenValid(token), `generation ${i} was revoked inside its window`).toBe(true));
    const made = fake.state.tokens(org).filter((t) => parseMarker(t.description)?.credentialId === credentialId);
    expect(made.filter((t) => fake.state.isTokenLive(t))).toHaveLength(3);
  }, 120_000);

  it('a token written back by hand as {"token": "…"} is not revoked by the delayed revoke while AWSCURRENT holds it', async () => {
    const run = randomUUID().slice(0, 8);
    const credentialId = `credly-${run}`;
    const secretId = `test/overlap/${run}`;
    const org = fake.state.addOrganization(`Rollback ${run}`);
    const t0 = fake.state.addToken(org, { description: 'made by hand', createdAt: new Date(Date.now() - 170 * DAY) });
    await store.putCurrent(secretId, JSON.stringify({ token: t0.token, tokenId: t0.id }));
    const d = deployment(run);
    // A short window, so that it really ends during the test.
    d.writeInventory(tokenInventory(credentialId, secretId, org, 'revokePreviousAfter: 6s'));
    await d.startWorker();

    const rotated = await d.trigger(credentialId, false);
    expect(rotated.code, rotated.output).toBe(0);
    expect(rotated.output).toContain('revoke scheduled for');
    const t1 = await currentToken(secretId);
    expect(t1.token).not.toBe(t0.token);

    // The operator rolls back, in the form the README's runbook gives.
    await operatorWrite(store, secretId, JSON.stringify({ token: t0.token }));
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: d.prefix });
    try {
      // The window ends and the delayed revoke runs (whatever it decides, it finishes).
      await expect
        .poll(async () => (await queue.getJobs(['completed', 'failed'])).filter((j) => j.name === 'revoke-previous').length, { timeout: 40_000, interval: 500 })
        .toBeGreaterThan(0);
    } finally {
      await queue.close();
    }
    expect((await currentToken(secretId)).token).toBe(t0.token);
    expect(fake.state.isTokenValid(t0.token), 'the token AWSCURRENT holds was revoked').toBe(true);
  }, 120_000);

  it("after an OAuth application's secretId changes in the inventory, the application still in use under the old secret is not deleted", async () => {
    const run = randomUUID().slice(0, 8);
    const appId = `app-${run}`;
    const org = fake.state.addOrganization(`Rename ${run}`);
    const manager = fake.state.addToken(org, { description: 'management token (by hand)' });
    const original = fake.state.createApplication(org, { name: 'LMS badge sync' });
    const ids = { token: `test/overlap/${run}/token`, oldApp: `test/overlap/${run}/app`, newApp: `test/overlap/${run}/app-renamed` };
    await store.putCurrent(ids.token, JSON.stringify({ token: manager.token, tokenId: manager.id }));
    await store.putCurrent(ids.oldApp, JSON.stringify({ clientId: original.uid, clientSecret: original.secret, applicationId: original.id }));
    const inventory = (appSecretId: string) => `version: 1
credentials:
  - id: token-${run}
    kind: credly-authorization-token
    secretId: ${ids.token}
    organizationId: ${org}
    environment: production
    endpoints: { apiBase: "${fake.apiBase}" }
  - id: ${appId}
    kind: credly-oauth-application
    secretId: ${appSecretId}
    organizationId: ${org}
    environment: production
    managedBy: token-${run}
    applicationName: LMS badge sync
    scopes: [issued_badges]
    revokePreviousAfter: 1h
    endpoints: { apiBase: "${fake.apiBase}", tokenUrl: "${fake.tokenUrl}" }
`;
    const d = deployment(run);
    d.writeInventory(inventory(ids.oldApp));
    const first = await d.startWorker();
    // The rotator recreates the application once: the one now in use is its own (it carries the marker).
    const recreated = await d.trigger(appId, true);
    expect(recreated.code, recreated.output).toBe(0);
    const inUse = parseSecretValue('credly-oauth-application', (await store.readCurrent(ids.oldApp)).secretString);
    expect(parseMarker(fake.state.findApplication(org, inUse.applicationId)?.description ?? null)?.credentialId).toBe(appId);
    first.child.kill('SIGTERM');
    await first.exited;

    // The inventory now names another secret, which does not exist yet; consumers still read the old one.
    d.writeInventory(inventory(ids.newApp));
    await d.startWorker();
    const afterRename = await d.trigger(appId, false);
    expect(afterRename.code, afterRename.output).toBe(0);
    const renamed = parseSecretValue('credly-oauth-application', (await store.readCurrent(ids.newApp)).secretString);
    expect(fake.state.isClientValid(renamed.clientId, renamed.clientSecret)).toBe(true);
    expect(fake.state.isClientValid(inUse.clientId, inUse.clientSecret), 'the application in use under the old secret was deleted').toBe(true);
  }, 120_000);
});
