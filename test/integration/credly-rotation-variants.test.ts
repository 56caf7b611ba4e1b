import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { JobOutcome } from '../../jobs/index.ts';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { CREDLY_VARIANTS } from '../support/fake-variants.ts';
import { useRotationScenarios, type Scenario } from '../support/rotation-harness.ts';
import { rotationOutcome } from '../support/job-outcome.ts';

/**
 * The rotation suite's core cases against every variant of the Credly fake (fake-variants.ts): what
 * the vendor pages leave open must never let a rotation pass for what it is not.
 */

describe.each(CREDLY_VARIANTS)('Credly token rotation against the fake: $name', (variant) => {
  const { hosts, scenario } = useRotationScenarios({ credly: variant.options, defaults: () => (variant.inventory ? { extra: variant.inventory } : {}) });

  async function expectNothingLeaked(s: Scenario): Promise<void> {
    const redis = await s.redisText();
    const logs = s.logs.join('\n');
    for (const value of s.tokenValues()) {
      expect(redis.includes(value), 'a token value is in Redis').toBe(false);
      expect(logs.includes(value), 'a token value is in the log').toBe(false);
    }
    // Page links elsewhere are never followed: no credential reaches the web host's API.
    expect(hosts.credly.webApiRequests()).toEqual([]);
  }

  it('rotates a due token listed behind others, ending as the variant requires', async () => {
    const s = await scenario({ tokensBefore: 3 });
    const result = await s.run({ attempts: 2 });
    const current = await s.current();
    if (variant.rotation === 'refused-at-test') {
      expect(result.state).toBe('failed');
      // Weaker than the token it replaces, as the create answer shows: refused before it is ever promoted.
      expect(result.reason).toMatch(/create failed: WeakerCredentialError: .* lacks write_enabled, delete_enabled/);
      // Nothing was promoted: the old token is still the one stored, and it works; the weak one is gone.
      expect(current.token).toBe(s.original.token);
      expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(true);
      expect(s.rotatorTokens().filter((t) => hosts.credly.state.isTokenLive(t))).toEqual([]);
    } else {
      expect(result.state, result.reason).toBe('completed');
      expect(current.token).not.toBe(s.original.token);
      expect(hosts.credly.state.isTokenValid(current.token)).toBe(true);
      expect(
        s
          .rotatorTokens()
          .filter((t) => hosts.credly.state.isTokenLive(t))
          .map((t) => t.id),
      ).toEqual([current.tokenId]);
      if (variant.rotation === 'revoked') {
        expect(result.outcome).toMatchObject({ action: 'rotated', previousState: 'revoked', unrevoked: '' });
        expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(false);
      } else {
        expect(result.outcome).toMatchObject({ action: 'rotated', unrevoked: s.original.id });
        expect(String(rotationOutcome(result.outcome).previousState)).toMatch(
          new RegExp(`^NOT revoked: still listed after DELETE answered (404|405/501); revoke ${s.original.id} by hand`),
        );
        expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(true);
      }
    }
    // Only documented calls prove a token: no GET /organizations/{id} unless the inventory asks for it.
    expect(hosts.credly.requests.some((r) => r.path === `/v1/organizations/${s.organizationId}`)).toBe(false);
    await expectNothingLeaked(s);
  });

  it('with revokePreviousAfter, the delayed revoke ends as the variant requires', async () => {
    const s = await scenario({ extra: ['revokePreviousAfter: 1h', variant.inventory ?? ''].join('\n') });
    const result = await s.run({ attempts: 2 });
    const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: s.prefix });
    try {
      if (variant.rotation === 'refused-at-test') {
        // Refused before promotion: nothing to revoke is ever scheduled.
        expect(result.state).toBe('failed');
        expect(await queue.getDelayed()).toEqual([]);
        return;
      }
      expect(result.outcome).toMatchObject({ action: 'rotated', previousState: expect.stringMatching(/^revoke scheduled for /) });
      const [job] = await queue.getDelayed();
      // Run once the window is over (run early, the revoke would be put back: the window protects the old token).
      s.advance(3_600_000);
      await job!.promote();
      await expect.poll(async () => (await queue.getJob(job!.id!))?.returnvalue as JobOutcome | undefined, { timeout: 10_000 }).toBeTruthy();
      const outcome = (await queue.getJob(job!.id!))!.returnvalue as JobOutcome;
      const status = await redis.hgetall(`${s.prefix}:status:${s.credentialId}`);
      if (variant.rotation === 'revoked') {
        expect(outcome).toMatchObject({ previousState: 'revoked' });
        expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(false);
        expect(status.unrevoked).toBeUndefined();
      } else {
        expect(outcome).toMatchObject({ unrevoked: s.original.id, previousState: expect.stringMatching(/^NOT revoked: /) });
        expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(true);
        expect(status).toMatchObject({ unrevoked: s.original.id, previousState: expect.stringMatching(/^NOT revoked: /) });
      }
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('leaves a token that is not due alone, and says so', async () => {
    const s = await scenario({ tokenAgeDays: 10, tokensBefore: 3 });
    const result = await s.run();
    expect(result.outcome).toMatchObject({ action: 'not-due', daysToExpiry: 169 });
    expect(s.rotatorTokens()).toEqual([]);
    expect((await s.current()).token).toBe(s.original.token);
    await expectNothingLeaked(s);
  });
});
