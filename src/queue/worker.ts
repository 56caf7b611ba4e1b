import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../redis/connection.ts';
import { isJobName, jobRegistry, type JobDependencies, type JobOutcome } from '../../jobs/index.ts';
import { isPermanent } from '../errors/rotator-error.ts';
import { createAlertPolicy, isFinalFailure, type AlertPolicyOptions } from '../alerts/policy.ts';
import type { Inventory } from '../config/index.ts';
import { CredentialBusyError, RevokeDeferredError, RotationStepError } from '../rotation/errors.ts';
import type { Logger } from '../log/logger.ts';
import { QUEUE_NAME } from '../config/queue-names.ts';
import { describeIssues } from './payload.ts';
import { retryDelay } from './retry-delay.ts';

export interface RotatorWorkerOptions {
  connection: RedisClient;
  /** BullMQ key prefix; default `{rotator}`. */
  prefix: string;
  deps: JobDependencies;
  logger: Logger;
  /** Jobs run at once by this process; default 4. Jobs of one credential never overlap (see DESIGN). */
  concurrency?: number;
  /**
   * How long a job's lock lives without renewal, in ms: a worker killed mid-job has its job taken
   * over after about this long. Default 30000.
   */
  lockDurationMs?: number;
  /** Alerts for jobs that fail for good, and their resolution. Default: none. */
  alerting?: AlertingOptions;
  /** Told of every job's end (metrics). */
  onJobFinished?: (labels: { credential: string; kind: string; job: string; outcome: string }, seconds: number) => void;
  /** Counts the jobs this process runs, so a stop knows when they ended. Default: not counted. */
  active?: ActiveJobs;
  /** Told of the worker's errors (its connections' among them). Default: each logged as `worker: error`. */
  onError?: (error: Error) => void;
  /**
   * Told of each job's outcome before the job completes (the events to consumers): when it
   * rejects, the job fails and runs again, so what it publishes is published at least once.
   */
  afterOutcome?: (outcome: JobOutcome) => Promise<void>;
}

/** The jobs running in this process now, and a promise of the moment none is. */
export interface ActiveJobs {
  readonly count: number;
  /** Resolves when no job runs (at once when none does). */
  idle(): Promise<void>;
  track<T>(run: Promise<T>): Promise<T>;
}

export function activeJobs(): ActiveJobs {
  let count = 0;
  const waiters: Array<() => void> = [];
  return {
    get count() {
      return count;
    },
    idle: () => (count === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    async track(run) {
      count += 1;
      try {
        return await run;
      } finally {
        count -= 1;
        if (count === 0) for (const resolve of waiters.splice(0)) resolve();
      }
    },
  };
}

/** What the alert policy (alerts/policy.ts) is built from, and the inventory that names a job's credential. */
export interface AlertingOptions extends AlertPolicyOptions {
  inventory: Pick<Inventory, 'credentials'>;
}

/** What the failure handler needs to know of a job's error, kept on the error itself. */
interface FailureDetails {
  errorClass?: string;
  step?: string;
}

/** How long a job waits before it tries a busy credential again. */
export const BUSY_RETRY_MS = 1_000;

export async function processJob(
  job: Job,
  deps: JobDependencies,
  logger: Logger,
  token?: string,
  afterOutcome?: (outcome: JobOutcome) => Promise<void>,
): Promise<JobOutcome> {
  const log = logger.child({ jobId: job.id, job: jobLabel(job.name), attempt: job.attemptsMade + 1 });
  if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job name ${printableName(job.name)}`);
  const definition = jobRegistry[job.name];
  const parsed = definition.schema.safeParse(job.data);
  if (!parsed.success) {
    // A malformed job fails at once: retrying cannot make its payload valid.
    throw new UnrecoverableError(`malformed ${job.name} payload: ${describeIssues(parsed.error.issues)}`);
  }
  try {
    const outcome = await definition.handle(deps, parsed.data, { jobId: job.id ?? '', attempt: job.attemptsMade + 1, logger: log });
    await afterOutcome?.(outcome);
    return outcome;
  } catch (error) {
    if (error instanceof CredentialBusyError && token !== undefined) {
      // Another job is rotating this credential: come back shortly, without spending an attempt.
      log.info({ credentialId: error.credentialId }, 'job: credential busy, delayed');
      await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    const deferred = error instanceof RotationStepError && error.cause instanceof RevokeDeferredError ? error.cause : error;
    if (deferred instanceof RevokeDeferredError && token !== undefined) {
      // A later rotation's overlap window still protects the credential: come back when it ends.
      log.info({ until: deferred.until.toISOString() }, 'job: revoke deferred');
      await job.moveToDelayed(deferred.until.getTime(), token);
      throw new DelayedError();
    }
    const err = error instanceof Error ? error : new Error(String(error));
    log.warn({ err: { type: err.name, message: err.message }, permanent: isPermanent(err) }, 'job: failed');
    const details: FailureDetails = { errorClass: err.name, ...(err instanceof RotationStepError ? { step: err.step } : {}) };
    if (isPermanent(err)) throw Object.assign(new UnrecoverableError(`${err.name}: ${err.message}`), details);
    throw Object.assign(err, details);
  }
}

export function createRotatorWorker(options: RotatorWorkerOptions): Worker {
  const { logger, deps } = options;
  const lockDuration = options.lockDurationMs ?? 30_000;
  const run = (job: Job, token?: string) => processJob(job, deps, logger, token, options.afterOutcome);
  const worker = new Worker(QUEUE_NAME, (job, token) => (options.active ? options.active.track(run(job, token)) : run(job, token)), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 4,
    lockDuration,
    stalledInterval: lockDuration,
    // Jobs of the producer's backoff type wait as retry-delay.ts says: no sooner than a Retry-After.
    settings: { backoffStrategy: retryDelay },
    autorun: true,
  });
  const seconds = (job: Job) => (job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0);
  const alerts = options.alerting && createAlertPolicy(options.alerting);
  const alertProblem = (error: unknown) => logger.error({ err: { type: (error as Error).name, message: (error as Error).message } }, 'alert: policy failed');
  // `result` is what processJob returned in this process, not a value read back from Redis.
  worker.on('completed', (job, result: JobOutcome) => {
    logger.info({ jobId: job.id, job: job.name, credentialId: result.credentialId, status: result.status }, 'job: completed');
    options.onJobFinished?.({ credential: result.credentialId, kind: result.kind, job: job.name, outcome: result.action }, seconds(job));
    // `unrevoked` is set when the job looked (rotate.ts): ids of replaced credentials still valid, or ''.
    const unrevoked = result.action === 'validated' ? undefined : result.unrevoked?.split(',').filter(Boolean);
    const checked = result.action !== 'revoke-handled';
    // The line after it says the job's alerts are decided (sent, or none due): nothing more comes of it.
    // A forced rotation refused inside the cooldown: one warning per AWSCURRENT version, however many jobs.
    const refused =
      result.action === 'force-refused' && result.currentVersionId && result.possibleAt
        ? { forceRefused: { versionId: result.currentVersionId, possibleAt: result.possibleAt } }
        : {};
    void alerts
      ?.succeeded({ credentialId: result.credentialId, kind: result.kind, jobId: job.id ?? '', checked, unrevoked, ...refused })
      .then(() => logger.debug({ jobId: job.id, credentialId: result.credentialId }, 'alert: job handled'), alertProblem);
  });
  worker.on('failed', (job, error: Error & FailureDetails) => {
    logger.error(
      { jobId: job?.id, job: job && jobLabel(job.name), attemptsMade: job?.attemptsMade, err: { type: error.name, message: error.message } },
      'job: failed',
    );
    if (!job || error.name === 'DelayedError') return;
    const final = isFinalFailure({ unrecoverable: error.name === 'UnrecoverableError', attemptsMade: job.attemptsMade, attempts: job.opts.attempts });
    const credential = credentialOf(job, deps.inventory);
    const kind = deps.inventory.credentials.find((c) => c.id === credential)?.kind ?? '';
    options.onJobFinished?.({ credential, kind, job: jobLabel(job.name), outcome: final ? 'failed' : 'retrying' }, seconds(job));
    if (!final || !options.alerting || !alerts) return;
    const credentialId = credentialOf(job, options.alerting.inventory);
    void alerts
      .failed({
        credentialId,
        known: credentialId !== UNKNOWN && credentialId !== INVALID,
        kind: options.alerting.inventory.credentials.find((c) => c.id === credentialId)?.kind ?? UNKNOWN,
        jobId: job.id ?? '',
        checked: job.name === 'check-credential',
        errorClass: error.errorClass ?? error.name,
        step: error.step,
        message: error.message,
        attempts: job.attemptsMade,
      })
      .catch(alertProblem);
  });
  worker.on(
    'error',
    options.onError ??
      ((error) => {
        logger.error({ err: { type: error.name, message: error.message } }, 'worker: error');
      }),
  );
  return worker;
}

/** Stands for a job name, or a credential, that Redis named but the rotator does not know. */
const UNKNOWN = '(unknown)';
/** Stands for a payload that is not valid for its job. */
const INVALID = '(invalid)';

/** A job's name for logs and metric labels: one the rotator knows, or UNKNOWN. */
function jobLabel(name: string): string {
  return isJobName(name) ? name : UNKNOWN;
}

/** A name from Redis, fit for a message: quoted when it is a plain word, else left out. */
function printableName(name: string): string {
  return /^[\w.-]{1,64}$/.test(name) ? `"${name}"` : '(not printable)';
}

/**
 * The credential a job names, for metric labels, status and alerts: only from a payload valid for
 * its job, and only an id the inventory has. Job data is Redis's, which anyone who can write there
 * controls.
 */
function credentialOf(job: Job, inventory: Pick<Inventory, 'credentials'>): string {
  if (!isJobName(job.name)) return UNKNOWN;
  const parsed = jobRegistry[job.name].schema.safeParse(job.data);
  if (!parsed.success) return INVALID;
  // Every job's payload names its credential (a validated id).
  const id = (parsed.data as { credentialId: string }).credentialId;
  return inventory.credentials.some((c) => c.id === id) ? id : UNKNOWN;
}
