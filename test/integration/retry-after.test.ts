import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCredlyFake, type CredlyFake } from '../fakes/credly.fake.ts';
import type { Fault } from '../fakes/faults.ts';
import { enqueue } from '../../src/queue/producer.ts';
import { RETRY_BACKOFF_TYPE } from '../../src/queue/retry-delay.ts';
import { startScenario, type Scenario } from '../support/rotation-harness.ts';
import { startSmProxy, type SmProxy } from '../support/sm-proxy.ts';

/*
 * The job layer honours a provider's Retry-After: a check whose provider keeps answering 429 with
 * Retry-After: N is tried again no sooner than N, whatever its own backoff says; without one, the
 * exponential backoff with jitter holds. Real Redis and BullMQ, moto, the Credly fake over HTTP.
 */
let fake: CredlyFake;
let sm: SmProxy;
const open: Scenario[] = [];

beforeAll(async () => {
  fake = await startCredlyFake();
  sm = await startSmProxy(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!);
});
afterEach(async () => {
  fake.faults.clear();
  await Promise.all(open.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await fake.close();
  await sm.close();
});

/** Attempts of one provider call inside one job attempt (the provider clients' default maxAttempts). */
const CALL_ATTEMPTS = 3;

/**
 * A not-due token whose listing fails `failedJobAttempts` job attempts in a row with `fault`, then
 * answers; the job is enqueued with the producer's backoff type, from `delayMs`. Resolves with the
 * times of the listing requests once the job completed.
 */
async function checkThroughFaults(fault: Fault, failedJobAttempts: number, delayMs: number): Promise<number[]> {
  const s = await startScenario(fake, sm, { tokenAgeDays: 10 });
  open.push(s);
  const listing = new RegExp(`/organizations/${s.organizationId}/authorization_tokens$`);
  fake.faults.add({ match: { method: 'GET', path: listing }, times: CALL_ATTEMPTS * failedJobAttempts, fault });
  const job = await enqueue(
    s.queue,
    'check-credential',
    { credentialId: s.credentialId, trigger: 'manual' },
    { attempts: failedJobAttempts + 1, backoff: { type: RETRY_BACKOFF_TYPE, delay: delayMs, jitter: 0.5 } },
  );
  await expect.poll(() => job.getState(), { timeout: 60_000, interval: 100 }).toBe('completed');
  expect((await s.queue.getJob(job.id!))?.returnvalue).toMatchObject({ action: 'not-due', credentialId: s.credentialId });
  expect(fake.faults.pending()).toBe(0);
  return fake.requests.filter((r) => r.method === 'GET' && listing.test(r.path)).map((r) => r.at.getTime());
}

/** Between the last listing of job attempt k (1-based) and the first of attempt k + 1. */
const gapAfterAttempt = (times: number[], k: number) => times[CALL_ATTEMPTS * k]! - times[CALL_ATTEMPTS * k - 1]!;

describe("retries of a job honour the provider's Retry-After (real Redis, BullMQ, the Credly fake)", () => {
  it('a job whose provider answers 429 with Retry-After: 2 is tried again no sooner than 2 s, though its own backoff is 50 ms', async () => {
    const times = await checkThroughFaults({ kind: 'status', status: 429, retryAfter: 2 }, 1, 50);
    // The faulted listings, then the next attempt's (and the reaper's after it).
    expect(times.length).toBeGreaterThan(CALL_ATTEMPTS);
    expect(gapAfterAttempt(times, 1)).toBeGreaterThanOrEqual(2_000);
  });

  it('a job whose provider answers 503 without Retry-After keeps the exponential backoff with jitter', async () => {
    const delayMs = 400;
    const times = await checkThroughFaults({ kind: 'status', status: 503 }, 2, delayMs);
    expect(times.length).toBeGreaterThan(CALL_ATTEMPTS * 2);
    // Attempt k waits within [ceiling / 2, ceiling], the ceiling doubling: 400 ms, then 800 ms.
    for (const k of [1, 2]) {
      const ceiling = delayMs * 2 ** (k - 1);
      expect(gapAfterAttempt(times, k)).toBeGreaterThanOrEqual(ceiling / 2);
      // Plus the next attempt's secret read and scheduling, far below a Retry-After-like wait.
      expect(gapAfterAttempt(times, k)).toBeLessThan(ceiling + 1_500);
    }
  });
});
