import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.ts';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { previousTick } from '../../src/config/index.ts';
import { lastFireKey, scheduledJobId, startScheduler } from '../../src/queue/scheduler.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, logLines, useScenarios, type WorkerProcess } from '../support/scenario.ts';

const silent = createLogger({ level: 'silent' });
const hosts = useFakeHosts({ credly: {} }, { clearAfterEach: false });
// The replicas get SIGTERM after each test, as a deployment stops them.
const scenarios = useScenarios('sched', { stopSignal: 'SIGTERM' });
let redis: Redis;

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
});
afterAll(() => {
  redis.disconnect();
});

/** A Credly token credential of this file's fake (test/support/credentials.ts). */
const credlyCredential = (ageDays: number, schedule: string) => credlyToken(hosts.credly, { folder: 'workers', ageDays, schedule });

describe('schedules across replicas (separate worker processes)', () => {
  it('runs each fire of a schedule exactly once with three replicas, counted at the fake, for a minute', async () => {
    const c = credlyCredential(10, '*/2 * * * * *');
    // Counted from before the first replica starts: it may fire while the others are still starting.
    const listsBefore = hosts.credly.requests.length;
    const { workers } = await scenarios.build({ credentials: [c], prefix: `{sched-${c.id}}`, env: { ROTATOR_LOCK_DURATION: '5s' }, workers: 3 });
    // A minute of two-second ticks: until 30 distinct ticks have fired (read from the replicas' logs), within 80 s.
    const ticks = () =>
      new Set(
        workers
          .flatMap(logLines)
          .filter((l) => l.msg === 'schedule: fired')
          .map((l) => String(l.jobId)),
      ).size;
    await expect.poll(ticks, { timeout: 80_000, interval: 250 }).toBeGreaterThanOrEqual(30);
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));

    const lines = workers.flatMap(logLines);
    const fired = new Set(lines.filter((l) => l.msg === 'schedule: fired').map((l) => String(l.jobId)));
    const completed = lines.filter((l) => l.msg === 'job: completed').map((l) => String(l.jobId));
    // Every replica fires every tick, but each tick ran once, on one of them.
    expect(fired.size).toBeGreaterThanOrEqual(25);
    expect(lines.filter((l) => l.msg === 'schedule: fired').length).toBeGreaterThanOrEqual(fired.size * 2);
    expect(new Set(completed).size).toBe(completed.length);
    for (const jobId of completed) expect(fired.has(jobId)).toBe(true);
    expect(completed.length).toBeGreaterThanOrEqual(fired.size - 1);
    // At the fake: a check lists the tokens twice (inspect, then orphan reaping), once per tick.
    const lists = hosts.credly.requests
      .slice(listsBefore)
      .filter((r) => r.method === 'GET' && r.path.includes(c.org) && r.path.endsWith('/authorization_tokens'));
    expect(lists.length).toBe(completed.length * 2);
  }, 90_000);

  it('a manual trigger racing a scheduled run of the same credential makes one rotation', async () => {
    const c = credlyCredential(170, '*/3 * * * * *');
    const { prefix, workers } = await scenarios.build({ credentials: [c], prefix: `{race-${c.id}}`, env: { ROTATOR_LOCK_DURATION: '5s' }, workers: 2 });
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
    // Enqueued a few ms before the next tick, so both jobs are in flight together.
    await sleep(3_000 - (Date.now() % 3_000) - 20);
    await queue.add('check-credential', { credentialId: c.id, trigger: 'manual' });
    // Both jobs ended: one rotated, the other found it not due (awaited in the replicas' logs).
    const ended = () => workers.flatMap(logLines).filter((l) => l.msg === 'rotation: finished' || l.msg === 'rotation: not due').length;
    await expect.poll(ended, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(2);
    await queue.close();
    const created = hosts.credly.state.tokens(c.org).filter((t) => parseMarker(t.description)?.credentialId === c.id);
    expect(created).toHaveLength(1);
    expect(hosts.credly.state.isTokenValid(c.token.token)).toBe(false);
    const lines = workers.flatMap(logLines);
    expect(lines.filter((l) => l.msg === 'rotation: finished')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'rotation: not due').length).toBeGreaterThanOrEqual(1);
  }, 30_000);
});

describe('one cron semantics (the worker in its own process)', () => {
  it('fires next the tick /status.json shows as the next run', async () => {
    const c = credlyCredential(10, '*/4 * * * * *');
    const { workers } = await scenarios.build({ credentials: [c], workers: 1 });
    const [worker] = workers as [WorkerProcess];
    const view = (await (await fetch(`http://127.0.0.1:${await worker.port()}/status.json`)).json()) as {
      generatedAt: string;
      credentials: Array<{ id: string; nextRunAt: string }>;
    };
    const shown = new Date(view.credentials[0]!.nextRunAt);
    const seenAt = new Date(view.generatedAt);
    expect(shown.getTime()).toBeGreaterThan(seenAt.getTime());
    const firedTicks = () =>
      logLines(worker)
        .filter((l) => l.msg === 'schedule: fired')
        .map((l) => Number(/-(\d+)$/.exec(String(l.jobId))![1]) * 1000);
    await expect.poll(() => firedTicks().includes(shown.getTime()), { timeout: 15_000 }).toBe(true);
    // Nothing fired between the moment status was read and the tick it showed.
    expect(firedTicks().filter((t) => t > seenAt.getTime() && t < shown.getTime())).toEqual([]);
    expect(logLines(worker).some((l) => l.jobId === scheduledJobId(c.id, shown))).toBe(true);
  }, 30_000);

  it('stops at load, exit 2, on a schedule restricting both day-of-month and day-of-week, naming the credential and the reason', async () => {
    const c = credlyCredential(10, '0 0 1 * 1');
    const t = await scenarios.build({ credentials: [c] });
    const { code, output } = await t.command(['worker']);
    expect(code, output).toBe(2);
    expect(output).toContain(`credentials[0].schedule: ambiguous cron expression "0 0 1 * 1": day-of-month (1) and day-of-week (1) are both restricted`);
  }, 30_000);
});

const credentialOf = (job: { data: unknown }) => (job.data as { credentialId: string }).credentialId;

describe('scheduler (real Redis and BullMQ)', () => {
  const enqueuerFor = (queue: Queue) => ({
    async enqueue(credentialId: string, jobId: string) {
      await queue.add('check-credential', { credentialId, trigger: 'schedule' }, { jobId });
    },
  });

  it('catches up a tick missed while no replica ran, once, however many replicas start', async () => {
    const prefix = `{catchup-${randomUUID().slice(0, 8)}}`;
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
    const now = new Date();
    await redis.set(lastFireKey(prefix, 'hourly'), String(now.getTime() - 3 * 3_600_000));
    const credentials = [
      { id: 'hourly', schedule: '0 * * * *' },
      { id: 'new-one', schedule: '0 * * * *' },
    ];
    const replicas = await Promise.all([0, 1, 2].map(() => startScheduler({ credentials, enqueuer: enqueuerFor(queue), redis, prefix, logger: silent })));
    const latest = previousTick('0 * * * *', now);
    for (const r of replicas) expect(r.caughtUp).toEqual([scheduledJobId('hourly', latest)]);
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active']);
    expect(jobs.map((j) => j.id)).toEqual([scheduledJobId('hourly', latest)]);
    // A credential seen for the first time has nothing to catch up; its start is remembered.
    expect(Number(await redis.get(lastFireKey(prefix, 'new-one')))).toBe(latest.getTime());
    expect(Number(await redis.get(lastFireKey(prefix, 'hourly')))).toBe(latest.getTime());
    // Started again within the same hour: nothing more.
    const again = await startScheduler({ credentials, enqueuer: enqueuerFor(queue), redis, prefix, logger: silent });
    expect(again.caughtUp).toEqual([]);
    await Promise.all([...replicas, again].map((r) => r.stop()));
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('leaves no stale schedule when a credential is removed and the worker restarts', async () => {
    const prefix = `{stale-${randomUUID().slice(0, 8)}}`;
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
    const first = await startScheduler({
      credentials: [
        { id: 'kept', schedule: '* * * * * *' },
        { id: 'removed', schedule: '* * * * * *' },
      ],
      enqueuer: enqueuerFor(queue),
      redis,
      prefix,
      logger: silent,
    });
    const queued = async (id: string) => (await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'])).filter((j) => credentialOf(j) === id).length;
    // Until each schedule has fired at least once (every second), within 5 s.
    await expect.poll(() => queued('removed'), { timeout: 5_000, interval: 50 }).toBeGreaterThanOrEqual(1);
    await first.stop();
    const before = await queued('removed');
    const keptBefore = await queued('kept');
    const second = await startScheduler({
      credentials: [{ id: 'kept', schedule: '* * * * * *' }],
      enqueuer: enqueuerFor(queue),
      redis,
      prefix,
      logger: silent,
    });
    // Two more ticks of the kept schedule, and none of the removed one in the meantime.
    await expect.poll(() => queued('kept'), { timeout: 5_000, interval: 50 }).toBeGreaterThanOrEqual(keptBefore + 2);
    await second.stop();
    expect(await queued('removed')).toBe(before);
    // Nothing about schedules lives in BullMQ itself.
    expect(await queue.getJobSchedulers()).toEqual([]);
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('catches up a tick missed while the process was alive (an event-loop stall): logged, counted, enqueued once', async () => {
    const prefix = `{stall-${randomUUID().slice(0, 8)}}`;
    const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
    // Once a minute, three seconds from now: the stall swallows it and no later tick follows soon.
    const tick = new Date((Math.floor(Date.now() / 1000) + 3) * 1000);
    const schedule = `${tick.getUTCSeconds()} * * * * *`;
    const credentials = [
      { id: 'stalled', schedule },
      { id: 'stalled-too', schedule },
    ];
    const { logger, lines } = captureLogger();
    const missed: string[] = [];
    const replicas = await Promise.all(
      [0, 1].map(() => startScheduler({ credentials, enqueuer: enqueuerFor(queue), redis, prefix, logger, onMissed: (id) => missed.push(id) })),
    );
    const stallUntil = tick.getTime() + 2_500;
    while (Date.now() < stallUntil) {
      // Synchronous work past the tick and past node-cron's tolerance (1 s): no timer can run.
    }
    const id = scheduledJobId('stalled', tick);
    await expect
      .poll(async () => (await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'])).map((j) => j.id).sort(), { timeout: 5_000 })
      .toEqual([id, scheduledJobId('stalled-too', tick)].sort());
    // Both replicas missed it; the job id made it one job per credential.
    expect(missed.sort()).toEqual(['stalled', 'stalled', 'stalled-too', 'stalled-too']);
    expect(lines.filter((l) => l.includes('schedule: tick missed while the process was alive')).length).toBe(4);
    expect(Number(await redis.get(lastFireKey(prefix, 'stalled')))).toBe(tick.getTime());
    await Promise.all(replicas.map((r) => r.stop()));
    await queue.obliterate({ force: true });
    await queue.close();
  }, 20_000);
});
