import type { Redis } from 'ioredis';
import { createRedisConnection, describeRedisUrl } from '../queue/redis.ts';

/**
 * A fail-fast producer connection for a CLI command, or undefined after saying on stderr that Redis
 * is unreachable (the URL without its password). The command then exits 1.
 */
export async function connectRedis(url: string): Promise<Redis | undefined> {
  const redis = createRedisConnection(url, 'producer');
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    console.error(`rotator: Redis unreachable at ${describeRedisUrl(url)}: ${(error as Error).message}`);
    redis.disconnect();
    return undefined;
  }
}
