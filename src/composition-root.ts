import type { Queue, Worker } from 'bullmq';
import type { RedisClient } from './redis/connection.ts';
import type { JobDependencies } from '../jobs/index.ts';
import type { CredlyOAuthAppConfig, CredlyTokenConfig, Env, Inventory } from './config/index.ts';
import { RotatorError } from './errors/rotator-error.ts';
import type { Logger } from './log/logger.ts';
import { createCredlyClient } from './kinds/credly/token-client.ts';
import { createRedisRateLimiter, type RateLimit, type RateLimiter } from './provider-http/rate-limit.ts';
import { createCredlyOAuthAppProvider } from './kinds/credly/oauth-application/provider.ts';
import { createCredlyOAuthClient } from './kinds/credly/application-client.ts';
import { createDegreedValidator } from './kinds/degreed/validator.ts';
import { createLearnlinkValidator } from './kinds/learnlink/validator.ts';
import type { ValidatorRegistry } from './validation/validate.ts';
import { createCredlyTokenProvider } from './kinds/credly/authorization-token/provider.ts';
import { buildSinks } from './alerts/build-sinks.ts';
import { createAlerter } from './alerts/alerter.ts';
import { startEscalation } from './alerts/escalation.ts';
import { createQueue, enqueue, jobOptions } from './queue/producer.ts';
import { interleaveByBudget } from './queue/fair-order.ts';
import { startScheduler } from './queue/scheduler.ts';
import { createMetrics } from './http/metrics.ts';
import { createBasicAuth } from './http/basic-auth.ts';
import type { OpsServer } from './http/ops-server.ts';
import { collectStatus } from './status/collect.ts';
import { cachedStatus } from './status/public-view.ts';
import { assertRedisUsable, createRedisConnection, describeRedis } from './redis/connection.ts';
import { createRotatorWorker } from './queue/worker.ts';
import { createCredentialLock } from './rotation/credential-lock.ts';
import { createRotationStateStore } from './rotation/rotation-state.ts';
import type { RotatorRegistry } from './rotation/registry.ts';
import { createSecretStore, createSecretsManagerClient, type SecretStore } from './secrets/secret-store.ts';
import { parseSecretValue } from './secrets/secret-values.ts';

export interface RotatorOptions {
  inventory: Inventory;
  /** Reads the managing token of OAuth application credentials. */
  secrets: Pick<SecretStore, 'readCurrent'>;
  /** Deadline of one provider request, in ms. Default: the clients' (15000). */
  requestTimeoutMs?: number;
  /** Client-side limits on provider calls (Credly: per organization). Default: none. */
  limiter?: RateLimiter;
  /**
   * Wait before asking a provider again to confirm a refusal or an absence (a refused OAuth
   * client, a token missing from a listing), in ms. Default: the providers' (1–2 s).
   */
  recheckDelayMs?: number;
}

/** The Credly budget applies to `credly:<organization>` keys; other keys are not limited here. */
function credlyLimit(limit: RateLimit): (key: string) => RateLimit | undefined {
  return (key) => (key.startsWith('credly:') ? limit : undefined);
}

/** One client per API base, built on first use. */
function perApiBase<C>(make: (apiBase: string) => C): (credential: { endpoints: { apiBase: string } }) => C {
  const clients = new Map<string, C>();
  return ({ endpoints: { apiBase } }) => {
    let client = clients.get(apiBase);
    if (!client) clients.set(apiBase, (client = make(apiBase)));
    return client;
  };
}

/** The rotatable kinds' providers over real HTTP clients. */
export function createRotators(options: RotatorOptions): RotatorRegistry {
  const http = {
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    ...(options.limiter ? { limiter: options.limiter } : {}),
  };
  const tokens = perApiBase((apiBase) => createCredlyClient({ apiBase, ...http }));
  const applications = perApiBase((apiBase) => createCredlyOAuthClient({ apiBase, ...http }));
  const recheck = options.recheckDelayMs;
  const managerOf = (credential: CredlyOAuthAppConfig): CredlyTokenConfig => {
    // Validated at load: managedBy names a credly-authorization-token of the same organization and API.
    const manager = options.inventory.credentials.find((c) => c.id === credential.managedBy);
    if (manager?.kind !== 'credly-authorization-token') throw new RotatorError(`managedBy "${credential.managedBy}" is not a Credly token credential`, { permanent: true });
    return manager;
  };
  return {
    'credly-authorization-token': createCredlyTokenProvider(tokens, recheck === undefined ? {} : { relistDelayMs: recheck }),
    'credly-oauth-application': createCredlyOAuthAppProvider({
      // Management calls carry the managing token: they go to the managing credential's API, never
      // to an address of the application's entry (the load refuses entries where the two differ).
      clientFor: (credential) => applications(managerOf(credential)),
      ...(recheck === undefined ? {} : { confirmDelayMs: recheck }),
      async managerToken(credential) {
        const manager = managerOf(credential);
        const stored = await options.secrets.readCurrent(manager.secretId);
        return parseSecretValue('credly-authorization-token', stored.secretString, { secretId: manager.secretId }).token;
      },
    }),
  };
}

/** The validated kinds' validators over real HTTP clients. */
export function createValidators(options: { requestTimeoutMs?: number } = {}): ValidatorRegistry {
  const http = options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs };
  return { 'degreed-client-credentials': createDegreedValidator(http), 'learnlink-client-credentials': createLearnlinkValidator(http) };
}

/**
 * The job handlers' dependencies over real services: Secrets Manager, Redis (rotation state and
 * credential locks), the queue (delayed revokes) and the providers' HTTP APIs.
 */
export function createJobDependencies(options: {
  inventory: Inventory;
  secrets: SecretStore;
  redis: RedisClient;
  queue: Queue;
  prefix: string;
  lockDurationMs: number;
  rotators?: RotatorRegistry;
  validators?: ValidatorRegistry;
  /** Calls per Credly organization, shared through Redis. Default: no limit. */
  credlyRateLimit?: RateLimit | 'off';
  /** Deadline of one provider request, in ms. Default: the clients' (15000). */
  requestTimeoutMs?: number;
  now?: () => Date;
}): JobDependencies {
  const { queue } = options;
  return {
    inventory: options.inventory,
    secrets: options.secrets,
    rotators:
      options.rotators ??
      createRotators({
        inventory: options.inventory,
        secrets: options.secrets,
        ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
        ...(options.credlyRateLimit && options.credlyRateLimit !== 'off'
          ? { limiter: createRedisRateLimiter(options.redis, { prefix: options.prefix, limitFor: credlyLimit(options.credlyRateLimit) }) }
          : {}),
      }),
    validators: options.validators ?? createValidators(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    rotation: {
      // The deployment's scope in every marker: the queue prefix, which no two deployments share.
      scope: options.prefix,
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

/** Rejects as soon as `signal` aborts, whatever `promise` does (a start-up step waiting on an unreachable Redis). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StartAbortedError());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A signal came while the worker was starting: it was stopped before taking any job. */
export class StartAbortedError extends RotatorError {
  constructor() {
    super('stopped by a signal before the worker started', { permanent: true });
    this.name = 'StartAbortedError';
  }
}

/**
 * Wiring: configuration → real dependencies → worker. The only place real clients are built. The
 * ops server was started before (health and signals work while Redis is being reached); it gets
 * the rest of its routes once the worker runs. When `signal` aborts during start-up, whatever was
 * made is closed and the promise rejects with StartAbortedError.
 */
export async function startWorker(options: { env: Env; inventory: Inventory; logger: Logger; ops: OpsServer; signal?: AbortSignal }): Promise<WorkerRuntime> {
  const { env, inventory, logger, ops, signal } = options;
  const secrets = createSecretStore(createSecretsManagerClient());
  // Sink secrets are read before anything else: a sink that cannot alert is a start-up failure.
  const sinks = await unlessAborted(buildSinks(inventory.alerts, { secrets }), signal);
  const connection: RedisClient = createRedisConnection(env.redis, 'worker');
  connection.on('error', (error: Error) => logger.warn({ err: { type: error.name, message: error.message } }, 'redis: connection error'));
  const queue = createQueue(connection, env.queuePrefix, jobOptions(env));
  const deps = createJobDependencies({
    inventory,
    secrets,
    redis: connection,
    queue,
    prefix: env.queuePrefix,
    lockDurationMs: env.lockDurationMs,
    credlyRateLimit: env.credlyRateLimit,
    requestTimeoutMs: env.requestTimeoutMs,
  });
  // One read of every credential per few seconds at most, however many requests and scrapes come.
  const read = () => collectStatus({ credentials: inventory.credentials, state: deps.rotation.state, queue });
  const status = cachedStatus(read);
  // Metrics keep their own one-second read: a scrape sees a job's figures at once.
  const metrics = createMetrics(read);
  const alerting = {
    alerter: createAlerter({ sinks, redis: connection, prefix: env.queuePrefix, logger, onSinkFailure: (sink) => metrics.sinkFailed(sink) }),
    inventory,
    state: deps.rotation.state,
  };
  const worker = createRotatorWorker({
    connection,
    prefix: env.queuePrefix,
    deps,
    logger,
    lockDurationMs: env.lockDurationMs,
    concurrency: env.concurrency,
    alerting,
    onJobFinished: (labels, seconds) => metrics.jobFinished(labels, seconds),
  });
  let scheduler: Awaited<ReturnType<typeof startScheduler>>;
  let ready = false;
  try {
    await unlessAborted(worker.waitUntilReady(), signal);
    ready = true;
    scheduler = await unlessAborted(
      startScheduler({
        // A schedule shared by many credentials fires them in this order: organizations interleaved.
        credentials: interleaveByBudget(inventory.credentials),
        redis: connection,
        prefix: env.queuePrefix,
        logger,
        onMissed: (credentialId) => metrics.scheduleTickMissed(credentialId),
        enqueuer: {
          async enqueue(credentialId, jobId) {
            await enqueue(queue, 'check-credential', { credentialId, trigger: 'schedule' }, { jobId });
          },
        },
      }),
      signal,
    );
  } catch (error) {
    // Before Redis answered, nothing was taken: close at once, without waiting on a Redis that may
    // not answer. Once the worker ran, a job it took may finish within the grace, as at a stop.
    if (!ready) connection.disconnect();
    const closed = Promise.allSettled([ready ? worker.close() : worker.close(true), queue.close()]);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, ready ? env.shutdownGraceMs : 2_000).unref())]);
    connection.disconnect();
    throw error;
  }
  const auth = env.dashboard ? createBasicAuth(env.dashboard) : undefined;
  ops.attach({
    // Ready only when the topology can take work: a cluster in state ok, the Sentinel group's master.
    redis: { ping: () => assertRedisUsable(connection, env.queuePrefix) },
    metrics,
    status,
    publicMessages: env.statusPublicMessages,
    ...(auth ? { auth } : {}),
    // Loaded only when on: bull-board and express cost memory every idle worker would carry.
    ...(auth ? { dashboard: (await import('./http/dashboard.ts')).createDashboard({ queue, auth }) } : {}),
  });
  const escalation = startEscalation({ credentials: inventory.credentials, state: deps.rotation.state, alerter: alerting.alerter, logger, escalateAfterMs: env.escalateAfterMs });
  logger.info(
    { redis: describeRedis(env.redis), prefix: env.queuePrefix, credentials: inventory.credentials.length, sinks: sinks.length },
    'worker: started',
  );

  let stopping: Promise<boolean> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({ graceMs: env.shutdownGraceMs }, 'worker: stopping, waiting for active jobs');
      await scheduler.stop();
      escalation.stop();
      await ops.close();
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
