import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createCredlyClient } from '../../src/kinds/credly/token-client.ts';
import { createRedisRateLimiter, parseRateLimit } from '../../src/provider-http/rate-limit.ts';
import { startCredlyFake } from '../fakes/credly.fake.ts';

const redis = new Redis(process.env.REDIS_URL!);
afterAll(() => redis.disconnect());

describe('rate limiter shared through Redis', () => {
  it('reads 10/s, 600/m and off, and refuses what it cannot read', () => {
    expect(parseRateLimit('10/s')).toEqual({ perSecond: 10, burst: 9 });
    expect(parseRateLimit('600/m')).toEqual({ perSecond: 10, burst: 9 });
    expect(parseRateLimit('30/m')).toEqual({ perSecond: 0.5, burst: 1 });
    expect(parseRateLimit('off')).toBe('off');
    for (const bad of ['10', '0/s', 'ten/s', '10/h']) expect(parseRateLimit(bad)).toBeUndefined();
  });

  it('lets a burst through, then spaces calls at the rate, across several limiters (replicas) on one key', async () => {
    const prefix = `{rl-${randomUUID().slice(0, 8)}}`;
    const limit = { perSecond: 20, burst: 5 };
    const replicas = [0, 1, 2].map(() => createRedisRateLimiter(redis, { prefix, limitFor: (key) => (key.startsWith('credly:') ? limit : undefined) }));
    const start = performance.now();
    const times: number[] = [];
    // 45 calls from three replicas at once: 5 pass at once, the other 40 at 20/s → about 2 s.
    await Promise.all(
      Array.from({ length: 45 }, async (_, i) => {
        await replicas[i % 3]!.acquire('credly:org-a');
        times.push(performance.now() - start);
      }),
    );
    times.sort((a, b) => a - b);
    const total = times.at(-1)!;
    expect(total).toBeGreaterThan(1_900);
    expect(total).toBeLessThan(2_600);
    // In any one second after the burst, no more than the rate (plus the burst's slack) went through.
    for (let t = 0; t + 1000 <= total; t += 100) {
      expect(times.filter((x) => x >= t && x < t + 1000).length).toBeLessThanOrEqual(limit.perSecond + limit.burst);
    }
    // Another organization has its own budget, and keys without a limit never wait.
    const other = performance.now();
    await replicas[0]!.acquire('credly:org-b');
    await replicas[0]!.acquire('degreed:client');
    expect(performance.now() - other).toBeLessThan(100);
  });

  it("keeps two replicas of the Credly client under an organization's limit on their own: no 429, where a client without it is refused", async () => {
    const fake = await startCredlyFake({ rateLimit: { perSecond: 10 } });
    try {
      const org = fake.state.addOrganization();
      const token = fake.state.addToken(org).token;
      const prefix = `{rl-${randomUUID().slice(0, 8)}}`;
      const limit = parseRateLimit('10/s');
      if (!limit || limit === 'off') throw new Error('10/s must parse');
      const limitFor = () => limit;
      const replicas = [0, 1].map(() =>
        createCredlyClient({ apiBase: fake.apiBase, limiter: createRedisRateLimiter(redis, { prefix, limitFor }), backoffMs: 1 }),
      );
      // The event loop's longest stall during the run: a call let through on time but sent later
      // arrives bunched with the next ones.
      const stalls = monitorEventLoopDelay({ resolution: 10 });
      stalls.enable();
      const start = performance.now();
      // 30 calls at once from two replicas: 9 in the first burst, then 10 a second → about 2.1 s.
      await Promise.all(Array.from({ length: 30 }, (_, i) => replicas[i % 2]!.getOrganization(token, org)));
      const seconds = (performance.now() - start) / 1000;
      stalls.disable();
      // A burst one call short of a second's worth absorbs one call's interval of jitter on the way
      // (100 ms at 10/s): with no longer stall, no call reaches the provider over its limit. (A
      // longer stall — a starved CPU — can bunch more; the 429 is then retried after its Retry-After.
      // The limiter's own spacing, whatever the load, is the test above.)
      if (stalls.max / 1e6 < 100) expect(fake.throttled.get(org) ?? 0).toBe(0);
      expect(seconds).toBeGreaterThan(1.8);
      expect(seconds).toBeLessThan(3);

      // Without a limiter the same load meets the fake's 429s (and gets through only by retrying).
      const bare = createCredlyClient({ apiBase: fake.apiBase, backoffMs: 1, sleep: async () => {} });
      await Promise.allSettled(Array.from({ length: 30 }, () => bare.getOrganization(token, org)));
      expect(fake.throttled.get(org) ?? 0).toBeGreaterThan(0);
    } finally {
      await fake.close();
    }
  });
});
