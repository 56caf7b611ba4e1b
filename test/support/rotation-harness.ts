import { randomUUID } from 'node:crypto';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import type { JobOutcome } from '../../jobs/index.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { createJobDependencies, createKinds } from '../../src/composition-root.ts';
import { enqueue } from '../../src/queue/producer.ts';
import { createRotatorWorker } from '../../src/queue/worker.ts';
import { createSecretStore, createSecretsManagerClient, type SecretStore } from '../../src/secrets/secret-store.ts';
import type { CredlyFake, CredlyFakeOptions, FakeCredlyToken } from '../fakes/credly.fake.ts';
import { captureLogger } from './capture-logger.ts';
import { credlyToken, inventoryYaml, runId, seedSecrets, store as direct } from './credentials.ts';
import { dumpRedis } from './redis-dump.ts';
import { openJobQueue } from './job-queue.ts';
import { useFakeHosts } from './fake-hosts.ts';
import type { SmProxy } from './sm-proxy.ts';

export { DAY } from './credentials.ts';

export interface ScenarioOptions {
  /** Age of the token in the secret at start; default 170 days (expires in 10, so due). */
  tokenAgeDays?: number;
  /** Inventory lines added to the credential (`revokePreviousAfter: 1h`, `deleteSupported: false`…). */
  extra?: string;
  /** The inventory's `defaults:` section; default TEST_DEFAULTS (credentials.ts), `''` for the product's own. */
  defaults?: string;
  /** Token flags; default write- and delete-enabled. */
  writeEnabled?: boolean;
  /** Store the bare token instead of the JSON shape. */
  bare?: boolean;
  /** Tokens of the organization listed before the credential's own (pushes it to a later page). */
  tokensBefore?: number;
  /** Told of every job's end, with the labels the worker gives metrics. */
  onJobFinished?: (labels: { credential: string; kind: string; job: string; outcome: string }) => void;
  /** Deadline of one Credly request; default 1 s, so fault runs converge fast. */
  requestTimeoutMs?: number;
}

export interface Scenario {
  credentialId: string;
  secretId: string;
  organizationId: string;
  original: FakeCredlyToken;
  prefix: string;
  /** Every log line of the in-process worker. */
  logs: string[];
  /** With `jobId`: that job id, run again as BullMQ would after a lost completion (any finished job of that id is removed first). */
  run(options?: { force?: boolean; attempts?: number; jobId?: string }): Promise<{ state: 'completed' | 'failed'; outcome?: JobOutcome; reason?: string }>;
  /** The stored AWSCURRENT token, read without fault injection. */
  current(): Promise<{ token: string; tokenId?: string; expiresAt?: string; rotatedAt?: string; organizationId?: string }>;
  /** Version id → stages of every labelled version. */
  stages(): Promise<Map<string, string[]>>;
  /** The values AWSCURRENT, AWSPENDING and AWSPREVIOUS hold now, read by stage. */
  stageValues(): Promise<string[]>;
  /** The queue, for tests that write jobs past the producer's validation. */
  queue: Queue;
  /** The scenario's Redis connection, for raw writes. */
  redis: Redis;
  /** Marker tokens the rotator created for this credential. */
  rotatorTokens(): FakeCredlyToken[];
  /** Every value of this credential's tokens, for secret searches. */
  tokenValues(): string[];
  redisText(): Promise<string>;
  /** Writes a value by hand, as a person would (`put-secret-value`): it becomes AWSCURRENT. */
  putByHand(secretString: string): Promise<void>;
  /** Deletes every key under the scenario's prefix: rotation state, status, queued and delayed jobs. */
  flushRedis(): Promise<void>;
  /** Runs the delayed jobs now (a revoke whose window the test pretends is over). */
  promoteDelayed(): Promise<string[]>;
  /** Moves the rotator's clock (not the fake's, not BullMQ's) forward: the end of an overlap window. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/**
 * One Credly-token credential against real Redis, moto (through `sm`, which can inject faults)
 * and the Credly fake over HTTP, with an in-process BullMQ worker built by the same wiring as
 * `rotator worker`. Retries are quick (fixed 100 ms backoff) so fault runs converge fast.
 */
export async function startScenario(fake: CredlyFake, sm: SmProxy, options: ScenarioOptions = {}): Promise<Scenario> {
  const run = runId();
  const credential = credlyToken(fake, {
    run,
    folder: 'rotation',
    environment: 'sandbox',
    description: 'LMS integration (made by hand)',
    ageDays: options.tokenAgeDays ?? 170,
    tokensBefore: options.tokensBefore ?? 0,
    ...(options.writeEnabled === false ? { writeEnabled: false as const } : {}),
    bare: options.bare ?? false,
    extra: options.extra ?? '',
  });
  const { id: credentialId, secretId, organizationId, token: original } = credential;
  const prefix = `{rot-${run}}`;
  await seedSecrets([credential]);
  const inventory = parseInventory(inventoryYaml([credential], '', options.defaults === undefined ? {} : { defaults: options.defaults }));
  const jobs = openJobQueue(prefix);
  const { redis, queue, events } = jobs;
  const { logger, lines: logs } = captureLogger();
  const store: SecretStore = createSecretStore(createSecretsManagerClient({ endpoint: sm.url, maxAttempts: 2, requestTimeoutMs: 1_500 }));
  const kinds = createKinds({ inventory, secrets: store, requestTimeoutMs: options.requestTimeoutMs ?? 1_000 });
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  const deps = createJobDependencies({ inventory, secrets: store, redis, queue, prefix, lockDurationMs: 5_000, kinds, now });
  const worker: Worker = createRotatorWorker({
    connection: redis,
    prefix,
    deps,
    logger,
    lockDurationMs: 5_000,
    ...(options.onJobFinished ? { onJobFinished: options.onJobFinished } : {}),
  });
  await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);

  return {
    credentialId,
    secretId,
    organizationId,
    original,
    prefix,
    logs,
    queue,
    redis,
    async run(runOptions = {}) {
      if (runOptions.jobId) await queue.remove(runOptions.jobId);
      const job = await enqueue(
        queue,
        'check-credential',
        { credentialId, trigger: 'manual', force: runOptions.force ?? false },
        { attempts: runOptions.attempts ?? 8, backoff: { type: 'fixed', delay: 100 }, ...(runOptions.jobId ? { jobId: runOptions.jobId } : {}) },
      );
      try {
        return { state: 'completed', outcome: (await job.waitUntilFinished(events, 60_000)) as JobOutcome };
      } catch (error) {
        return { state: 'failed', reason: (error as Error).message };
      }
    },
    async current() {
      return credential.current();
    },
    async stages() {
      return new Map((await direct.listVersions(secretId)).map((v) => [v.versionId, v.stages]));
    },
    async stageValues() {
      const values: string[] = [];
      for (const stage of ['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS']) {
        const stored = await direct.readStage(secretId, stage);
        if (stored) values.push(stored.secretString);
      }
      return values;
    },
    rotatorTokens: credential.created,
    tokenValues: credential.tokenValues,
    async putByHand(secretString) {
      // What put-secret-value does on AWS (a new version becomes AWSCURRENT, the old one AWSPREVIOUS),
      // in two calls: the emulator's put-secret-value leaves AWSCURRENT on the version a stage move
      // made current, so two versions would carry it.
      const versionId = randomUUID();
      await direct.putPending(secretId, versionId, secretString);
      await direct.promote(secretId, versionId);
    },
    async flushRedis() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
    },
    async promoteDelayed() {
      const delayed = await queue.getDelayed();
      for (const job of delayed) await job.promote();
      return delayed.map((j) => j.id ?? '');
    },
    advance(ms) {
      offsetMs += ms;
    },
    async redisText() {
      return (await dumpRedis(redis, `${prefix}*`)).text;
    },
    close: () => jobs.close(worker),
  };
}

/**
 * The in-process scenarios of one test file, with its Credly fake (of `credly` options) and the
 * Secrets Manager proxy (fake-hosts.ts): after each test the faults and proxy rules are cleared
 * first (a held request must not hold up a closing worker), then every scenario is closed.
 * `defaults` apply to every scenario of the file.
 */
export function useRotationScenarios(options: { credly?: CredlyFakeOptions; defaults?: () => ScenarioOptions } = {}) {
  const hosts = useFakeHosts({ credly: options.credly ?? {}, sm: true }, { clearAfterEach: false });
  const open: Scenario[] = [];
  afterEach(async () => {
    hosts.clear();
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return {
    hosts,
    scenario: async (scenarioOptions: ScenarioOptions = {}): Promise<Scenario> => {
      const s = await startScenario(hosts.credly, hosts.sm, { ...options.defaults?.(), ...scenarioOptions });
      open.push(s);
      return s;
    },
  };
}
