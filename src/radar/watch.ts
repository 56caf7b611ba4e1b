import cron, { type ScheduledTask } from 'node-cron';
import { CRON_TIME_ZONE, formatDuration } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { unlisted, unmanagedExpiring, type RadarExpiringAlert, type RadarReport } from '../kinds/registry.ts';

const DAY_MS = 86_400_000;

export interface RadarWatchOptions {
  /** One run of the radar over the inventory's organizations. */
  run(): Promise<RadarReport>;
  /** When to look again (cron, UTC): `radar.schedule`. */
  schedule: string;
  /** `radar.warnWithin`, in ms. */
  withinMs: number;
  /** Told of each run's report (metrics). */
  onReport(report: RadarReport): void;
  /** Told of each unmanaged token expiring within the window (the alerter sends at most one a day per token, across replicas). */
  onExpiring(alert: RadarExpiringAlert): Promise<void>;
  logger: Logger;
}

export interface RadarWatch {
  /** No more runs; a run in progress is abandoned (it only reads) and its report is not published. */
  stop(): void;
  /** The run started at start-up (tests wait for it). */
  readonly first: Promise<void>;
}

/**
 * The worker's radar: a run at start and on `radar.schedule`, one at a time (a tick that comes
 * while a run is still listing is skipped). Each run's report goes to the metrics; each unmanaged
 * token expiring within the window to the alerter; an organization that could not be listed is
 * logged, never read as "no tokens". A run that fails is logged and changes nothing; it never
 * stops the worker.
 */
export function startRadarWatch(options: RadarWatchOptions): RadarWatch {
  const { logger } = options;
  let running: Promise<void> | undefined;
  let stopped = false;
  const once = async () => {
    const report = await options.run();
    if (stopped) return;
    options.onReport(report);
    const missing = unlisted(report);
    for (const org of missing) logger.warn({ organizationId: org.organizationId, detail: org.error }, 'radar: an organization could not be listed');
    const expiring = unmanagedExpiring(report, options.withinMs);
    for (const { organizationId, token } of expiring) {
      const listedWith = report.organizations.find((o) => o.organizationId === organizationId)?.listedWith ?? '';
      const daysToExpiry = Math.floor((Date.parse(token.expiresAt) - Date.parse(report.at)) / DAY_MS);
      logger.warn({ organizationId, tokenId: token.id, expiresAt: token.expiresAt, daysToExpiry }, 'radar: a token no credential manages expires soon');
      await options.onExpiring({
        credentialId: listedWith,
        organizationId,
        tokenId: token.id,
        description: token.description,
        expiresAt: token.expiresAt,
        daysToExpiry,
      });
    }
    const tokens = report.organizations.reduce((n, o) => n + (o.tokens?.length ?? 0), 0);
    logger.info(
      {
        organizations: report.organizations.length,
        unlisted: missing.length,
        tokens,
        unmanagedExpiring: expiring.length,
        within: formatDuration(options.withinMs),
      },
      'radar: ran',
    );
  };
  const runOnce = (): Promise<void> => {
    if (running) return running;
    running = once()
      .catch((error: unknown) => logger.error({ err: { type: (error as Error).name, message: (error as Error).message } }, 'radar: the run failed'))
      .finally(() => (running = undefined));
    return running;
  };
  const first = runOnce();
  const task: ScheduledTask = cron.schedule(
    options.schedule,
    () => {
      if (running) {
        logger.info('radar: a run is still in progress; this tick is skipped');
        return;
      }
      void runOnce();
    },
    { timezone: CRON_TIME_ZONE, name: 'rotator:radar' },
  );
  return {
    first,
    stop() {
      stopped = true;
      void task.destroy();
    },
  };
}
