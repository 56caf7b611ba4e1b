import { setTimeout as delay } from 'node:timers/promises';
import type { RedisClient } from '../redis/connection.ts';

/** Waits until a call under `key` fits the provider's budget. */
export interface RateLimiter {
  acquire(key: string): Promise<void>;
}

export interface RateLimit {
  /** Calls per second, on average. */
  perSecond: number;
  /** Calls allowed at once after a quiet spell. */
  burst: number;
}

/** `10/s`, `600/m`, or `off`; undefined when it cannot be read. */
export function parseRateLimit(text: string): RateLimit | 'off' | undefined {
  if (text === 'off') return 'off';
  const m = /^(\d+(?:\.\d+)?)\/(s|m)$/.exec(text);
  if (!m) return undefined;
  const perSecond = Number(m[1]) / (m[2] === 'm' ? 60 : 1);
  if (!(perSecond > 0)) return undefined;
  // One call less than a second's worth at once: the provider counts calls as they arrive, and
  // arrivals jitter by a few milliseconds against the moments they were booked here. A burst one
  // short absorbs up to one interval of jitter, so a client at the provider's own rate meets no 429.
  return { perSecond, burst: Math.max(1, Math.floor(perSecond) - 1) };
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
