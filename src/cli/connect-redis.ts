import type { Redis } from 'ioredis';
import { createRedisConnection, describeRedisUrl } from '../queue/redis.ts';

/** Redis could not be reached by a CLI command: exit 1, printed by the CLI (as JSON with --json). */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/**
 * A fail-fast producer connection for a CLI command. Throws RedisUnreachableError naming the URL
 * without its password when Redis cannot be reached.
 */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = createRedisConnection(url, 'producer');
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new RedisUnreachableError(`Redis unreachable at ${describeRedisUrl(url)}: ${(error as Error).message}`);
  }
}
