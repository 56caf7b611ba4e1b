import { CronExpressionParser } from 'cron-parser';
import type { RedisClient } from './redis.ts';
import cron, { type ScheduledTask } from 'node-cron';
import type { CredentialConfig } from '../config/index.ts';
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
 */

export interface ScheduleEnqueuer {
  /** Adds the check-credential job under `jobId` (ignored by BullMQ when that id exists). */
  enqueue(credentialId: string, jobId: string): Promise<void>;
}

export interface SchedulerOptions {
  credentials: ReadonlyArray<Pick<CredentialConfig, 'id' | 'schedule'>>;
  enqueuer: ScheduleEnqueuer;
  redis: RedisClient;
  prefix: string;
  logger: Logger;
  /** Default: the clock. */
  now?: () => Date;
}

export interface Scheduler {
  /** Jobs enqueued at start for ticks missed while no replica ran. */
  readonly caughtUp: string[];
  stop(): Promise<void>;
}

export function scheduledJobId(credentialId: string, at: Date): string {
  return `schedule-${credentialId}-${Math.floor(at.getTime() / 1000)}`;
}

export function lastFireKey(prefix: string, credentialId: string): string {
  return `${prefix}:schedule:${credentialId}`;
}

// Only moves forward: replicas record the same tick, or a later one, in any order.
const RECORD = `local v = tonumber(redis.call('get', KEYS[1]) or '0') if tonumber(ARGV[1]) > v then redis.call('set', KEYS[1], ARGV[1]) end return 1`;

/** The latest scheduled time at or before `now` (UTC). */
export function previousTick(expression: string, now: Date): Date {
  // A moment past `now` makes a tick exactly at `now` count as the latest.
  return CronExpressionParser.parse(expression, { currentDate: new Date(now.getTime() + 1), tz: 'UTC' }).prev().toDate();
}

export async function startScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const { redis, prefix, logger, enqueuer } = options;
  const now = options.now ?? (() => new Date());
  const record = (credentialId: string, at: Date) => redis.eval(RECORD, 1, lastFireKey(prefix, credentialId), String(at.getTime()));

  const fire = async (credentialId: string, at: Date, reason: 'tick' | 'catch-up') => {
    const jobId = scheduledJobId(credentialId, at);
    await enqueuer.enqueue(credentialId, jobId);
    await record(credentialId, at);
    logger.info({ credentialId, jobId, reason }, 'schedule: fired');
    return jobId;
  };

  const caughtUp: string[] = [];
  for (const credential of options.credentials) {
    const last = Number((await redis.get(lastFireKey(prefix, credential.id))) ?? 0);
    const latest = previousTick(credential.schedule, now());
    if (last === 0) {
      // First start for this credential: nothing was missed yet; remember where we begin.
      await record(credential.id, latest);
    } else if (latest.getTime() > last) {
      caughtUp.push(await fire(credential.id, latest, 'catch-up'));
    }
  }

  // One timer per distinct schedule, not per credential: credentials mostly share a few schedules,
  // and a node-cron task costs tens of kilobytes.
  const bySchedule = new Map<string, string[]>();
  for (const c of options.credentials) bySchedule.set(c.schedule, [...(bySchedule.get(c.schedule) ?? []), c.id]);
  const tasks: ScheduledTask[] = [...bySchedule].map(([schedule, ids]) =>
    cron.schedule(
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
      { timezone: 'Etc/UTC', name: `rotator:${schedule}`, suppressMissedWarning: true },
    ),
  );
  logger.info({ schedules: options.credentials.length, caughtUp: caughtUp.length }, 'schedule: started');
  return {
    caughtUp,
    async stop() {
      for (const task of tasks) await task.destroy();
    },
  };
}
