import { Redis, type RedisOptions } from 'ioredis';

/**
 * The two kinds of Redis connection BullMQ needs, as its production guide advises:
 * - `worker`: blocking commands and long outages: `maxRetriesPerRequest: null` so a Redis restart
 *   is waited out instead of failing the worker.
 * - `producer`: used by the CLI and enqueuers: fail fast (no offline queue, one retry) so a user
 *   learns at once that Redis is unreachable.
 *
 * `rediss://` URLs get TLS (ElastiCache in-transit encryption); user and password come from the URL.
 */
export type ConnectionRole = 'worker' | 'producer';

export function redisOptions(role: ConnectionRole): RedisOptions {
  const base: RedisOptions = {
    // Reconnect with a capped backoff; never give up (the worker must outlive a Redis restart).
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 6), 5_000),
    connectionName: `credential-rotator-${role}`,
  };
  return role === 'worker'
    ? { ...base, maxRetriesPerRequest: null, enableReadyCheck: true }
    : // Auto-pipelining: a command fanning out over every credential (status) makes one round trip, not thousands.
      { ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000, enableAutoPipelining: true };
}

export function createRedisConnection(url: string, role: ConnectionRole): Redis {
  const options = redisOptions(role);
  if (url.startsWith('rediss://')) options.tls = {};
  // Producers connect lazily so the caller can await connect() and report a clean error.
  return new Redis(url, { ...options, lazyConnect: role === 'producer' });
}

/** Describes a Redis URL for logs and errors without its password. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(unparseable Redis URL)';
  }
}
