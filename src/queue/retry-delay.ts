import type { BackoffOptions, BackoffStrategy } from 'bullmq';
import { ProviderUnavailableError } from '../errors/provider-errors.ts';
import { DEFAULT_MAX_RETRY_AFTER_MS } from '../provider-http/http.ts';

/**
 * The backoff type of the rotator's jobs. BullMQ hands only types it does not know itself to the
 * worker's strategy (`retryDelay` below), so it cannot be `exponential`.
 */
export const RETRY_BACKOFF_TYPE = 'exponential-retry-after';

/** How deep a cause chain is searched for a Retry-After (RotationStepError → ProviderUnavailableError is 2). */
const MAX_CAUSE_DEPTH = 5;

/** The provider's Retry-After carried by the error or one of its causes, in ms; undefined when none. */
export function retryAfterOf(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth += 1) {
    if (current instanceof ProviderUnavailableError && current.retryAfterMs !== undefined) return current.retryAfterMs;
    current = current.cause;
  }
  return undefined;
}

/**
 * The wait before attempt `attemptsMade + 1`: exponential from `delay`, with jitter (as BullMQ's own
 * `exponential`, so replicas retrying after one outage do not hit the provider in step), and never
 * shorter than the provider's Retry-After, up to `maxRetryAfterMs`: a longer one would park the
 * job past the point where its failure alerts a person.
 */
export function retryDelayMs(
  attemptsMade: number,
  backoff: Pick<BackoffOptions, 'delay' | 'jitter'>,
  error: unknown,
  { maxRetryAfterMs = DEFAULT_MAX_RETRY_AFTER_MS, random = Math.random }: { maxRetryAfterMs?: number; random?: () => number } = {},
): number {
  const ceiling = Math.round((backoff.delay ?? 0) * 2 ** Math.max(0, attemptsMade - 1));
  const jitter = Math.min(1, Math.max(0, backoff.jitter ?? 0));
  const exponential = Math.floor(ceiling * (1 - jitter) + random() * ceiling * jitter);
  const retryAfter = retryAfterOf(error);
  return retryAfter === undefined ? exponential : Math.max(exponential, Math.min(retryAfter, maxRetryAfterMs));
}

/** The worker's `settings.backoffStrategy`: `retryDelayMs` with the job's own delay and jitter. */
export const retryDelay: BackoffStrategy = (attemptsMade, _type, error, job) => {
  const backoff = job?.opts.backoff;
  const options = typeof backoff === 'object' ? backoff : { delay: backoff ?? 0 };
  return retryDelayMs(attemptsMade, options, error);
};
