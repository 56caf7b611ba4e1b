import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv as loadEnvOf } from '../../src/config/index.ts';
import { RATE_LIMIT_VARIABLES } from '../../src/kinds/registry.ts';

/** The environment as the CLI reads it: with the rate limits the kinds declare. */
const loadEnv = (env: NodeJS.ProcessEnv) => loadEnvOf(env, { rateLimits: RATE_LIMIT_VARIABLES });
import { redisTopologyProblems } from '../../src/config/url-policy.ts';

function refusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the environment was accepted');
}

describe('environment', () => {
  it('applies every default when nothing is set, leaving the inventory path to the caller', () => {
    expect(loadEnv({})).toEqual({
      redis: { kind: 'standalone', url: 'redis://127.0.0.1:6379' },
      queuePrefix: '{rotator}',
      logLevel: 'info',
      httpPort: 8080,
      shutdownGraceMs: 30_000,
      lockDurationMs: 30_000,
      jobAttempts: 5,
      jobBackoffMs: 5_000,
      concurrency: 4,
      rateLimits: { ROTATOR_CREDLY_RATE_LIMIT: { perSecond: 10, burst: 9 } },
      requestTimeoutMs: 15_000,
      escalateAfterMs: 21_600_000,
      radar: true,
      statusPublicMessages: false,
      allowPlaintextRedis: false,
    });
  });

  it('reads every variable', () => {
    expect(
      loadEnv({
        ROTATOR_CONFIG: '/etc/rotator/inventory.yaml',
        REDIS_URL: 'rediss://rotator:pw@redis.internal:6380/0',
        ROTATOR_QUEUE_PREFIX: '{prod}',
        LOG_LEVEL: 'debug',
        ROTATOR_HTTP_PORT: '9090',
        ROTATOR_SHUTDOWN_GRACE: '1m30s',
        ROTATOR_LOCK_DURATION: '5s',
        ROTATOR_JOB_ATTEMPTS: '8',
        ROTATOR_JOB_BACKOFF: '2s',
        ROTATOR_CONCURRENCY: '50',
        ROTATOR_CREDLY_RATE_LIMIT: '120/m',
        ROTATOR_REQUEST_TIMEOUT: '4s',
        ROTATOR_ESCALATE_AFTER: '1d',
        ROTATOR_RADAR: 'off',
        ROTATOR_STATUS_PUBLIC_MESSAGES: 'true',
        ROTATOR_ALLOW_PLAINTEXT_REDIS: 'false',
        ROTATOR_CACHE_DIR: '/var/cache/rotator',
      }),
    ).toEqual({
      configPath: '/etc/rotator/inventory.yaml',
      cacheDir: '/var/cache/rotator',
      redis: { kind: 'standalone', url: 'rediss://rotator:pw@redis.internal:6380/0' },
      queuePrefix: '{prod}',
      logLevel: 'debug',
      httpPort: 9090,
      shutdownGraceMs: 90_000,
      lockDurationMs: 5_000,
      jobAttempts: 8,
      jobBackoffMs: 2_000,
      concurrency: 50,
      rateLimits: { ROTATOR_CREDLY_RATE_LIMIT: { perSecond: 2, burst: 1 } },
      requestTimeoutMs: 4_000,
      escalateAfterMs: 86_400_000,
      radar: false,
      statusPublicMessages: true,
      allowPlaintextRedis: false,
    });
  });

  it("keeps the inventory cache in the user's cache directory unless told where, or off; a relative path is refused", () => {
    expect(loadEnv({ HOME: '/home/ops' }).cacheDir).toBe('/home/ops/.cache/credential-rotator');
    expect(loadEnv({ HOME: '/home/ops', XDG_CACHE_HOME: '/var/cache/ops' }).cacheDir).toBe('/var/cache/ops/credential-rotator');
    expect(loadEnv({ HOME: '/home/ops', XDG_CACHE_HOME: 'relative' }).cacheDir).toBe('/home/ops/.cache/credential-rotator');
    expect(loadEnv({ HOME: '/home/ops', ROTATOR_CACHE_DIR: '/tmp/rotator-cache' }).cacheDir).toBe('/tmp/rotator-cache');
    expect(loadEnv({ HOME: '/home/ops', ROTATOR_CACHE_DIR: 'off' })).not.toHaveProperty('cacheDir');
    // Without an absolute home, no cache rather than one in the working directory.
    expect(loadEnv({ HOME: 'somewhere' })).not.toHaveProperty('cacheDir');
    expect(refusal({ ROTATOR_CACHE_DIR: 'cache' }).problems).toEqual([
      { path: 'ROTATOR_CACHE_DIR', message: 'must be an absolute path, or off (no inventory cache)' },
    ]);
  });

  it('treats empty variables as unset, as container specs often leave them', () => {
    expect(loadEnv({ ROTATOR_CONFIG: '', REDIS_URL: '', LOG_LEVEL: '', ROTATOR_HTTP_PORT: '' })).toEqual(loadEnv({}));
  });

  it('ignores variables it does not own', () => {
    expect(loadEnv({ AWS_REGION: 'eu-west-1', PATH: '/usr/bin' })).toEqual(loadEnv({}));
  });

  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])('accepts LOG_LEVEL=%s', (level) => {
    expect(loadEnv({ LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it.each(['0', '1', '65535'])('accepts ROTATOR_HTTP_PORT=%s', (port) => {
    expect(loadEnv({ ROTATOR_HTTP_PORT: port }).httpPort).toBe(Number(port));
  });

  it.each(['65536', '-1', '80.5', '1e3', ' ', 'http'])('refuses ROTATOR_HTTP_PORT="%s"', (port) => {
    expect(refusal({ ROTATOR_HTTP_PORT: port }).problems).toEqual([{ path: 'ROTATOR_HTTP_PORT', message: expect.stringContaining('port number') }]);
  });

  it.each(['{rotator} x', 'rotator:prod'])('refuses ROTATOR_QUEUE_PREFIX="%s", which would break key names', (prefix) => {
    expect(refusal({ ROTATOR_QUEUE_PREFIX: prefix }).problems.map((p) => p.path)).toEqual(['ROTATOR_QUEUE_PREFIX']);
  });

  it.each(['500ms', 'soon', '0s', '2s', '4999ms'])('refuses ROTATOR_LOCK_DURATION="%s": a lease under 5s is not renewed reliably on a loaded host', (value) => {
    expect(refusal({ ROTATOR_LOCK_DURATION: value }).problems).toEqual([
      { path: 'ROTATOR_LOCK_DURATION', message: 'must be a duration of at least 5s, like 30s or 2m' },
    ]);
  });

  it.each(['0', 'many', '1.5'])('refuses ROTATOR_JOB_ATTEMPTS="%s"', (value) => {
    expect(refusal({ ROTATOR_JOB_ATTEMPTS: value }).problems).toEqual([
      { path: 'ROTATOR_JOB_ATTEMPTS', message: 'must be a whole number of attempts from 1 to 999' },
    ]);
  });

  it('keeps the dashboard off by default, and on only with a user and a password both set, never echoing the password', () => {
    expect(loadEnv({}).dashboard).toBeUndefined();
    const on = { ROTATOR_DASHBOARD: 'on', ROTATOR_DASHBOARD_USER: 'ops', ROTATOR_DASHBOARD_PASSWORD: 'correct-horse-battery' };
    expect(loadEnv(on).dashboard).toEqual({ user: 'ops', password: 'correct-horse-battery' });
    // No default user: a password alone is refused, naming the user variable.
    expect(refusal({ ROTATOR_DASHBOARD: 'on', ROTATOR_DASHBOARD_PASSWORD: 'correct-horse-battery' }).problems).toEqual([
      { path: 'ROTATOR_DASHBOARD_USER', message: 'is required when ROTATOR_DASHBOARD=on' },
    ]);
    expect(refusal({ ROTATOR_DASHBOARD: 'on' }).problems).toEqual([
      { path: 'ROTATOR_DASHBOARD_USER', message: 'is required when ROTATOR_DASHBOARD=on' },
      { path: 'ROTATOR_DASHBOARD_PASSWORD', message: 'is required when ROTATOR_DASHBOARD=on' },
    ]);
    expect(refusal({ ...on, ROTATOR_DASHBOARD_USER: 'a:b' }).problems).toEqual([
      { path: 'ROTATOR_DASHBOARD_USER', message: 'must be a user name without spaces or ":"' },
    ]);
    const short = refusal({ ROTATOR_DASHBOARD: 'on', ROTATOR_DASHBOARD_USER: 'ops', ROTATOR_DASHBOARD_PASSWORD: 'hunter2' });
    expect(short.problems).toEqual([{ path: 'ROTATOR_DASHBOARD_PASSWORD', message: 'must be at least 12 characters' }]);
    expect(short.format()).not.toContain('hunter2');
  });

  it('reads off as no Credly rate limit, and refuses rates it cannot read', () => {
    expect(loadEnv({ ROTATOR_CREDLY_RATE_LIMIT: 'off' }).rateLimits).toEqual({ ROTATOR_CREDLY_RATE_LIMIT: 'off' });
    for (const bad of ['0s', '50ms', 'soon']) {
      expect(refusal({ ROTATOR_REQUEST_TIMEOUT: bad }).problems).toEqual([
        { path: 'ROTATOR_REQUEST_TIMEOUT', message: 'must be a duration of at least 100ms, like 15s' },
      ]);
    }
    for (const bad of ['10', 'fast', '0/s', '10/h']) {
      expect(refusal({ ROTATOR_CREDLY_RATE_LIMIT: bad }).problems).toEqual([
        { path: 'ROTATOR_CREDLY_RATE_LIMIT', message: 'must be a rate like 10/s or 600/m, or off' },
      ]);
    }
  });

  it('lists every bad variable by name at once', () => {
    const error = refusal({ REDIS_URL: 'localhost:6379x', LOG_LEVEL: 'loud', ROTATOR_HTTP_PORT: 'http', ROTATOR_SHUTDOWN_GRACE: 'forever' });
    expect(error.source).toBe('environment');
    expect(error.problems.map((p) => p.path).sort()).toEqual(['LOG_LEVEL', 'REDIS_URL', 'ROTATOR_HTTP_PORT', 'ROTATOR_SHUTDOWN_GRACE']);
    expect(error.format()).toContain('environment: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent');
    expect(error.format()).toContain('environment: ROTATOR_SHUTDOWN_GRACE: must be a duration');
  });

  it.each(['http://:hunter2-password@redis:6379', 'redis//:hunter2-password@redis', 'hunter2-password'])(
    'refuses REDIS_URL=%s without ever repeating it, since it may hold a password',
    (url) => {
      const error = refusal({ REDIS_URL: url });
      expect(error.problems).toEqual([{ path: 'REDIS_URL', message: 'must be a redis:// or rediss:// URL' }]);
      expect(error.format()).not.toContain('hunter2');
      expect(error.message).not.toContain('hunter2');
    },
  );

  it.each([
    ['redis://:hunter2-password@redis.internal:6379', 'redis.internal'],
    ['redis://10.0.0.7:6379', '10.0.0.7'],
    ['redis://[fd00::7]:6379', '[fd00::7]'],
  ])('refuses plain REDIS_URL=%s to a remote host unless ROTATOR_ALLOW_PLAINTEXT_REDIS=true, never repeating the password', (url, host) => {
    const error = refusal({ REDIS_URL: url });
    expect(error.problems).toEqual([
      {
        path: 'REDIS_URL',
        message: `plain redis:// to "${host}" sends the queue and the Redis password unencrypted; use rediss:// (TLS), or set ROTATOR_ALLOW_PLAINTEXT_REDIS=true to accept it`,
      },
    ]);
    expect(error.format()).not.toContain('hunter2');
    expect(loadEnv({ REDIS_URL: url, ROTATOR_ALLOW_PLAINTEXT_REDIS: 'true' })).toMatchObject({ redis: { kind: 'standalone', url }, allowPlaintextRedis: true });
    expect(loadEnv({ REDIS_URL: url.replace('redis://', 'rediss://') }).redis).toMatchObject({ url: expect.stringMatching(/^rediss:/) });
  });

  it.each(['redis://127.0.0.1:6379', 'redis://localhost:6380/2', 'redis://[::1]:6379', 'redis://:pw@127.0.0.2'])(
    'accepts plain redis:// to the loopback host of %s',
    (url) => {
      expect(loadEnv({ REDIS_URL: url }).redis).toEqual({ kind: 'standalone', url });
    },
  );

  it('reads the settings that loosen defaults only as true or false', () => {
    expect(loadEnv({ ROTATOR_STATUS_PUBLIC_MESSAGES: 'true' }).statusPublicMessages).toBe(true);
    expect(refusal({ ROTATOR_ALLOW_PLAINTEXT_REDIS: 'yes' }).problems).toEqual([{ path: 'ROTATOR_ALLOW_PLAINTEXT_REDIS', message: 'must be true or false' }]);
  });
});

describe('the plain-Redis rule for every way of reaching Redis', () => {
  it('judges one URL, the nodes of a cluster and the sentinels of a group, by the variable they come from', () => {
    const nodes = [
      { host: '127.0.0.1', port: 7000 },
      { host: 'redis-1.internal', port: 7001 },
      { host: 'fd00::7', port: 7002 },
    ];
    expect(redisTopologyProblems({ kind: 'cluster', nodes, tls: false }, false)).toEqual([
      { path: 'REDIS_CLUSTER_NODES', message: expect.stringContaining('plain redis:// to "redis-1.internal"') },
      { path: 'REDIS_CLUSTER_NODES', message: expect.stringContaining('plain redis:// to "[fd00::7]"') },
    ]);
    expect(redisTopologyProblems({ kind: 'cluster', nodes, tls: true }, false)).toEqual([]);
    expect(redisTopologyProblems({ kind: 'sentinel', sentinels: nodes.slice(1, 2), tls: false }, false)).toEqual([
      { path: 'REDIS_SENTINELS', message: expect.stringContaining('ROTATOR_ALLOW_PLAINTEXT_REDIS=true') },
    ]);
    expect(redisTopologyProblems({ kind: 'sentinel', sentinels: nodes, tls: false }, true)).toEqual([]);
    expect(redisTopologyProblems({ kind: 'sentinel', sentinels: [{ host: 'localhost', port: 26379 }], tls: false }, false)).toEqual([]);
    expect(refusal({ REDIS_CLUSTER_NODES: 'redis://10.0.0.1:7000,redis://10.0.0.2:7000' }).problems.map((p) => p.path)).toEqual([
      'REDIS_CLUSTER_NODES',
      'REDIS_CLUSTER_NODES',
    ]);
    expect(loadEnv({ REDIS_CLUSTER_NODES: 'rediss://10.0.0.1:7000,rediss://10.0.0.2:7000' }).redis).toMatchObject({ kind: 'cluster', tls: true });
    expect(refusal({ REDIS_SENTINELS: 'sentinel-0:26379', REDIS_SENTINEL_NAME: 'main' }).problems.map((p) => p.path)).toEqual(['REDIS_SENTINELS']);
    expect(redisTopologyProblems({ kind: 'standalone', url: 'redis://:pw@cache.internal:6379' }, false)).toEqual([
      { path: 'REDIS_URL', message: expect.stringContaining('"cache.internal"') },
    ]);
  });
});
