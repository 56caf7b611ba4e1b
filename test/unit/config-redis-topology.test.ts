import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../src/config/index.ts';
import { describeRedis, hashTag } from '../../src/config/redis-topology.ts';

function problems(env: NodeJS.ProcessEnv) {
  try {
    loadEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems, text: `${error.format()}\n${error.message}` };
    throw error;
  }
  throw new Error('the environment was accepted');
}

describe('Redis topology from the environment', () => {
  it("reads REDIS_CLUSTER_NODES as a cluster with the URLs' credentials and TLS", () => {
    expect(loadEnv({ REDIS_CLUSTER_NODES: 'rediss://rotator:p%40ss@node-a.example:6380, rediss://node-b.example:6380,rediss://[::1]' }).redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'node-a.example', port: 6380 },
        { host: 'node-b.example', port: 6380 },
        { host: '::1', port: 6379 },
      ],
      username: 'rotator',
      password: 'p@ss',
      tls: true,
    });
    expect(loadEnv({ REDIS_CLUSTER_NODES: 'redis://127.0.0.1:7000' }).redis).toEqual({
      kind: 'cluster',
      nodes: [{ host: '127.0.0.1', port: 7000 }],
      tls: false,
    });
  });

  it('reads REDIS_SENTINELS with REDIS_SENTINEL_NAME and the optional passwords and TLS', () => {
    expect(
      loadEnv({
        REDIS_SENTINELS: 'sentinel-a:26380,[::1]:26381,sentinel-c',
        REDIS_SENTINEL_NAME: 'rotator-master',
        REDIS_USERNAME: 'rotator',
        REDIS_PASSWORD: 'data-password',
        REDIS_SENTINEL_PASSWORD: 'sentinel-password',
        REDIS_TLS: 'on',
      }).redis,
    ).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 'sentinel-a', port: 26380 },
        { host: '::1', port: 26381 },
        { host: 'sentinel-c', port: 26379 },
      ],
      name: 'rotator-master',
      username: 'rotator',
      password: 'data-password',
      sentinelPassword: 'sentinel-password',
      tls: true,
    });
  });

  it('refuses a queue prefix without a hash tag under Cluster, and accepts one anywhere in it', () => {
    for (const prefix of ['rotator', '{}rotator', 'rot}{']) {
      expect(problems({ REDIS_CLUSTER_NODES: 'redis://127.0.0.1:7000', ROTATOR_QUEUE_PREFIX: prefix }).problems).toEqual([
        { path: 'ROTATOR_QUEUE_PREFIX', message: expect.stringContaining('must carry a Redis Cluster hash tag, like {rotator}') },
      ]);
    }
    expect(loadEnv({ REDIS_CLUSTER_NODES: 'redis://127.0.0.1:7000', ROTATOR_QUEUE_PREFIX: 'prod{rotator}' }).queuePrefix).toBe('prod{rotator}');
    // One server and Sentinel keep every key on one node: any prefix works there.
    expect(loadEnv({ ROTATOR_QUEUE_PREFIX: 'rotator' }).queuePrefix).toBe('rotator');
    expect(
      loadEnv({ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm', ROTATOR_QUEUE_PREFIX: 'rotator', ROTATOR_ALLOW_PLAINTEXT_REDIS: 'true' }).queuePrefix,
    ).toBe('rotator');
  });

  it('computes hash tags as Redis Cluster does', () => {
    expect(hashTag('{rotator}:lock:x')).toBe('rotator');
    expect(hashTag('prod{a}{b}')).toBe('a');
    expect(hashTag('{}{a}')).toBeUndefined();
    expect(hashTag('}{a}')).toBe('a');
    expect(hashTag('rotator')).toBeUndefined();
  });

  it.each([
    [
      { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'redis://b:6379' },
      'REDIS_CLUSTER_NODES',
      'set only one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS (got REDIS_URL, REDIS_CLUSTER_NODES)',
    ],
    [{ REDIS_CLUSTER_NODES: 'redis://b:6379', REDIS_SENTINELS: 's:1' }, 'REDIS_SENTINELS', expect.stringContaining('set only one of')],
    [{ REDIS_CLUSTER_NODES: 'redis://a:1,http://b:2' }, 'REDIS_CLUSTER_NODES', 'entry 2 must be a redis:// or rediss:// URL'],
    [{ REDIS_CLUSTER_NODES: 'redis://a:1/2' }, 'REDIS_CLUSTER_NODES', 'entry 1 names a database: a cluster has only database 0'],
    [{ REDIS_CLUSTER_NODES: 'redis://a:1,rediss://b:2' }, 'REDIS_CLUSTER_NODES', expect.stringContaining('mixes redis:// and rediss://')],
    [{ REDIS_CLUSTER_NODES: 'redis://:one-password@a:1,redis://:other-password@b:2' }, 'REDIS_CLUSTER_NODES', expect.stringContaining('different credentials')],
    [{ REDIS_CLUSTER_NODES: ' , ' }, 'REDIS_CLUSTER_NODES', 'must list at least one redis:// or rediss:// URL'],
    [{ REDIS_SENTINELS: 's:26379' }, 'REDIS_SENTINEL_NAME', expect.stringContaining('is required with REDIS_SENTINELS')],
    [{ REDIS_SENTINELS: 's:99999', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS', 'entry 1 must be host:port'],
    [{ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'm', REDIS_TLS: 'yes' }, 'REDIS_TLS', 'must be on or off'],
    [{ REDIS_PASSWORD: 'stray-password' }, 'REDIS_PASSWORD', 'is read only with REDIS_SENTINELS'],
    [{ REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINEL_NAME', 'is read only with REDIS_SENTINELS'],
  ])('refuses %j at %s', (env, path, message) => {
    const refused = problems(env);
    expect(refused.problems).toEqual([{ path, message }]);
    for (const secret of ['one-password', 'other-password', 'stray-password']) expect(refused.text).not.toContain(secret);
  });

  it('describes each topology for logs without a password', () => {
    const described = [
      loadEnv({ REDIS_URL: 'rediss://u:secret-pw@redis.internal:6380/0' }).redis,
      loadEnv({ REDIS_CLUSTER_NODES: 'redis://:secret-pw@10.0.0.1:7000,redis://10.0.0.2:7000', ROTATOR_ALLOW_PLAINTEXT_REDIS: 'true' }).redis,
      loadEnv({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster', REDIS_PASSWORD: 'secret-pw', REDIS_TLS: 'on' }).redis,
    ].map(describeRedis);
    expect(described).toEqual([
      'rediss://redis.internal:6380/0',
      'cluster redis://10.0.0.1:7000,10.0.0.2:7000',
      'sentinel master "mymaster" via s1:26379,s2:26379 (TLS)',
    ]);
  });
});
