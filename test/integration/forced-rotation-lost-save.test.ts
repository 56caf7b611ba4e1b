/**
 * A forced rotation whose first fenced save of its record fails (the lease is lost to another holder
 * between the last check and the save) is retried by BullMQ: the retry must rotate for real, never
 * report the rotation done when Secrets Manager promoted nothing. End to end: a worker in its own
 * process, `rotator trigger --force --wait` as a user runs it, real Redis, moto and the Credly fake.
 */
import { describe, expect, it } from 'vitest';
import type { RotationJobOutcome } from '../../jobs/index.ts';
import { lockKey } from '../../src/lease/credential-lock.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, logLines, store, useRedis, useScenarios } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {} });
const scenarios = useScenarios('lost-save');
const redis = useRedis();

describe('a forced rotation whose record save fails, against a worker process', () => {
  it('the retried job rotates for real: trigger --force --wait exits 0 only with a new, working token in AWSCURRENT', async () => {
    // Not due: only --force rotates it.
    const c = credlyToken(hosts.credly, { folder: 'lost-save', description: 'made by hand', ageDays: 10 });
    const d = await scenarios.build({
      credentials: [c],
      env: { ROTATOR_LOCK_DURATION: '5s', ROTATOR_JOB_BACKOFF: '1s', LOG_LEVEL: 'debug' },
    });
    const worker = await d.startWorker(30_000);
    // The second listing of the job (the reaper's, after inspect's) is held at the fake: the job
    // sits between its last fenced write and the save of the new rotation's record.
    const listings = () => hosts.credly.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/${c.organizationId}/authorization_tokens`)).length;
    hosts.credly.faults.add({ match: { method: 'GET', path: `${c.organizationId}/authorization_tokens` }, skip: 1, fault: { kind: 'latency', ms: 15_000 } });

    const trigger = d.spawn(['trigger', c.id, '--force', '--wait', '--json', '--timeout', '90']);
    await expect.poll(listings, { timeout: 20_000, interval: 50 }).toBe(2);
    // The lease lapses meanwhile and another holder takes the lock for a moment (then it lapses too):
    // the worker's renewal finds it gone, its fenced calls stop, and the save of its record is refused.
    await redis().set(lockKey(d.prefix, c.id), 'another-holder', 'PX', 3_000);
    await worker.waitForLog('job: failed', 20_000);
    const failed = logLines(worker).find((l) => l.msg === 'job: failed') as { err: { type: string } };
    expect(failed.err.type).toBe('LeaseLostError');

    const { code } = await trigger.exited;
    const output = trigger.output();
    const answer = JSON.parse(output.split('\n').find((l) => l.startsWith('{"jobId"')) ?? '{}') as { state: string; outcome?: RotationJobOutcome };
    const now = await c.current();
    // Exit 0 means done: AWSCURRENT moved to a new token that Credly accepts.
    expect(answer.outcome?.action, output).not.toBe('already-done');
    expect(code, output).toBe(0);
    expect(answer).toMatchObject({ state: 'completed', outcome: { status: 'success', action: 'rotated' } });
    expect(now.token).not.toBe(c.token.token);
    expect(hosts.credly.state.isTokenValid(now.token)).toBe(true);
    const versions = await store.listVersions(c.secretId, { includeDeprecated: true });
    expect(versions.find((v) => v.stages.includes('AWSCURRENT'))?.versionId).toBe(answer.outcome?.rotationId);
  }, 120_000);
});
