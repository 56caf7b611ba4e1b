import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../scripts/local-services.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('local stand-ins', () => {
  it('gives the suite a reachable Redis and Secrets Manager emulator', async () => {
    expect(process.env.REDIS_URL).toMatch(/^redis:\/\//);
    const redis = new Redis(process.env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    await redis.quit();
    const res = await fetch(`${process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER}/moto-api/`);
    expect(res.status).toBe(200);
  });

  it('stops exactly the redis-server it started, and can start it again on the same port', async () => {
    const redis = await startRedis(mkdtempSync(join(tmpdir(), 'rotator-redis-')));
    const pid = redis.pid!;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await redis.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    await redis.restart();
    const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    expect(await client.ping()).toBe('PONG');
    await client.quit();
    await redis.stop();
  });
});
