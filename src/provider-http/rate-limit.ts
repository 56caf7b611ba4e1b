import { setTimeout as delay } from 'node:timers/promises';
import type { RateLimit } from '../config/rate-limit.ts';
import type { RedisClient } from '../redis/connection.ts';

export { parseRateLimit, type RateLimit } from '../config/rate-limit.ts';

/** Waits until a call under `key` fits the provider's budget. */
export interface RateLimiter {
  acquire(key: string): Promise<void>;
}

// GCRA on Redis's own clock, so every replica spends one budget per key. Returns 0 when the call
// may go now (and books it), else how many ms to wait before asking again.
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return math.ceil(wait) end
local next = tat + interval
redis.call('SET', KEYS[1], tostring(next), 'PX', math.ceil(next - now + interval))
return 0
`;

/**
 * A rate limiter shared by every replica through Redis (GCRA). Keys without a limit pass at once.
 */
export function createRedisRateLimiter(
  redis: Pick<RedisClient, 'eval'>,
  options: { prefix: string; limitFor: (key: string) => RateLimit | undefined; sleep?: (ms: number) => Promise<void> },
): RateLimiter {
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  return {
    async acquire(key) {
      const limit = options.limitFor(key);
      if (!limit) return;
      const interval = 1000 / limit.perSecond;
      const tolerance = interval * (limit.burst - 1);
      for (;;) {
        const wait = Number(await redis.eval(GCRA, 1, `${options.prefix}:ratelimit:${key}`, String(interval), String(tolerance)));
        if (wait <= 0) return;
        await sleep(wait);
      }
    },
  };
}
