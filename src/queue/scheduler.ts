import type { RedisClient } from '../redis/connection.ts';
import cron, { type ScheduledTask } from 'node-cron';
import { CRON_TIME_ZONE, previousTick, type CredentialBase } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';

/**
 * Cron schedules, exactly once across replicas.
 *
 * Every replica runs node-cron with the schedules of its own inventory; a fire enqueues the
 * credential's check under a job id made of the credential id and the scheduled time
 * (`schedule-<id>-<unix seconds>`). BullMQ adds a job id once, so N replicas firing the same tick
 * make one job. Nothing about schedules is stored in Redis but the last fire time per credential,
 * so an edited or removed credential leaves no stale schedule behind after a restart. A tick missed
 * while every replica was down is caught up once at start, under the id of the latest missed tick.
 * A tick missed while the process was alive (node-cron's missed execution: an event-loop stall, a
 * suspended host) is caught up the same way at once: logged, counted, enqueued under its own id.
 * The latest tick at start is node-cron's semantics too (src/config/cron.ts), never another engine's.
 */

export interface ScheduleEnqueuer {
  /** Adds the check-credential job under `jobId` (ignored by BullMQ when that id exists). */
  enqueue(credentialId: string, jobId: string): Promise<void>;
}

export interface SchedulerOptions {
  credentials: ReadonlyArray<Pick<CredentialBase, 'id' | 'schedule'>>;
  enqueuer: ScheduleEnqueuer;
  redis: RedisClient;
  prefix: string;
  logger: Logger;
  /** Default: the clock. */
  now?: () => Date;
  /** Told of each tick of a credential missed while the process was alive (metrics). */
  onMissed?: (credentialId: string) => void;
}

export interface Scheduler {
  /** Jobs enqueued at start for ticks missed while no replica ran. */
  readonly caughtUp: string[];
  stop(): Promise<void>;
}

/** Credentials read from Redis per round trip at start-up. */
const START_BATCH = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function scheduledJobId(credentialId: string, at: Date): string {
  return `schedule-${credentialId}-${Math.floor(at.getTime() / 1000)}`;
}

export function lastFireKey(prefix: string, credentialId: string): string {
  return `${prefix}:schedule:${credentialId}`;
}

// Only moves forward: replicas record the same tick, or a later one, in any order.
const RECORD = `local v = tonumber(redis.call('get', KEYS[1]) or '0') if tonumber(ARGV[1]) > v then redis.call('set', KEYS[1], ARGV[1]) end return 1`;

export async function startScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const { redis, prefix, logger, enqueuer } = options;
  const now = options.now ?? (() => new Date());
  const record = (credentialId: string, at: Date) => redis.eval(RECORD, 1, lastFireKey(prefix, credentialId), String(at.getTime()));

  const fire = async (credentialId: string, at: Date, reason: 'tick' | 'catch-up' | 'missed') => {
    const jobId = scheduledJobId(credentialId, at);
    await enqueuer.enqueue(credentialId, jobId);
    await record(credentialId, at);
    logger.info({ credentialId, jobId, reason }, 'schedule: fired');
    return jobId;
  };

  const missed = catchUpMissed(async (credentialId, at, count) => {
    const last = Number((await redis.get(lastFireKey(prefix, credentialId))) ?? 0);
    for (let i = 0; i < count; i += 1) options.onMissed?.(credentialId);
    // A later tick already ran (the stall ended on one): that check covers the missed one.
    const covered = last >= at.getTime();
    logger.warn({ credentialId, tick: at.toISOString(), missed: count, covered }, 'schedule: tick missed while the process was alive (event loop stalled?)');
    if (!covered) await fire(credentialId, at, 'missed');
  }, logger);

  // Start-up reads every credential's last fire, and records the first ones, in batches: one round
  // trip per batch, not per credential (thousands of credentials start in a fraction of a second).
  const caughtUp: string[] = [];
  const startedAt = now();
  const latestOf = new Map<string, Date>();
  for (const batch of chunks(options.credentials, START_BATCH)) {
    const lasts = await redis.mget(batch.map((c) => lastFireKey(prefix, c.id)));
    const firsts = redis.pipeline();
    for (const [i, credential] of batch.entries()) {
      const last = Number(lasts[i] ?? 0);
      if (!latestOf.has(credential.schedule)) latestOf.set(credential.schedule, previousTick(credential.schedule, startedAt));
      const latest = latestOf.get(credential.schedule)!;
      // First start for this credential: nothing was missed yet; remember where we begin.
      if (last === 0) firsts.eval(RECORD, 1, lastFireKey(prefix, credential.id), String(latest.getTime()));
      else if (latest.getTime() > last) caughtUp.push(await fire(credential.id, latest, 'catch-up'));
    }
    const failed = ((await firsts.exec()) ?? []).map(([error]) => error).find((error): error is Error => error !== null);
    if (failed) throw failed;
  }

  // One timer per distinct schedule, not per credential: credentials mostly share a few schedules,
  // and a node-cron task costs tens of kilobytes.
  const bySchedule = new Map<string, string[]>();
  for (const c of options.credentials) bySchedule.set(c.schedule, [...(bySchedule.get(c.schedule) ?? []), c.id]);
  const tasks: ScheduledTask[] = [...bySchedule].map(([schedule, ids]) => {
    const task = cron.schedule(
      schedule,
      async (context) => {
        // The tick's own time, whole seconds, so every replica names it alike.
        const at = new Date(Math.floor(context.date.getTime() / 1000) * 1000);
        for (const credentialId of ids) {
          try {
            await fire(credentialId, at, 'tick');
          } catch (error) {
            logger.error({ credentialId, err: { type: (error as Error).name, message: (error as Error).message } }, 'schedule: could not enqueue');
          }
        }
      },
      { timezone: CRON_TIME_ZONE, name: `rotator:${schedule}`, suppressMissedWarning: true },
    );
    task.on('execution:missed', (context) => missed.note(ids, context.date));
    return task;
  });
  logger.info({ schedules: options.credentials.length, caughtUp: caughtUp.length }, 'schedule: started');
  return {
    caughtUp,
    async stop() {
      for (const task of tasks) await task.destroy();
    },
  };
}

/**
 * Collects the ticks node-cron reports missed in one wake-up (a long stall misses several) and
 * catches each credential up once, under the latest one's id: replicas that missed it too add the
 * same job id, so the fleet still gets one job.
 */
function catchUpMissed(
  catchUp: (credentialId: string, at: Date, count: number) => Promise<void>,
  logger: Logger,
): { note(credentialIds: readonly string[], at: Date): void } {
  const pending = new Map<string, { at: Date; count: number }>();
  let flushing: NodeJS.Immediate | undefined;
  const flush = async () => {
    flushing = undefined;
    const batch = [...pending];
    pending.clear();
    for (const [credentialId, { at, count }] of batch) {
      try {
        await catchUp(credentialId, at, count);
      } catch (error) {
        logger.error({ credentialId, err: { type: (error as Error).name, message: (error as Error).message } }, 'schedule: could not catch up a missed tick');
      }
    }
  };
  return {
    note(credentialIds, at) {
      // The tick's own time, whole seconds, as a fire names it.
      const tick = new Date(Math.floor(at.getTime() / 1000) * 1000);
      for (const id of credentialIds) {
        const seen = pending.get(id);
        pending.set(id, { at: seen && seen.at > tick ? seen.at : tick, count: (seen?.count ?? 0) + 1 });
      }
      flushing ??= setImmediate(() => void flush());
    },
  };
}
