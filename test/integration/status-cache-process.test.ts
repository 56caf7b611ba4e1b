import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFileOf } from '../../src/config/index.ts';
import { statusKey } from '../../src/state/rotation-state.ts';
import { dumpRedis } from '../support/redis-dump.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SECRET_VALUE = 'https://hooks.slack.example/T000/B000/status-cache-secret-93c2';

const inventory = (ids: string[]) =>
  [
    'version: 1',
    'credentials:',
    ...ids.flatMap((id) => [
      `  - id: ${id}`,
      '    kind: degreed-client-credentials',
      `    secretId: test/${id}`,
      '    environment: production',
      '    dataCenter: US',
      '    scopes: [users:read]',
    ]),
    'alerts:',
    '  - { id: ops, kind: slack, webhookUrl: { env: STATUS_CACHE_SLACK_URL } }',
    '',
  ].join('\n');

describe('rotator status through the inventory cache (a process, real Redis)', () => {
  const prefix = `{status-cache-${randomUUID().slice(0, 8)}}`;
  const root = mkdtempSync(join(tmpdir(), 'rotator-status-cache-'));
  const file = join(root, 'inventory.yaml');
  const cacheDir = join(root, 'cache');
  const redis = new Redis(process.env.REDIS_URL!);

  function status(env: Record<string, string> = {}) {
    const result = spawnSync(process.execPath, [CLI, 'status', '--json'], {
      env: { ...process.env, ROTATOR_CONFIG: file, ROTATOR_QUEUE_PREFIX: prefix, ROTATOR_CACHE_DIR: cacheDir, STATUS_CACHE_SLACK_URL: SECRET_VALUE, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }
  const listed = (stdout: string) =>
    (JSON.parse(stdout) as { credentials: Array<{ id: string; lastResult: string | null }> }).credentials.map((c) => [c.id, c.lastResult]);

  beforeAll(async () => {
    await redis.hset(statusKey(prefix, 'dg-a'), { lastResult: 'valid', lastCheckAt: new Date().toISOString(), lastSummary: 'token granted' });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('writes the cache on the first run and reads it on the next, with the same answer; an edit of one byte is seen at once', () => {
    writeFileSync(file, inventory(['dg-a', 'dg-b']));
    const cold = status();
    expect(cold.code, cold.stderr).toBe(0);
    expect(listed(cold.stdout)).toEqual([
      ['dg-a', 'valid'],
      ['dg-b', null],
    ]);
    const cached = cacheFileOf(cacheDir, file);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(cached).mode & 0o777).toBe(0o600);
    const written = statSync(cached).mtimeMs;

    const warm = status();
    expect(warm.code, warm.stderr).toBe(0);
    expect(listed(warm.stdout)).toEqual(listed(cold.stdout));
    // Read, not written again: the file is the first run's.
    expect(statSync(cached).mtimeMs).toBe(written);

    // One byte changed (dg-b → dg-c): the next run lists the file as it is now.
    writeFileSync(file, inventory(['dg-a', 'dg-c']));
    const edited = status();
    expect(edited.code, edited.stderr).toBe(0);
    expect(listed(edited.stdout)).toEqual([
      ['dg-a', 'valid'],
      ['dg-c', null],
    ]);
    // Nothing secret in the cache: the sink's variable is named, its value is not there.
    const text = readFileSync(cached, 'utf8');
    expect(text).toContain('STATUS_CACHE_SLACK_URL');
    expect(text).not.toContain(SECRET_VALUE);
  }, 120_000);

  it('reports an edit that breaks the file, exit 2, although an earlier version of it is cached', () => {
    writeFileSync(file, inventory(['dg-a']));
    expect(status().code).toBe(0);
    writeFileSync(file, inventory(['dg-a']).replace('dataCenter: US', 'dataCenter: MARS'));
    const broken = status();
    expect(broken.code).toBe(2);
    expect(broken.stdout).toContain('credentials[0].dataCenter');
  }, 120_000);

  it('answers the same without a usable cache directory, or with the cache off', async () => {
    writeFileSync(file, inventory(['dg-a', 'dg-b']));
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const off = join(root, 'never-made');
    const envs: Record<string, string>[] = [{ ROTATOR_CACHE_DIR: join(blocker, 'cache') }, { ROTATOR_CACHE_DIR: 'off', HOME: off, XDG_CACHE_HOME: off }];
    for (const env of envs) {
      const run = status(env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      expect(listed(run.stdout)).toEqual([
        ['dg-a', 'valid'],
        ['dg-b', null],
      ]);
    }
    expect(readdirSync(root).sort()).toEqual(['a-file', 'cache', 'inventory.yaml']);
    // Nothing of the inventory reached Redis: the status hash the test wrote and the queue's own metadata.
    expect((await redis.keys(`${prefix}*`)).sort()).toEqual([`${prefix}:credentials:meta`, statusKey(prefix, 'dg-a')]);
    const dump = await dumpRedis(redis, `${prefix}*`);
    for (const value of [SECRET_VALUE, 'STATUS_CACHE_SLACK_URL', 'test/dg-b']) expect(dump.text).not.toContain(value);
  }, 120_000);
});
