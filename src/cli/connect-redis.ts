import type { RedisTopology } from '../config/redis-topology.ts';
import { assertRedisUsable, createRedisConnection, describeRedis, type ConnectionOptions, type RedisClient } from '../redis/connection.ts';

/** Redis could not be reached by a CLI command: exit 1, printed by the CLI (as JSON with --json). */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/**
 * A fail-fast producer connection for a CLI command, to whichever topology is configured, usable
 * (a cluster in state ok, the Sentinel group's master). Throws RedisUnreachableError naming the
 * servers without any password when it cannot be had.
 */
export async function connectRedis(topology: RedisTopology, prefix: string, options: ConnectionOptions): Promise<RedisClient> {
  const redis = createRedisConnection(topology, 'producer', options);
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await assertRedisUsable(redis, prefix);
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new RedisUnreachableError(`Redis unreachable at ${describeRedis(topology)}: ${(error as Error).message}`);
  }
}
