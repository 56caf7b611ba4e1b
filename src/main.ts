import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobDependencies } from '../jobs/index.ts';
import type { Env, Inventory } from './config/index.ts';
import type { Logger } from './log/logger.ts';
import { createRedisConnection, describeRedisUrl } from './queue/redis.ts';
import { createRotatorWorker } from './queue/worker.ts';
import { createSecretStore, createSecretsManagerClient } from './secrets/secret-store.ts';

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
  const deps: JobDependencies = {
    inventory,
    secrets: createSecretStore(createSecretsManagerClient()),
  };
  const connection: Redis = createRedisConnection(env.redisUrl, 'worker');
  connection.on('error', (error: Error) => logger.warn({ err: { type: error.name, message: error.message } }, 'redis: connection error'));
  const worker = createRotatorWorker({ connection, prefix: env.queuePrefix, deps, logger });
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
      connection.disconnect();
      logger.info({ clean: finished }, 'worker: stopped');
      return finished;
    })());
  return { worker, stop };
}
