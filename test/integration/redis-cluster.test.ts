import { randomUUID } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type LocalRedisCluster } from '../../scripts/redis-topologies.ts';
import { loadEnv } from '../../src/config/index.ts';
import { createRedisRateLimiter } from '../../src/provider-http/rate-limit.ts';
import { createRedisConnection } from '../../src/redis/connection.ts';
import { createCredentialLock } from '../../src/lease/credential-lock.ts';
import { createRotationStateStore } from '../../src/state/rotation-state.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { dumpRedis } from '../support/redis-dump.ts';
import { credlyToken, logLines, store, topologyEnv, useScenarios } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {} }, { clearAfterEach: false });
const scenarios = useScenarios('cluster');
let cluster: LocalRedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster(scenarios.dir, { password: `cluster-${randomUUID()}` });
}, 60_000);
// Registered after the scenarios: it runs before their folder, which holds the cluster's files, goes.
afterAll(async () => {
  await cluster?.stop();
});

const clusterEnv = () => ({ REDIS_CLUSTER_NODES: cluster.urls.join(',') });

/** The masters holding at least one key under `prefix`, each scanned as a plain server. */
async function mastersHolding(prefix: string): Promise<Array<{ port: number; keys: string[]; dump: string }>> {
  const found = [];
  for (const node of cluster.nodes) {
    const redis = new Redis({ host: '127.0.0.1', port: node.port, password: cluster.password });
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) found.push({ port: node.port, keys, dump: (await dumpRedis(redis, `${prefix}*`)).text });
    redis.disconnect();
  }
  return found;
}

describe('Redis Cluster (three real masters on loopback)', () => {
  it("runs the locks, the rate limiter's script, the rotation state and the pipelined status reads inside the prefix's one slot", async () => {
    const prefix = `{cl-${randomUUID().slice(0, 8)}}`;
    const { redis: topology } = loadEnv(clusterEnv());
    const worker = createRedisConnection(topology, 'worker') as Cluster;
    const producer = createRedisConnection(topology, 'producer') as Cluster;
    await producer.connect();
    try {
      const lock = createCredentialLock(worker, { prefix, ttlMs: 5_000 });
      const held = await lock.acquire('credly-a');
      expect(held).toBeDefined();
      expect(await lock.acquire('credly-a')).toBeUndefined();
      await held!.release();
      const holder = (await lock.acquire('credly-a'))!;
      expect(holder).toBeDefined();

      const limiter = createRedisRateLimiter(worker, { prefix, limitFor: () => ({ perSecond: 50, burst: 2 }) });
      const start = performance.now();
      for (let i = 0; i < 6; i += 1) await limiter.acquire(`credly:org-${i % 2}`);
      // Two organizations, three calls each: the third of each waits one interval (20 ms) at least.
      expect(performance.now() - start).toBeGreaterThanOrEqual(15);

      const state = createRotationStateStore(worker, prefix);
      // The fenced writes: one script over the lock key and the record, both in the prefix's slot.
      await state.save(
        {
          credentialId: 'credly-a',
          rotationId: 'r-1',
          jobId: 'j-1',
          step: 'test',
          startedAt: '2026-12-01T00:00:00.000Z',
          previousRef: 'old',
          forced: false,
          trigger: 'schedule',
        },
        holder.token,
      );
      const at = '2026-12-01T00:00:00.000Z';
      await state.updateStatus('credly-a', { lastResult: 'rotated', lastSummary: 'done', lastCheckAt: at, expiresAt: '2027-06-01T00:00:00.000Z' });
      await state.updateStatus('credly-a', { lastSummary: '' }); // a set and a delete in one MULTI
      const recorded = { lastResult: 'rotated', lastCheckAt: at, lastSuccessAt: at, expiresAt: '2027-06-01T00:00:00.000Z' };
      expect(await state.readStatus('credly-a')).toEqual(recorded);
      const ids = Array.from({ length: 2_500 }, (_, i) => `dg-${i}`); // three pipelines, auto-pipelined as well
      for (const id of ids.slice(0, 30)) await state.updateStatus(id, { lastResult: 'valid' });
      const overview = await createRotationStateStore(producer, prefix).readOverview(['credly-a', ...ids]);
      expect(overview[0]).toEqual({ status: recorded, step: 'test' });
      expect(overview.slice(1, 31).every((o) => o.status.lastResult === 'valid')).toBe(true);
      expect(overview.slice(31).every((o) => o.status.lastResult === undefined)).toBe(true);
      await state.clear('credly-a', 'r-1', holder.token);
      expect(await state.get('credly-a')).toBeUndefined();
      await holder.release();

      // Every key the rotator wrote is on one master, in the prefix's slot.
      const holders = await mastersHolding(prefix);
      expect(holders).toHaveLength(1);
      const slot = await producer.cluster('KEYSLOT', prefix);
      for (const key of holders[0]!.keys) expect(await producer.cluster('KEYSLOT', key), key).toBe(slot);

      // Why Cluster needs the hash tag: without one, the status keys spread over the masters and one pipeline cannot read them.
      await expect(createRotationStateStore(producer, `cl-${randomUUID().slice(0, 8)}`).readOverview(ids.slice(0, 50))).rejects.toThrow();
    } finally {
      worker.disconnect();
      producer.disconnect();
    }
  });

  it('rotates on a trigger, reports status, and runs a schedule exactly once across two workers; /readyz follows the cluster state', async () => {
    const due = credlyToken(hosts.credly, { folder: 'workers', ageDays: 170 });
    const ticking = credlyToken(hosts.credly, { folder: 'workers', ageDays: 10, schedule: '*/2 * * * * *' });
    const listsBefore = hosts.credly.requests.length;
    const t = await scenarios.build({
      credentials: [due, ticking],
      prefix: `{cl-${randomUUID().slice(0, 8)}}`,
      env: topologyEnv({ ...clusterEnv(), ROTATOR_LOCK_DURATION: '5s' }),
      workers: 2,
    });
    const { prefix, workers } = t;
    const ports = await Promise.all(workers.map((w) => w.port()));
    for (const port of ports) expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    const trigger = t.spawn(['trigger', due.id, '--wait', '--json']);
    expect((await trigger.exited).code, trigger.output()).toBe(0);
    expect(JSON.parse(trigger.lines.at(-1)!)).toMatchObject({ state: 'completed', outcome: { status: 'success', action: 'rotated' } });
    const [created] = due.created();
    expect(due.created()).toHaveLength(1);
    expect(hosts.credly.state.isTokenValid(due.token.token)).toBe(false);
    expect(JSON.parse((await store.readCurrent(due.secretId)).secretString)).toMatchObject({ token: created!.token, tokenId: created!.id });

    const status = t.spawn(['status', '--json']);
    expect((await status.exited).code, status.output()).toBe(0);
    const view = JSON.parse(status.lines.join('\n')) as {
      credentials: Array<{ id: string; state: string; lastResult: string | null }>;
      queue: Record<string, number>;
    };
    expect(view.credentials.find((c) => c.id === due.id)).toMatchObject({ state: 'ok', lastResult: 'rotated' });
    expect(view.queue.failed).toBe(0);

    const check = t.spawn(['check', due.id, '--json']);
    expect((await check.exited).code, check.output()).toBe(0);
    expect(JSON.parse(check.lines.join('\n'))).toMatchObject({
      ok: true,
      redis: {
        ok: true,
        detail:
          `reachable at cluster redis://127.0.0.1:${cluster.nodes[0]!.port},` +
          cluster.nodes
            .slice(1)
            .map((n) => `127.0.0.1:${n.port}`)
            .join(','),
      },
    });
    expect(check.output()).not.toContain(cluster.password);

    // Until three ticks of the two-second schedule have run to completion (read from the workers' logs).
    const completedTicks = () =>
      workers.flatMap(logLines).filter((l) => l.msg === 'job: completed' && String(l.jobId).startsWith(`schedule-${ticking.id}-`)).length;
    await expect.poll(completedTicks, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(3);
    const lines = workers.flatMap(logLines);
    const fired = new Set(lines.filter((l) => l.msg === 'schedule: fired' && l.credentialId === ticking.id).map((l) => String(l.jobId)));
    const completed = lines.filter((l) => l.msg === 'job: completed' && String(l.jobId).startsWith(`schedule-${ticking.id}-`)).map((l) => String(l.jobId));
    expect(fired.size).toBeGreaterThanOrEqual(3);
    expect(new Set(completed).size).toBe(completed.length);
    for (const jobId of completed) expect(fired.has(jobId)).toBe(true);
    expect(completed.length).toBeGreaterThanOrEqual(fired.size - 1);
    // At the fake: a check lists the tokens twice (inspect, then orphan reaping), once per tick.
    const lists = hosts.credly.requests
      .slice(listsBefore)
      .filter((r) => r.method === 'GET' && r.path.includes(ticking.org) && r.path.endsWith('/authorization_tokens'));
    expect(lists.length).toBe(completed.length * 2);

    // One master holds everything, and no token is in Redis.
    const holders = await mastersHolding(prefix);
    expect(holders).toHaveLength(1);
    for (const value of [due.token.token, created!.token, ticking.token.token]) expect(holders[0]!.dump).not.toContain(value);

    // A master goes away: the cluster state turns fail and neither worker is ready until it is back.
    const victim = cluster.nodes[0]!;
    await victim.stop();
    for (const port of ports) {
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status, { timeout: 15_000, interval: 250 }).toBe(503);
    }
    await victim.restart();
    for (const port of ports) {
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status, { timeout: 20_000, interval: 250 }).toBe(200);
    }
  }, 90_000);
});
