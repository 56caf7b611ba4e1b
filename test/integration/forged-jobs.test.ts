import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rotatorDescription } from '../../src/kinds/credly/marker.ts';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { rotationKey, statusKey } from '../../src/state/rotation-state.ts';
import { useRotationScenarios, type Scenario } from '../support/rotation-harness.ts';
import { rotationOutcome } from '../support/job-outcome.ts';

/**
 * Redis is a boundary: jobs written there by anyone (BullMQ's Queue.add past the producer's
 * validation, and raw writes to job data and rotation state) delete nothing at Credly.
 */

const labels: Array<{ credential: string; kind: string; job: string; outcome: string }> = [];
const { hosts, scenario } = useRotationScenarios({ defaults: () => ({ onJobFinished: (l) => labels.push(l) }) });

const deletes = (s: Scenario) => hosts.credly.requests.filter((r) => r.method === 'DELETE' && r.path.includes(s.organizationId)).length;

/** Waits until every job has ended (completed or failed) or sits delayed, as `delayed` says it may. */
async function settle(s: Scenario, ids: string[], delayed: string[] = []): Promise<void> {
  await expect
    .poll(
      async () => {
        const states = await Promise.all(ids.map(async (id) => [id, await s.queue.getJobState(id)] as const));
        return states.filter(([id, state]) => !(state === 'completed' || state === 'failed' || (state === 'delayed' && delayed.includes(id))));
      },
      { timeout: 20_000, interval: 200 },
    )
    .toEqual([]);
}

describe('forged jobs in Redis delete nothing', () => {
  it('revoke-previous jobs naming credentials the rotation did not replace, hostile payloads, raw job data and rotation records', async () => {
    const s = await scenario({ extra: 'revokePreviousAfter: 1h' });
    const rotated = await s.run();
    expect(rotated.outcome).toMatchObject({ action: 'rotated' });
    const rotationId = rotationOutcome(rotated.outcome).rotationId!;
    const current = await s.current();
    // What a forger would like deleted: another integration's token, another credential's, the current one.
    const unrelated = hosts.credly.state.addToken(s.organizationId, { description: 'LMS integration of another team' });
    const othersToken = hosts.credly.state.addToken(s.organizationId, {
      description: rotatorDescription(randomUUID(), 'another-credential', { scope: s.prefix, secretId: s.secretId, replaces: '' }),
    });
    const victims = [unrelated, othersToken, hosts.credly.state.findToken(current.tokenId!)!, s.original];
    const before = deletes(s);

    const revoke = (data: unknown, jobId = randomUUID()) => s.queue.add('revoke-previous', data, { jobId, attempts: 1 });
    const forged = await Promise.all([
      revoke({ credentialId: s.credentialId, rotationId: randomUUID(), previousRef: unrelated.id }),
      revoke({ credentialId: s.credentialId, rotationId, previousRef: unrelated.id }),
      revoke({ credentialId: s.credentialId, rotationId, previousRef: othersToken.id }),
      revoke({ credentialId: s.credentialId, rotationId, previousRef: current.tokenId }),
      revoke({ credentialId: 'credly-ghost', rotationId, previousRef: unrelated.id }),
      revoke({ credentialId: s.credentialId, rotationId, previousRef: '../authorization_tokens' }),
      revoke({ credentialId: `${s.credentialId}"} rotator_jobs_total{credential="x`, rotationId, previousRef: unrelated.id }),
      revoke({ credentialId: s.credentialId, rotationId, previousRef: unrelated.id, extra: 'field' }),
      revoke({ credentialId: s.credentialId, rotationId, previousRef: 'x'.repeat(100_000) }),
      revoke(JSON.parse(`{"__proto__": {"credentialId": "${s.credentialId}"}, "rotationId": "${rotationId}", "previousRef": "${unrelated.id}"}`)),
      revoke(null),
      s.queue.add('delete-token', { tokenId: unrelated.id }, { attempts: 1 }),
      s.queue.add(`revoke-previous\n${'y'.repeat(500)}`, { credentialId: s.credentialId, rotationId, previousRef: unrelated.id }, { attempts: 1 }),
    ]);
    // A revoke of the original, forged early: the overlap window defers it, it does not run now.
    const early = await revoke({ credentialId: s.credentialId, rotationId, previousRef: s.original.id });
    await settle(
      s,
      [...forged, early].map((j) => j.id!),
      [early.id!],
    );

    // Raw write: the genuine delayed revoke's data rewritten to name another integration's token.
    const genuine = `revoke-${s.credentialId}-${rotationId}`;
    await s.redis.hset(`${s.prefix}:${QUEUE_NAME}:${genuine}`, 'data', JSON.stringify({ credentialId: s.credentialId, rotationId, previousRef: unrelated.id }));
    s.advance(3_600_000 + 1_000);
    await (await s.queue.getJob(genuine))!.promote();
    await settle(s, [genuine]);

    // Raw writes: a rotation record at its revoke step naming it, for a rotation id that exists and one
    // that does not; and a status that names it as the previous credential, past its window.
    await s.redis.hset(statusKey(s.prefix, s.credentialId), { previousRef: unrelated.id, previousRevokeAt: new Date(0).toISOString() });
    for (const forgedRotation of [rotationId, randomUUID()]) {
      await s.redis.hset(rotationKey(s.prefix, s.credentialId), {
        rotationId: forgedRotation,
        jobId: 'forged',
        step: 'revoke',
        startedAt: new Date().toISOString(),
        previousRef: unrelated.id,
        forced: 'false',
      });
      await s.run({ attempts: 1 });
      await s.redis.del(rotationKey(s.prefix, s.credentialId));
    }

    expect(deletes(s) - before).toBe(0);
    for (const victim of victims.slice(0, 3)) expect(hosts.credly.state.isTokenValid(victim.token), victim.description ?? victim.id).toBe(true);
    // Metric labels come from validated payloads of inventory credentials only.
    expect(new Set(labels.map((l) => l.credential))).toEqual(new Set([s.credentialId, '(invalid)', '(unknown)']));
    expect(new Set(labels.map((l) => l.job))).toEqual(new Set(['check-credential', 'revoke-previous', '(unknown)']));
    expect(await s.redis.exists(statusKey(s.prefix, 'credly-ghost'))).toBe(0);
    expect(s.logs.join('\n')).not.toContain('y'.repeat(100));
    expect(s.logs.some((l) => l.includes('refused to revoke'))).toBe(true);
  });

  it('a forged rotation record cannot turn the immediate revoke of a rotation against another token', async () => {
    const s = await scenario();
    const rotated = await s.run();
    expect(rotated.outcome).toMatchObject({ action: 'rotated', previousState: 'revoked' });
    const unrelated = hosts.credly.state.addToken(s.organizationId, { description: 'LMS integration of another team' });
    const before = deletes(s);
    await s.redis.hset(rotationKey(s.prefix, s.credentialId), {
      rotationId: rotationOutcome(rotated.outcome).rotationId!,
      jobId: 'forged',
      step: 'revoke',
      startedAt: new Date().toISOString(),
      previousRef: unrelated.id,
      forced: 'false',
    });
    const result = await s.run({ attempts: 1 });
    expect(result.state).toBe('failed');
    expect(result.reason).toContain(`refused to revoke ${unrelated.id}`);
    expect(deletes(s) - before).toBe(0);
    expect(hosts.credly.state.isTokenValid(unrelated.token)).toBe(true);
    expect(hosts.credly.state.isTokenValid((await s.current()).token)).toBe(true);
  });
});
