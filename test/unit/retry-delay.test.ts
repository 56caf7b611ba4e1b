import { describe, expect, it } from 'vitest';
import { ProviderAuthError, ProviderUnavailableError } from '../../src/errors/provider-errors.ts';
import { DEFAULT_MAX_RETRY_AFTER_MS } from '../../src/provider-http/http.ts';
import { retryAfterOf, retryDelayMs } from '../../src/queue/retry-delay.ts';
import { RotationStepError } from '../../src/rotation/errors.ts';
import { ValidationError } from '../../src/validation/validator.ts';

const unavailable = (retryAfterMs?: number) =>
  new ProviderUnavailableError('429 Too Many Requests', { provider: 'credly', operation: 'list-tokens', status: 429, retryAfterMs });
const backoff = { delay: 1_000, jitter: 0.5 };

describe('the delay before a job is tried again', () => {
  it('is exponential with jitter without a Retry-After: within [(1 - jitter) × ceiling, ceiling], the ceiling doubling per attempt', () => {
    for (const attemptsMade of [1, 2, 3, 4]) {
      const ceiling = 1_000 * 2 ** (attemptsMade - 1);
      expect(retryDelayMs(attemptsMade, backoff, new Error('reset'), { random: () => 0 })).toBe(ceiling / 2);
      expect(retryDelayMs(attemptsMade, backoff, new Error('reset'), { random: () => 0.999_999 })).toBe(ceiling - 1);
      for (let n = 0; n < 50; n += 1) {
        const ms = retryDelayMs(attemptsMade, backoff, unavailable());
        expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
        expect(ms).toBeLessThanOrEqual(ceiling);
      }
    }
    expect(retryDelayMs(3, { delay: 1_000 }, new Error('reset'))).toBe(4_000);
  });

  it('is never shorter than the Retry-After of the provider error, however deep in the causes', () => {
    const wrapped = new RotationStepError('credly-main', 'inspect', unavailable(7_000));
    expect(retryAfterOf(wrapped)).toBe(7_000);
    expect(retryDelayMs(1, backoff, wrapped, { random: () => 0 })).toBe(7_000);
    const validation = new ValidationError('provider-unavailable', 'provider unavailable', { advice: 'wait', cause: unavailable(3_000) });
    expect(retryDelayMs(1, backoff, validation, { random: () => 0 })).toBe(3_000);
  });

  it('keeps the exponential delay when it is the longer one', () => {
    expect(retryDelayMs(4, backoff, unavailable(2_000), { random: () => 0 })).toBe(4_000);
  });

  it('honours a Retry-After only up to the longest the provider clients wait (DEFAULT_MAX_RETRY_AFTER_MS)', () => {
    expect(retryDelayMs(1, backoff, unavailable(3_600_000), { random: () => 0 })).toBe(DEFAULT_MAX_RETRY_AFTER_MS);
    expect(retryDelayMs(1, backoff, unavailable(3_600_000), { random: () => 0, maxRetryAfterMs: 90_000 })).toBe(90_000);
  });

  it('reads no Retry-After from other errors', () => {
    expect(retryAfterOf(new ProviderAuthError('401 Unauthorized', { provider: 'credly', operation: 'list-tokens', status: 401 }))).toBeUndefined();
    expect(retryAfterOf(unavailable())).toBeUndefined();
    expect(retryAfterOf('not an error')).toBeUndefined();
  });
});
