import type { Queue, Worker } from 'bullmq';
import type { RedisClient } from './redis/connection.ts';
import type { JobDependencies, JobOutcome } from '../jobs/index.ts';
import { radarSettings, type Env, type Inventory, type RateLimit } from './config/index.ts';
import { asKindConfig, type FailedLogout, type KindRuntimes, type SkippedRecord } from './kinds/kind.ts';
import { budgetOf, buildKinds, kindOf, organizationsOf, radarClients, runRadar, type CredentialConfig } from './kinds/registry.ts';
import { RotatorError } from './errors/rotator-error.ts';
import type { Logger } from './log/logger.ts';
import { connectionErrorLog } from './log/connection-errors.ts';
import type { ProviderObserver } from './provider-http/http.ts';
import { createRedisRateLimiter, type RateLimiter } from './provider-http/rate-limit.ts';
import { buildSinks, resolveSinkSecret } from './alerts/build-sinks.ts';
import { factsOf, startEvents } from './events/events.ts';
import { createAlerter, type Alerter } from './alerts/alerter.ts';
import { startEscalation } from './alerts/escalation.ts';
import { createExpiryReader } from './alerts/expiry.ts';
import { createQueue, enqueue, jobOptions } from './queue/producer.ts';
import { interleaveByBudget } from './queue/fair-order.ts';
import { startScheduler } from './queue/scheduler.ts';
import { startRadarWatch } from './radar/watch.ts';
import { createMetrics, type RotatorMetrics } from './http/metrics.ts';
import { createBasicAuth } from './http/basic-auth.ts';
import type { OpsServer } from './http/ops-server.ts';
import { collectStatus } from './status/collect.ts';
import { cachedStatus, lastKnownStatus } from './status/public-view.ts';
import { assertRedisUsable, createRedisConnection, describeRedis } from './redis/connection.ts';
import { activeJobs, createRotatorWorker } from './queue/worker.ts';
import { createCredentialLock } from './lease/credential-lock.ts';
import { createRotationStateStore } from './state/rotation-state.ts';
import type { SecretStore } from './secrets/store-types.ts';
import { lazySecretStore } from './secrets/lazy-store.ts';

export interface KindOptions {
  inventory: Pick<Inventory, 'credentials'>;
  /** Reads the secrets one credential needs of another (an application's managing token). */
  secrets: Pick<SecretStore, 'readCurrent'>;
  /** Deadline of one provider request, in ms. Default: the clients' (15000). */
  requestTimeoutMs?: number;
  /** Base of the retry backoff of provider calls, in ms. Default: the clients'. */
  backoffMs?: number;
  /** Client-side limits on provider calls (per the budgets the kinds name). Default: none. */
  limiter?: RateLimiter;
  /**
   * Wait before asking a provider again to confirm a refusal or an absence (a refused OAuth
   * client, a token missing from a listing), in ms. Default: the kinds' (1–2 s).
   */
  recheckDelayMs?: number;
  /** This deployment's scope (the queue prefix): what makes a listed record the credential's own. */
  scope?: string;
  /** Told of each listed record skipped for not fitting the documented shape (recordSkipReporter). */
  onRecordSkipped?: (skipped: SkippedRecord) => void;
  /** Told of each failed logout after a validation that otherwise worked (validationWarningReporter). */
  onLogoutFailed?: (failed: FailedLogout) => void;
  /** Told of every provider call's attempts and rate-limit waits (metrics). */
  observe?: ProviderObserver;
}

/** Every kind's rotation provider or validator, over real HTTP clients. */
export function createKinds(options: KindOptions): KindRuntimes {
  return buildKinds({
    credentials: options.inventory.credentials,
    secrets: options.secrets,
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }),
    ...(options.limiter ? { limiter: options.limiter } : {}),
    ...(options.recheckDelayMs === undefined ? {} : { recheckDelayMs: options.recheckDelayMs }),
    ...(options.scope === undefined ? {} : { scope: options.scope }),
    ...(options.onRecordSkipped ? { onRecordSkipped: options.onRecordSkipped } : {}),
    ...(options.onLogoutFailed ? { onLogoutFailed: options.onLogoutFailed } : {}),
    ...(options.observe ? { observe: options.observe } : {}),
  });
}

/**
 * A skipped record is counted each time a listing skips it (`rotator_provider_records_skipped_total`)
 * and logged once per provider and record id by this process: every credential of an organization
 * lists it, at every check.
 */
export function recordSkipReporter(logger: Logger, count: (skipped: SkippedRecord) => void, maxRemembered = 10_000): (skipped: SkippedRecord) => void {
  const logged = new Set<string>();
  return (skipped) => {
    count(skipped);
    const key = `${skipped.provider}:${skipped.recordId ?? '(no id)'}`;
    if (logged.has(key)) return;
    if (logged.size < maxRemembered) logged.add(key);
    logger.warn(
      { provider: skipped.provider, kind: skipped.kind, credentialId: skipped.credentialId, recordId: skipped.recordId ?? null, fields: skipped.fields },
      "provider: a listed record that is not the credential's own does not fit the documented shape; skipped",
    );
  };
}

/**
 * What the inventory asks for that is allowed but risky, one warning line per credential at load:
 * `revokePreviousAfter: 0s` revokes the replaced credential the moment the new one is promoted,
 * while a consumer reading through AWS's caching client may hold the old value for up to an hour.
 */
export function warnAboutInventory(inventory: Pick<Inventory<CredentialConfig>, 'credentials'>, logger: Logger): void {
  for (const credential of inventory.credentials) {
    if (kindOf(credential.kind)?.mode !== 'rotate' || asKindConfig(credential).revokePreviousAfterMs !== 0) continue;
    logger.warn(
      { credentialId: credential.id, kind: credential.kind, field: 'revokePreviousAfter', value: '0s' },
      `inventory: credential "${credential.id}" has revokePreviousAfter 0s: its replaced credential is revoked the moment the new one is promoted, ` +
        'while a consumer reading the secret through a cache (AWS caching clients keep a value for an hour by default) may still use it',
    );
  }
}

/**
 * The limit of each budget the inventory's credentials spend (a provider organization, say): the
 * rate its kind's variable sets. Budgets of no kind's limit, and limits turned `off`, never wait.
 */
function limitsByBudget(credentials: readonly CredentialConfig[], rates: Readonly<Record<string, RateLimit | 'off'>>): Map<string, RateLimit> {
  const limits = new Map<string, RateLimit>();
  for (const credential of credentials) {
    const rateLimit = kindOf(credential.kind)?.rateLimit;
    const rate = rateLimit ? rates[rateLimit.variable] : undefined;
    if (rateLimit && rate && rate !== 'off') limits.set(rateLimit.budget(asKindConfig(credential)), rate);
  }
  return limits;
}

/**
 * The limiter of the providers' calls, shared through Redis by every worker and command of the
 * deployment (its prefix); undefined when no budget the inventory spends has a limit.
 */
export function providerLimiter(
  redis: RedisClient,
  prefix: string,
  credentials: readonly CredentialConfig[],
  rates: Readonly<Record<string, RateLimit | 'off'>>,
): RateLimiter | undefined {
  const limits = limitsByBudget(credentials, rates);
  return limits.size > 0 ? createRedisRateLimiter(redis, { prefix, limitFor: (key) => limits.get(key) }) : undefined;
}

/**
 * The job handlers' dependencies over real services: Secrets Manager, Redis (rotation state and
 * credential locks), the queue (delayed revokes) and the providers' HTTP APIs.
 */
export function createJobDependencies(options: {
  inventory: Inventory<CredentialConfig>;
  secrets: SecretStore;
  redis: RedisClient;
  queue: Queue;
  prefix: string;
  lockDurationMs: number;
  kinds?: KindRuntimes;
  /** The kinds' rate limits by variable (Env.rateLimits), shared through Redis. Default: no limit. */
  rateLimits?: Readonly<Record<string, RateLimit | 'off'>>;
  /** Deadline of one provider request, in ms. Default: the clients' (15000). */
  requestTimeoutMs?: number;
  /** Told of each listed record skipped for not fitting the documented shape (log, metric). */
  onRecordSkipped?: (skipped: SkippedRecord) => void;
  /** Told of each failed logout after a validation that otherwise worked (warning, metric). */
  onLogoutFailed?: (failed: FailedLogout) => void;
  /** Told of every provider call's attempts and rate-limit waits (metrics). */
  observe?: ProviderObserver;
  now?: () => Date;
}): JobDependencies {
  const { queue } = options;
  const http = options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs };
  const limiter = options.rateLimits ? providerLimiter(options.redis, options.prefix, options.inventory.credentials, options.rateLimits) : undefined;
  return {
    inventory: options.inventory,
    secrets: options.secrets,
    kinds:
      options.kinds ??
      createKinds({
        inventory: options.inventory,
        secrets: options.secrets,
        ...http,
        ...(limiter ? { limiter } : {}),
        // The scope written into markers: a listed record carrying it for the credential is the credential's own.
        scope: options.prefix,
        ...(options.onRecordSkipped ? { onRecordSkipped: options.onRecordSkipped } : {}),
        ...(options.onLogoutFailed ? { onLogoutFailed: options.onLogoutFailed } : {}),
        ...(options.observe ? { observe: options.observe } : {}),
      }),
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
   * Stops taking jobs and waits for the active ones up to the grace period; then closes the
   * connections, giving Redis CLOSE_ALLOWANCE_MS to answer before they are dropped. Resolves within
   * grace + CLOSE_ALLOWANCE_MS whatever Redis, Secrets Manager or a provider does: `true` when every
   * active job ended within the grace, `false` when the grace ran out (those jobs are abandoned and
   * picked up again once their locks expire: every step is idempotent).
   */
  stop(): Promise<boolean>;
}

/** How long a stop waits, after the grace, for Redis to take the close before the connections are dropped. */
export const CLOSE_ALLOWANCE_MS = 3_000;

/** Whether `promise` settles within `ms` (never rejects; the timer does not keep the process alive). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
  return settled;
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
export async function startWorker(options: {
  env: Env;
  inventory: Inventory<CredentialConfig>;
  logger: Logger;
  ops: OpsServer;
  /** The metrics the ops server already serves (process metrics from the start). Default: new ones. */
  metrics?: RotatorMetrics;
  signal?: AbortSignal;
}): Promise<WorkerRuntime> {
  const { env, inventory, logger, ops, signal } = options;
  warnAboutInventory(inventory, logger);
  // Connection errors (every reconnect attempt while Redis is down, re-emitted by the queue and the
  // worker) make one line per source per 10 s at most, with the count held back.
  const connectionErrors = connectionErrorLog(logger);
  // The AWS SDK is loaded with the first secret read (a sink's secret at once, else the first job).
  const secrets = lazySecretStore(async () => {
    const { createSecretStore, createSecretsManagerClient } = await import('./secrets/secret-store.ts');
    const client = createSecretsManagerClient();
    // Every Secrets Manager call, its retries included, counted by operation and outcome (the
    // exception's name: an SRE graphs "Secrets Manager denies us" as AccessDeniedException).
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const started = performance.now();
        const operation = context.commandName?.replace(/Command$/, '') ?? 'unknown';
        const seconds = () => (performance.now() - started) / 1000;
        try {
          const result = await next(args);
          later.metrics?.secretsManagerCall(operation, 'ok', seconds());
          return result;
        } catch (error) {
          const name = (error as Error).name;
          later.metrics?.secretsManagerCall(operation, /^[A-Za-z]{1,64}$/.test(name) ? name : 'Error', seconds());
          throw error;
        }
      },
      { step: 'initialize', name: 'rotatorMetrics' },
    );
    return createSecretStore(client);
  });
  // Sink secrets are read before anything else: a sink that cannot alert is a start-up failure.
  const sinks = await unlessAborted(buildSinks(inventory.alerts, { secrets }), signal);
  // So are the event receivers' signing secrets: a receiver that cannot be told is one too.
  const receivers = await unlessAborted(
    Promise.all(
      (inventory.events ?? []).map(async (r) => ({
        id: r.id,
        url: r.url,
        credentials: r.credentials,
        signingSecret: await resolveSinkSecret(r.id, r.signingSecret, process.env, secrets, 'event receiver'),
      })),
    ),
    signal,
  );
  const connection: RedisClient = createRedisConnection(env.redis, 'worker', { allowPlaintext: env.allowPlaintextRedis });
  connection.on('error', (error: Error) => connectionErrors.error('redis', error));
  connection.on('ready', () => {
    for (const source of ['redis', 'queue', 'worker']) connectionErrors.restored(source);
  });
  // A cluster reports its nodes' own errors apart (a node refused in plain text among them).
  connection.on('node error', (error: Error) => connectionErrors.error('redis', error));
  const queue = createQueue(connection, env.queuePrefix, jobOptions(env));
  // Without a listener BullMQ prints the queue's errors with console.error.
  queue.on('error', (error: Error) => connectionErrors.error('queue', error));
  // The metrics and the alerter are made once the status reader exists (below), before any job runs.
  const later: { metrics?: RotatorMetrics; alerter?: Alerter } = {};
  const deps = createJobDependencies({
    observe: {
      attempt: (r) => later.metrics?.providerAttempt(r),
      rateLimitWait: (r) => later.metrics?.providerRateLimitWait(r.provider, r.seconds),
    },
    onRecordSkipped: recordSkipReporter(logger, (skipped) => later.metrics?.recordSkipped(skipped.provider, skipped.kind)),
    onLogoutFailed: (failed) => {
      later.metrics?.logoutFailed(failed.credentialId, failed.kind);
      logger.warn({ credentialId: failed.credentialId, kind: failed.kind, detail: failed.detail }, 'validation: the credential works, but the logout failed');
      void later.alerter?.logoutFailed({ credentialId: failed.credentialId, kind: failed.kind, detail: failed.detail });
    },
    inventory,
    secrets,
    redis: connection,
    queue,
    prefix: env.queuePrefix,
    lockDurationMs: env.lockDurationMs,
    rateLimits: env.rateLimits,
    requestTimeoutMs: env.requestTimeoutMs,
  });
  // One read of every credential per few seconds at most, however many requests and scrapes come.
  const read = () => collectStatus({ credentials: inventory.credentials, state: deps.rotation.state, queue });
  // The page's view: read at most once per few seconds, and within half a second whatever Redis
  // does (the last view read, marked stale, while it does not answer).
  const status = lastKnownStatus(cachedStatus(read), { connected: () => connection.status === 'ready' });
  // Metrics keep their own one-second read, never waited on for long: a scrape sees a job's figures
  // at once while Redis answers, and the last figures read (with rotator_redis_up 0) while it does not.
  const metrics = (later.metrics = options.metrics ?? createMetrics());
  metrics.readStatusFrom({ read, connected: () => connection.status === 'ready' });
  metrics.known({
    credentials: inventory.credentials.flatMap((c) => {
      const definition = kindOf(c.kind);
      return definition ? [{ credential: c.id, kind: c.kind, provider: definition.provider, mode: definition.mode }] : [];
    }),
    sinks: sinks.map((sink) => sink.id),
    receivers: receivers.map((r) => r.id),
  });
  const active = activeJobs();
  const alerter = (later.alerter = createAlerter({
    sinks,
    redis: connection,
    prefix: env.queuePrefix,
    logger,
    revokeByHand: (kind) => {
      const definition = kindOf(kind);
      return definition?.mode === 'rotate' ? definition.revokeByHand : undefined;
    },
    onSinkFailure: (sink) => metrics.sinkFailed(sink),
  }));
  // Redis's expiry, or the stored secret's when Redis lost it: failure alerts and escalation count down to it.
  const expiry = createExpiryReader({ credentials: inventory.credentials, kinds: deps.kinds, secrets, state: deps.rotation.state, logger });
  const alerting = { alerter, inventory, state: deps.rotation.state, expiry };
  // Events to the secrets' consumers: the facts of each job's outcome, queued before the job completes.
  const events = receivers.length
    ? startEvents({
        connection,
        prefix: env.queuePrefix,
        receivers,
        logger,
        attempts: Math.max(10, env.jobAttempts),
        backoffMs: env.jobBackoffMs,
        onDelivery: (receiver, outcome) => metrics.eventDelivery(receiver, outcome),
      })
    : undefined;
  const worker = createRotatorWorker({
    ...(events
      ? {
          afterOutcome: async (outcome: JobOutcome) => {
            for (const event of await factsOf(outcome, { credentials: inventory.credentials, state: deps.rotation.state, now: deps.rotation.now }))
              await events.publish(event);
          },
        }
      : {}),
    connection,
    prefix: env.queuePrefix,
    deps,
    logger,
    lockDurationMs: env.lockDurationMs,
    concurrency: env.concurrency,
    alerting,
    onJobFinished: (labels, seconds) => metrics.jobFinished(labels, seconds),
    active,
    onError: (error) => connectionErrors.error('worker', error),
  });
  let scheduler: Awaited<ReturnType<typeof startScheduler>>;
  let ready = false;
  try {
    await unlessAborted(worker.waitUntilReady(), signal);
    ready = true;
    scheduler = await unlessAborted(
      startScheduler({
        // A schedule shared by many credentials fires them in this order: organizations interleaved.
        credentials: interleaveByBudget(inventory.credentials, budgetOf),
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
    const closed = Promise.allSettled([ready ? worker.close() : worker.close(true), queue.close(), events?.close()]);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, ready ? env.shutdownGraceMs : 2_000).unref())]);
    connection.disconnect();
    throw error;
  }
  const auth = env.dashboard ? createBasicAuth({ ...env.dashboard, logger }) : undefined;
  ops.attach({
    // Ready only when the topology can take work: a cluster in state ok, the Sentinel group's master.
    // A connection that is down is answered at once (no command waits in its offline queue).
    redis: {
      ping: async () => {
        if (connection.status !== 'ready') throw new Error(`connection ${connection.status}`);
        await assertRedisUsable(connection, env.queuePrefix);
      },
    },
    status,
    publicMessages: env.statusPublicMessages,
    ...(auth ? { auth } : {}),
    // Loaded only when on: bull-board and express cost memory every idle worker would carry.
    ...(auth ? { dashboard: (await import('./http/dashboard.ts')).createDashboard({ queue, auth }) } : {}),
  });
  const escalation = startEscalation({
    credentials: inventory.credentials,
    state: deps.rotation.state,
    alerter: alerting.alerter,
    expiry,
    logger,
    escalateAfterMs: env.escalateAfterMs,
  });
  // The expiry radar over every token of the organizations the inventory reaches (nothing to watch without one).
  const radarOptions = radarSettings(inventory);
  const radar =
    env.radar && organizationsOf(inventory.credentials).length > 0
      ? startRadarWatch({
          run: () =>
            runRadar({
              credentials: inventory.credentials,
              secrets,
              ...radarClients({
                requestTimeoutMs: env.requestTimeoutMs,
                limiter: providerLimiter(connection, env.queuePrefix, inventory.credentials, env.rateLimits),
              }),
            }),
          schedule: radarOptions.schedule,
          withinMs: radarOptions.warnWithin,
          onReport: (report) => metrics.radar(report),
          onExpiring: (alert) => alerter.radarExpiring(alert),
          logger,
        })
      : undefined;
  logger.info({ redis: describeRedis(env.redis), prefix: env.queuePrefix, credentials: inventory.credentials.length, sinks: sinks.length }, 'worker: started');

  let stopping: Promise<boolean> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({ graceMs: env.shutdownGraceMs, active: active.count }, 'worker: stopping, waiting for active jobs');
      await scheduler.stop();
      escalation.stop();
      // A radar run in progress is abandoned (it only reads); its report is no longer published.
      radar?.stop();
      await ops.close();
      // Takes no more jobs from now on; settles once the active ones ended, their results were
      // recorded and its connections closed (never, while Redis is down: it is not awaited alone).
      const closing = worker.close();
      closing.catch(() => undefined);
      const finished = await settlesWithin(active.idle(), env.shutdownGraceMs);
      // Deliveries in flight end (each within its timeout); queued ones wait in Redis for the next worker.
      if (events) await settlesWithin(events.close(), CLOSE_ALLOWANCE_MS);
      if (!finished) logger.warn({ active: active.count }, 'worker: grace period over, leaving the active jobs (taken up again once their locks expire)');
      // Closed politely (the jobs' results recorded) when the jobs ended and Redis answers, within
      // CLOSE_ALLOWANCE_MS; dropped at once when jobs were abandoned (their close would wait for
      // them) or Redis is away (a QUIT would wait for it).
      if (finished && connection.status === 'ready') {
        const closed = await settlesWithin(Promise.allSettled([closing, queue.close()]), CLOSE_ALLOWANCE_MS);
        if (!closed) logger.warn({ allowanceMs: CLOSE_ALLOWANCE_MS }, 'worker: Redis did not take the close in time; connections dropped');
      } else {
        for (const dropping of [worker.disconnect(), queue.disconnect()]) dropping.catch(() => undefined);
      }
      connection.disconnect();
      connectionErrors.flush();
      logger.info({ clean: finished }, 'worker: stopped');
      return finished;
    })());
  return { worker, stop };
}
