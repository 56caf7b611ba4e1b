import { actorField } from './actor.ts';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_QUEUE_PREFIX } from './queue-names.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { redisTopologyProblems } from './url-policy.ts';
import { parseDuration } from './duration.ts';
import { rateLimitVariable, type RateLimit, type RateLimitVariable } from './rate-limit.ts';
import { readRedisTopology, type RedisTopology } from './redis-topology.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The process environment the rotator reads, parsed once at start. */
export interface Env {
  /** ROTATOR_CONFIG: the inventory path. Optional here; the commands that read the inventory require it. */
  configPath?: string;
  /**
   * ROTATOR_CACHE_DIR: where the validated inventory is kept between runs (config/inventory-cache.ts);
   * default `$XDG_CACHE_HOME/credential-rotator`, else `$HOME/.cache/credential-rotator`. Undefined
   * (no cache) with `off`, or when neither variable holds an absolute path.
   */
  cacheDir?: string;
  /**
   * Which Redis: REDIS_CLUSTER_NODES (a cluster), REDIS_SENTINELS with REDIS_SENTINEL_NAME (Sentinel),
   * else REDIS_URL (default `redis://127.0.0.1:6379`; `rediss://` for TLS; user and password in the URL).
   */
  redis: RedisTopology;
  /** ROTATOR_QUEUE_PREFIX, default `{rotator}` (a Redis Cluster hash tag; required to have one under Cluster). */
  queuePrefix: string;
  /** LOG_LEVEL, default info. */
  logLevel: LogLevel;
  /** ROTATOR_HTTP_PORT, default 8080: the ops server (health, metrics); 0 picks a free port. */
  httpPort: number;
  /** ROTATOR_SHUTDOWN_GRACE, default 30s: how long SIGTERM waits for active jobs. */
  shutdownGraceMs: number;
  /**
   * ROTATOR_LOCK_DURATION, default 30s: lifetime of a job's and a credential's lock without
   * renewal, so how soon another worker takes over from one that died mid-rotation.
   */
  lockDurationMs: number;
  /** ROTATOR_JOB_ATTEMPTS, default 5: tries of a job with transient failures, the first included. */
  jobAttempts: number;
  /** ROTATOR_JOB_BACKOFF, default 5s: the first retry's delay; it doubles with each retry, with jitter. */
  jobBackoffMs: number;
  /**
   * The BullMQ dashboard at /dashboard: off unless ROTATOR_DASHBOARD=on, and then behind HTTP Basic
   * auth with ROTATOR_DASHBOARD_USER and ROTATOR_DASHBOARD_PASSWORD, both required (no default user).
   */
  dashboard?: { user: string; password: string };
  /**
   * ROTATOR_STATUS_PUBLIC_MESSAGES=true: /status and /status.json show each credential's last
   * message to anyone who reaches the port. Default false: only to the dashboard's users.
   */
  statusPublicMessages: boolean;
  /** ROTATOR_ACTOR: who `rotator trigger` says asked, when --actor is not given (default: user@host). */
  actor?: string;
  /** ROTATOR_ALLOW_PLAINTEXT_REDIS=true: a remote redis:// (no TLS) is accepted. Default false. */
  allowPlaintextRedis: boolean;
  /** ROTATOR_CONCURRENCY, default 4: jobs one worker process runs at once. */
  concurrency: number;
  /**
   * The rate limits the credential kinds declare (by variable name, e.g. `10/s`, `600/m` or `off`),
   * each shared by every replica through Redis. See docs/configuration.md, Environment.
   */
  rateLimits: Record<string, RateLimit | 'off'>;
  /**
   * ROTATOR_RADAR, default `on`: the worker runs the expiry radar (src/radar/) at start and on
   * `radar.schedule`; `off` leaves it to `rotator radar` (another team watches the organization's
   * tokens; the test suites, whose call counts it would change).
   */
  radar: boolean;
  /** ROTATOR_REQUEST_TIMEOUT, default 15s: the deadline of one provider request; a call past it is retried like a reset. */
  requestTimeoutMs: number;
  /**
   * ROTATOR_ESCALATE_AFTER, default 6h: a credential failing or rotating for longer than this while
   * it expires within the critical window (7 days) gets a critical alert, daily.
   */
  escalateAfterMs: number;
}

function booleanVariable() {
  return z
    .enum(['true', 'false'], { error: () => 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true');
}

function durationVariable(fallback: string, hint: string, min = 0) {
  return z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined || ms < min) {
        ctx.addIssue({ code: 'custom', message: hint });
        return z.NEVER;
      }
      return ms;
    });
}

const schema = z
  .object({
    ROTATOR_CONFIG: z.string().min(1).optional(),
    ROTATOR_CACHE_DIR: z
      .string()
      .refine((v) => v === 'off' || isAbsolute(v), 'must be an absolute path, or off (no inventory cache)')
      .optional(),
    ROTATOR_QUEUE_PREFIX: z
      .string()
      .regex(/^[^\s:]+$/, 'must be non-empty without spaces or ":"')
      .default(DEFAULT_QUEUE_PREFIX),
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: () => `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    ROTATOR_HTTP_PORT: z
      .string()
      .default('8080')
      .refine((v) => /^\d{1,5}$/.test(v) && Number(v) <= 65535, 'must be a port number from 0 to 65535 (0 picks a free port)')
      .transform(Number),
    ROTATOR_SHUTDOWN_GRACE: durationVariable('30s', 'must be a duration like 30s, 2m or 1m30s'),
    ROTATOR_LOCK_DURATION: durationVariable('30s', 'must be a duration of at least 5s, like 30s or 2m', 5_000),
    ROTATOR_JOB_ATTEMPTS: z
      .string()
      .default('5')
      .refine((v) => /^\d{1,3}$/.test(v) && Number(v) >= 1, 'must be a whole number of attempts from 1 to 999')
      .transform(Number),
    ROTATOR_JOB_BACKOFF: durationVariable('5s', 'must be a duration like 5s or 1m'),
    ROTATOR_CONCURRENCY: z
      .string()
      .default('4')
      .refine((v) => /^\d{1,4}$/.test(v) && Number(v) >= 1, 'must be a whole number of jobs from 1 to 9999')
      .transform(Number),
    ROTATOR_REQUEST_TIMEOUT: durationVariable('15s', 'must be a duration of at least 100ms, like 15s', 100),
    ROTATOR_ESCALATE_AFTER: durationVariable('6h', 'must be a duration of at least 1m, like 6h or 1d', 60_000),
    ROTATOR_DASHBOARD: z.enum(['on', 'off'], { error: () => 'must be on or off' }).default('off'),
    ROTATOR_RADAR: z.enum(['on', 'off'], { error: () => 'must be on or off' }).default('on'),
    ROTATOR_DASHBOARD_USER: z
      .string()
      .regex(/^[^:\s]+$/, 'must be a user name without spaces or ":"')
      .optional(),
    // Never echoed: only its length is judged.
    ROTATOR_DASHBOARD_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
    ROTATOR_STATUS_PUBLIC_MESSAGES: booleanVariable(),
    ROTATOR_ACTOR: actorField.optional(),
    ROTATOR_ALLOW_PLAINTEXT_REDIS: booleanVariable(),
  })
  .superRefine((v, ctx) => {
    if (v.ROTATOR_DASHBOARD === 'on') {
      // No default user: a guessable name is half of a guessed login.
      for (const name of ['ROTATOR_DASHBOARD_USER', 'ROTATOR_DASHBOARD_PASSWORD'] as const) {
        if (!v[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'is required when ROTATOR_DASHBOARD=on' });
      }
    }
  });

/** The inventory cache's directory: the variable's, else the user's cache directory; undefined for none. */
function cacheDirOf(variable: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (variable === 'off') return undefined;
  if (variable) return variable;
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'credential-rotator');
  if (env.HOME && isAbsolute(env.HOME)) return join(env.HOME, '.cache', 'credential-rotator');
  return undefined;
}

/** Reads the environment once; every problem is reported with the variable's name as its path. */
export function loadEnv(env: NodeJS.ProcessEnv = process.env, options: { rateLimits?: readonly RateLimitVariable[] } = {}): Env {
  // Empty variables count as unset (common in container specs).
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const limits = options.rateLimits ?? [];
  const result = schema.safeParse(present);
  const rates = z.object(Object.fromEntries(limits.map((l) => [l.variable, rateLimitVariable(l.fallback)]))).safeParse(present);
  const problems: ConfigProblem[] = [result, rates].flatMap((r) =>
    r.success ? [] : r.error.issues.map((i) => ({ path: String(i.path[0] ?? '(environment)'), message: i.message })),
  );
  // The Redis variables are judged together (one topology, its prefix): see redis-topology.ts.
  const redis = readRedisTopology(present, result.success ? result.data.ROTATOR_QUEUE_PREFIX : (present.ROTATOR_QUEUE_PREFIX ?? DEFAULT_QUEUE_PREFIX));
  problems.push(...redis.problems);
  // Plain redis:// only to loopback, unless allowed on purpose: for a URL, a cluster's nodes, the sentinels.
  if (redis.topology) problems.push(...redisTopologyProblems(redis.topology, present.ROTATOR_ALLOW_PLAINTEXT_REDIS === 'true'));
  if (!result.success || !rates.success || !redis.topology || problems.length) throw new ConfigError('environment', problems);
  const v = result.data;
  const cacheDir = cacheDirOf(v.ROTATOR_CACHE_DIR, present);
  return {
    ...(v.ROTATOR_CONFIG ? { configPath: v.ROTATOR_CONFIG } : {}),
    ...(cacheDir ? { cacheDir } : {}),
    redis: redis.topology,
    queuePrefix: v.ROTATOR_QUEUE_PREFIX,
    logLevel: v.LOG_LEVEL,
    httpPort: v.ROTATOR_HTTP_PORT,
    shutdownGraceMs: v.ROTATOR_SHUTDOWN_GRACE,
    lockDurationMs: v.ROTATOR_LOCK_DURATION,
    jobAttempts: v.ROTATOR_JOB_ATTEMPTS,
    jobBackoffMs: v.ROTATOR_JOB_BACKOFF,
    concurrency: v.ROTATOR_CONCURRENCY,
    rateLimits: rates.data,
    requestTimeoutMs: v.ROTATOR_REQUEST_TIMEOUT,
    radar: v.ROTATOR_RADAR === 'on',
    escalateAfterMs: v.ROTATOR_ESCALATE_AFTER,
    statusPublicMessages: v.ROTATOR_STATUS_PUBLIC_MESSAGES,
    ...(v.ROTATOR_ACTOR ? { actor: v.ROTATOR_ACTOR } : {}),
    allowPlaintextRedis: v.ROTATOR_ALLOW_PLAINTEXT_REDIS,
    ...(v.ROTATOR_DASHBOARD === 'on' && v.ROTATOR_DASHBOARD_USER && v.ROTATOR_DASHBOARD_PASSWORD
      ? { dashboard: { user: v.ROTATOR_DASHBOARD_USER, password: v.ROTATOR_DASHBOARD_PASSWORD } }
      : {}),
  };
}
