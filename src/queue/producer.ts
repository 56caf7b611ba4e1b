import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from '../redis/connection.ts';
import { jobRegistry, type JobName } from '../../jobs/index.ts';
import { RotatorError } from '../errors/rotator-error.ts';
import { QUEUE_NAME } from '../config/queue-names.ts';
import { describeIssues } from './payload.ts';
import { RETRY_BACKOFF_TYPE } from './retry-delay.ts';

export class InvalidJobPayloadError extends RotatorError {
  constructor(name: string, detail: string) {
    super(`refused to enqueue ${name}: ${detail}`, { permanent: true });
  }
}

/**
 * Retries for transient failures: exponential backoff from 5 s with jitter, so replicas retrying
 * after one outage do not hit the provider in step, and never sooner than a provider's Retry-After
 * (retry-delay.ts; the worker computes it). Finished jobs are trimmed so Redis does not grow over
 * years of schedules.
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: RETRY_BACKOFF_TYPE, delay: 5_000, jitter: 0.5 },
  removeOnComplete: { count: 1000, age: 30 * 24 * 3600 },
  removeOnFail: { count: 5000, age: 90 * 24 * 3600 },
};

/** The default job options with the environment's attempts and backoff. */
export function jobOptions(env: { jobAttempts: number; jobBackoffMs: number }): JobsOptions {
  return { ...DEFAULT_JOB_OPTIONS, attempts: env.jobAttempts, backoff: { type: RETRY_BACKOFF_TYPE, delay: env.jobBackoffMs, jitter: 0.5 } };
}

export function createQueue(connection: RedisClient, prefix: string, defaultJobOptions: JobsOptions = DEFAULT_JOB_OPTIONS): Queue {
  return new Queue(QUEUE_NAME, { connection, prefix, defaultJobOptions });
}

/** Validates the payload against its job's schema before it reaches Redis. */
export async function enqueue(queue: Queue, name: JobName, payload: unknown, options: JobsOptions = {}) {
  const parsed = jobRegistry[name].schema.safeParse(payload);
  if (!parsed.success) {
    throw new InvalidJobPayloadError(name, describeIssues(parsed.error.issues));
  }
  return queue.add(name, parsed.data, options);
}
