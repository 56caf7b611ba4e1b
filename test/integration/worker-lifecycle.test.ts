import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { startDegreedFake, type DegreedFake } from '../fakes/degreed.fake.ts';
import { startDelayProxy } from '../support/delay-proxy.ts';
import { spawnRotator } from '../support/worker-process.ts';

const run = randomUUID().slice(0, 8);
const secretId = `test/${run}/degreed`;
const dir = mkdtempSync(join(tmpdir(), 'rotator-worker-'));
const configPath = join(dir, 'inventory.yaml');
const prefix = `{test-${run}}`;
let degreed: DegreedFake;
let secretValue: string;

describe('rotator worker (a separate process)', () => {
  let redis: Redis;
  let queue: Queue;
  let events: QueueEvents;
  let eventsConnection: Redis;

  beforeAll(async () => {
    // The job validates the credential at the provider: the Degreed fake plays it.
    degreed = await startDegreedFake();
    const client = degreed.state.addClient({ scopes: ['users:read'] });
    secretValue = client.clientSecret;
    writeFileSync(
      configPath,
      `version: 1
credentials:
  - id: degreed-us
    kind: degreed-client-credentials
    secretId: ${secretId}
    environment: production
    dataCenter: US
    scopes: [users:read]
    endpoints: { tokenUrl: "${degreed.tokenUrl}", apiBase: "${degreed.apiBase}" }
`,
    );
    await createSecretStore(createSecretsManagerClient()).putCurrent(secretId, JSON.stringify(client));
    redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
    queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
    // BullMQ closes only the copy it makes of a shared connection: this one is closed here.
    eventsConnection = redis.duplicate();
    events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
    eventsConnection.disconnect();
    redis.disconnect();
    await degreed.close();
  });

  it('lets the active job finish on SIGTERM, then exits 0 and leaves no secret in its log or in Redis', async () => {
    // Every Secrets Manager call takes 1.5 s, so the job is still running when the signal arrives.
    const slow = await startDelayProxy(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!, 1500);
    const worker = spawnRotator(['worker'], {
      ROTATOR_CONFIG: configPath,
      ROTATOR_QUEUE_PREFIX: prefix,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: slow.url,
      LOG_LEVEL: 'debug',
      ROTATOR_SHUTDOWN_GRACE: '20s',
    });
    try {
      await worker.waitForLog('worker: started');
      const job = await queue.add('check-credential', { credentialId: 'degreed-us', trigger: 'manual' });
      await new Promise<void>((resolve) => {
        const onActive = ({ jobId }: { jobId: string }) => {
          if (jobId === job.id) {
            events.off('active', onActive);
            resolve();
          }
        };
        events.on('active', onActive);
      });
      worker.child.kill('SIGTERM');
      const exit = await worker.exited;
      expect(exit).toEqual({ code: 0, signal: null });

      const finished = await queue.getJob(job.id!);
      expect(await finished?.getState()).toBe('completed');
      expect(finished?.returnvalue).toMatchObject({ status: 'success', credentialId: 'degreed-us' });
      expect(worker.output()).toContain('"msg":"worker: stopped"');
      expect(worker.output()).toContain('"clean":true');
      expect(worker.output()).not.toContain(secretValue);

      const keys = await redis.keys(`${prefix}*`);
      for (const key of keys) {
        const type = await redis.type(key);
        const dump = type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'string' ? await redis.get(key) : '';
        expect(dump ?? '').not.toContain(secretValue);
      }
    } finally {
      worker.child.kill('SIGKILL');
      await slow.close();
    }
  });

  it('fails a malformed job at once, without retries', async () => {
    const worker = spawnRotator(['worker'], { ROTATOR_CONFIG: configPath, ROTATOR_QUEUE_PREFIX: prefix });
    try {
      await worker.waitForLog('worker: started');
      const job = await queue.add('check-credential', { credentialId: 'Not An Id!', trigger: 'manual' }, { attempts: 5 });
      await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/malformed check-credential payload: credentialId/);
      const failed = await queue.getJob(job.id!);
      expect(failed?.attemptsMade).toBe(1);
      worker.child.kill('SIGINT');
      expect((await worker.exited).code).toBe(0);
    } finally {
      worker.child.kill('SIGKILL');
    }
  });

  it('refuses to start on a bad inventory, naming the path of each problem, and exits 2', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\ncredentials:\n  - id: x\n    kind: credly-token\n    secretId: s\n');
    const worker = spawnRotator(['worker'], { ROTATOR_CONFIG: bad, ROTATOR_QUEUE_PREFIX: prefix });
    const exit = await worker.exited;
    expect(exit.code).toBe(2);
    expect(worker.output()).toMatch(/credentials\[0\]\.kind/);
    expect(worker.output()).not.toContain('worker: started');
  });
});
