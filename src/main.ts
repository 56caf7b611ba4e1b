import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobDependencies } from '../jobs/index.ts';
import type { CredlyTokenConfig, Env, Inventory } from './config/index.ts';
import type { Logger } from './log/logger.ts';
import { createCredlyClient, type CredlyClient } from './providers/credly/credly-client.ts';
import { createCredlyTokenProvider } from './providers/credly/credly-token.provider.ts';
import { createQueue, enqueue } from './queue/producer.ts';
import { createRedisConnection, describeRedisUrl } from './queue/redis.ts';
import { createRotatorWorker } from './queue/worker.ts';
import { createCredentialLock } from './rotation/credential-lock.ts';
import { createRotationStateStore } from './rotation/rotation-state.ts';
import type { RotatorRegistry } from './rotation/registry.ts';
import { createSecretStore, createSecretsManagerClient, type SecretStore } from './secrets/secret-store.ts';

export interface ProviderClientOptions {
  /** Deadline of one provider request, in ms. Default: the client's (15000). */
  requestTimeoutMs?: number;
}

/** One Credly client per API base, built on first use. */
function credlyClients(options: ProviderClientOptions): (credential: CredlyTokenConfig) => CredlyClient {
  const clients = new Map<string, CredlyClient>();
  return (credential) => {
    const apiBase = credential.endpoints.apiBase;
    let client = clients.get(apiBase);
    if (!client) clients.set(apiBase, (client = createCredlyClient({ apiBase, ...options })));
    return client;
  };
}

export function createRotators(options: ProviderClientOptions = {}): RotatorRegistry {
  return { 'credly-authorization-token': createCredlyTokenProvider(credlyClients(options)) };
}

/**
 * The job handlers' dependencies over real services: Secrets Manager, Redis (rotation state and
 * credential locks), the queue (delayed revokes) and the providers' HTTP APIs.
 */
export function createJobDependencies(options: {
  inventory: Inventory;
  secrets: SecretStore;
  redis: Redis;
  queue: Queue;
  prefix: string;
  lockDurationMs: number;
  rotators?: RotatorRegistry;
  now?: () => Date;
}): JobDependencies {
  const { queue } = options;
  return {
    inventory: options.inventory,
    secrets: options.secrets,
    rotators: options.rotators ?? createRotators(),
    rotation: {
      state: createRotationStateStore(options.redis, options.prefix),
      lock: createCredentialLock(options.redis, { prefix: options.prefix, ttlMs: options.lockDurationMs }),
      now: options.now ?? (() => new Date()),
      async scheduleRevoke(request, delayMs) {
        // One job id per rotation: scheduling again (a resumed rotation) adds nothing.
        await enqueue(queue, 'revoke-previous', request, { jobId: `revoke-${request.credentialId}-${request.rotationId}`, delay: delayMs });
      },
    },
  };
}

export interface WorkerRuntime {
  readonly worker: Worker;
  /**
   * Stops taking jobs and waits for the active ones up to the grace period; then closes
   * connections. Resolves `true` when every active job finished, `false` when the grace ran out
   * (those jobs are picked up again by the next worker: every step is idempotent).
   */
  stop(): Promise<boolean>;
}

/** Wiring: configuration → real dependencies → worker. The only place real clients are built. */
export async function startWorker(options: { env: Env; inventory: Inventory; logger: Logger }): Promise<WorkerRuntime> {
  const { env, inventory, logger } = options;
  const connection: Redis = createRedisConnection(env.redisUrl, 'worker');
  connection.on('error', (error: Error) => logger.warn({ err: { type: error.name, message: error.message } }, 'redis: connection error'));
  const queue = createQueue(connection, env.queuePrefix);
  const deps = createJobDependencies({
    inventory,
    secrets: createSecretStore(createSecretsManagerClient()),
    redis: connection,
    queue,
    prefix: env.queuePrefix,
    lockDurationMs: env.lockDurationMs,
  });
  const worker = createRotatorWorker({ connection, prefix: env.queuePrefix, deps, logger, lockDurationMs: env.lockDurationMs });
  await worker.waitUntilReady();
  logger.info(
    { redis: describeRedisUrl(env.redisUrl), prefix: env.queuePrefix, credentials: inventory.credentials.length },
    'worker: started',
  );

  let stopping: Promise<boolean> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({ graceMs: env.shutdownGraceMs }, 'worker: stopping, waiting for active jobs');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), env.shutdownGraceMs);
      });
      const finished = await Promise.race([worker.close().then(() => true as const), graceOver]);
      clearTimeout(timer);
      if (!finished) {
        logger.warn('worker: grace period over, closing with jobs still active');
        await worker.close(true);
      }
      await queue.close();
      connection.disconnect();
      logger.info({ clean: finished }, 'worker: stopped');
      return finished;
    })());
  return { worker, stop };
}
