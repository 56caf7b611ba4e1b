import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { chooseServices, describeServices, startLocalServices, startRedis } from '../../scripts/local-services.ts';
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

  it('chooses, per service, the running one the environment names or a local process, and says which', async () => {
    expect(chooseServices({})).toEqual({ redis: 'local process', secretsManager: 'local process' });
    expect(chooseServices({ REDIS_URL: 'redis://10.0.0.5:6379' })).toEqual({ redis: 'environment', secretsManager: 'local process' });
    expect(chooseServices({ AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:5000', REDIS_URL: '' })).toEqual({
      redis: 'local process',
      secretsManager: 'environment',
    });
    expect(describeServices({ choice: chooseServices({}), redisUrl: 'redis://127.0.0.1:40001', secretsManagerEndpoint: 'http://127.0.0.1:40002' })).toBe(
      'services: redis-server started on 127.0.0.1:40001; moto_server started on 127.0.0.1:40002 (local processes, no containers)',
    );
    // Inside the suite both are named by the environment (the global setup's): nothing is started again.
    const given = await startLocalServices();
    expect(given.choice).toEqual({ redis: 'environment', secretsManager: 'environment' });
    expect(given.redis).toBeUndefined();
    expect(given.moto).toBeUndefined();
    expect(describeServices(given)).toBe(
      'services: Redis from REDIS_URL; Secrets Manager from AWS_ENDPOINT_URL_SECRETS_MANAGER (local processes, no containers)',
    );
    await given.stop();
  });
});
