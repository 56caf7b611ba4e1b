import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisSentinel, type LocalSentinelGroup } from '../../scripts/redis-topologies.ts';
import { loadEnv } from '../../src/config/index.ts';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { createRedisConnection } from '../../src/redis/connection.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, logLines, store, topologyEnv, useScenarios } from '../support/scenario.ts';

// Every Credly call takes 150 ms, so rotations are in flight when the failover comes.
const hosts = useFakeHosts({ credly: { latencyMs: 150 } }, { clearAfterEach: false });
const scenarios = useScenarios('sentinel');
let group: LocalSentinelGroup;

beforeAll(async () => {
  group = await startRedisSentinel(scenarios.dir, { password: `data-${randomUUID()}`, sentinelPassword: `sentinel-${randomUUID()}` });
}, 60_000);
// Registered after the scenarios: it runs before their folder, which holds the servers' files, goes.
afterAll(async () => {
  await group?.stop();
});

describe('Redis Sentinel (a master, a replica and three sentinels on loopback)', () => {
  it('rotates on a trigger, reports status, and loses no job through a SENTINEL FAILOVER in the middle of a burst', async () => {
    const credentials = Array.from({ length: 10 }, () => credlyToken(hosts.credly, { folder: 'workers', ageDays: 170 }));
    const vars = {
      REDIS_SENTINELS: group.sentinelAddresses,
      REDIS_SENTINEL_NAME: group.name,
      REDIS_PASSWORD: group.password,
      REDIS_SENTINEL_PASSWORD: group.sentinelPassword,
    };
    const t = await scenarios.build({
      credentials,
      prefix: `{sn-${randomUUID().slice(0, 8)}}`,
      env: topologyEnv({ ...vars, ROTATOR_LOCK_DURATION: '5s' }),
      workers: 2,
    });
    const { prefix, workers } = t;
    const ports = await Promise.all(workers.map((w) => w.port()));
    for (const port of ports) expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    // A trigger through the CLI, on the Sentinel topology.
    const [first, ...rest] = credentials;
    const trigger = t.spawn(['trigger', first!.id, '--wait', '--json']);
    expect((await trigger.exited).code, trigger.output()).toBe(0);
    expect(JSON.parse(trigger.lines.at(-1)!)).toMatchObject({ state: 'completed', outcome: { action: 'rotated' } });

    // A burst of nine, acknowledged by the replica before the failover (an add the replica never saw
    // would be Redis's asynchronous replication losing it, not the rotator).
    const connection = createRedisConnection(loadEnv(vars).redis, 'worker') as Redis;
    const queue = new Queue(QUEUE_NAME, { connection, prefix });
    try {
      const jobs = await Promise.all(rest.map((c) => queue.add('check-credential', { credentialId: c.id, trigger: 'manual' })));
      expect(await connection.wait(1, 5_000)).toBe(1);
      await expect
        .poll(() => workers.flatMap(logLines).filter((l) => l.msg === 'job: completed').length, { timeout: 20_000, interval: 50 })
        .toBeGreaterThanOrEqual(2);
      const { from, to } = await group.failover();
      expect(to).not.toBe(from);

      // Every job ends completed, on the new master; every credential rotated exactly once.
      await expect
        .poll(async () => (await Promise.all(jobs.map((j) => queue.getJobState(j.id!)))).every((s) => s === 'completed'), { timeout: 45_000, interval: 500 })
        .toBe(true);
      expect(await queue.getJobCounts('failed', 'waiting', 'active', 'delayed')).toEqual({ failed: 0, waiting: 0, active: 0, delayed: 0 });
      for (const c of credentials) {
        const created = c.created();
        expect(created, c.id).toHaveLength(1);
        expect(hosts.credly.state.isTokenValid(c.token.token)).toBe(false);
        expect(JSON.parse((await store.readCurrent(c.secretId)).secretString)).toMatchObject({ token: created[0]!.token });
      }
      // The client follows the sentinels to the promoted server.
      await expect.poll(async () => (await connection.info('server')).includes(`tcp_port:${to}`), { timeout: 10_000, interval: 250 }).toBe(true);
      expect(((await connection.role()) as string[])[0]).toBe('master');
    } finally {
      await queue.close();
      connection.disconnect();
    }

    // Both workers follow the new master: ready again, and status reads it.
    for (const port of ports)
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status, { timeout: 15_000, interval: 250 }).toBe(200);
    const readStatus = async () => {
      const status = t.spawn(['status', '--json']);
      expect((await status.exited).code, status.output()).toBe(0);
      return (JSON.parse(status.lines.join('\n')) as { credentials: Array<{ id: string; state: string; lastResult: string | null }> }).credentials;
    };
    // Redis replicates asynchronously: writes the old master acknowledged in its last moment may be
    // lost with it (docs/install.md, "4. Redis"). The credential was rotated all the same (above); its next check
    // records it, without a second rotation. (A job whose completion was lost that way runs again,
    // at least once as BullMQ promises, and ends not due.)
    const before = await readStatus();
    for (const c of before) expect(c.lastResult === null || (c.state === 'ok' && ['rotated', 'not-due'].includes(c.lastResult)), JSON.stringify(c)).toBe(true);
    const lost = before.filter((c) => c.lastResult === null);
    for (const c of lost) {
      const again = t.spawn(['trigger', c.id, '--wait', '--json']);
      expect((await again.exited).code, again.output()).toBe(0);
      // Not due; or, when the lost write was the end of the rotation record, the same rotation resumed
      // and finished (its token already current, the old one already gone): never a second token.
      const outcome = (JSON.parse(again.lines.at(-1)!) as { outcome: { action: string; rotationId?: string } }).outcome;
      expect(['not-due', 'rotated'], again.output()).toContain(outcome.action);
      const credential = credentials.find((x) => x.id === c.id)!;
      expect(credential.created(), again.output()).toHaveLength(1);
      if (outcome.action === 'rotated') expect(parseMarker(credential.created()[0]!.description)?.rotationId).toBe(outcome.rotationId);
    }
    const after = await readStatus();
    expect(after.map((c) => c.state)).toEqual(credentials.map(() => 'ok'));
    // Each status the failover lost is recorded again by its next check, on the new master.
    for (const c of lost)
      expect(['not-due', 'rotated'], JSON.stringify(after.find((x) => x.id === c.id))).toContain(after.find((x) => x.id === c.id)?.lastResult);
    for (const c of credentials) expect(c.created(), c.id).toHaveLength(1);
    console.log(`sentinel failover: ${lost.length} of ${credentials.length} statuses lost in the failover window, repaired by the next check`);
    const output = workers.map((w) => w.output()).join('\n');
    for (const secret of [group.password, group.sentinelPassword, ...credentials.map((c) => c.token.token)]) expect(output).not.toContain(secret);
  }, 120_000);
});
