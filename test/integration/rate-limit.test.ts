import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisRateLimiter, parseRateLimit } from '../../src/providers/rate-limit.ts';

const redis = new Redis(process.env.REDIS_URL!);
afterAll(() => redis.disconnect());

describe('rate limiter shared through Redis', () => {
  it('reads 10/s, 600/m and off, and refuses what it cannot read', () => {
    expect(parseRateLimit('10/s')).toEqual({ perSecond: 10, burst: 10 });
    expect(parseRateLimit('600/m')).toEqual({ perSecond: 10, burst: 10 });
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
});
