import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { packageVersion } from '../build-info.ts';
import type { StatusView } from '../status/collect.ts';

/**
 * The worker's Prometheus metrics, by Prometheus's conventions: base units (timestamps in seconds
 * since the epoch, so alerts compare them with `time()`), no label named `job` (Prometheus owns it:
 * the scrape job), the process and Node.js metrics under their standard names for stock dashboards,
 * and `rotator_build_info{version}`. Counters and histograms are updated as jobs end; the
 * per-credential gauges and queue depths are read from Redis at scrape time, so every replica
 * reports the fleet's view of them.
 */
export interface RotatorMetrics {
  readonly registry: Registry;
  jobFinished(labels: { credential: string; kind: string; job: string; outcome: string }, seconds: number): void;
  sinkFailed(sink: string): void;
  /** A schedule tick missed while the process was alive (then caught up). */
  scheduleTickMissed(credential: string): void;
  /** A listing skipped a record that is not the credential's own and does not fit the documented shape. */
  recordSkipped(provider: string, kind: string): void;
  /** A validation worked, but the logout of the token it obtained failed. */
  logoutFailed(credential: string, kind: string): void;
}

export function createMetrics(readStatus: () => Promise<StatusView>): RotatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({ name: 'rotator_build_info', help: 'The running version; always 1', labelNames: ['version'], registers: [registry] }).set(
    { version: packageVersion() },
    1,
  );
  const jobs = new Counter({
    name: 'rotator_jobs_total',
    help: 'Jobs ended, by credential, kind, job name and outcome (rotated, not-due, validated, failed…)',
    labelNames: ['credential', 'kind', 'job_name', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'rotator_job_duration_seconds',
    help: 'How long a job ran, by kind and job name',
    labelNames: ['kind', 'job_name'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const ticksMissed = new Counter({
    name: 'rotator_schedule_ticks_missed_total',
    help: 'Schedule ticks missed while the worker was alive (event-loop stalls), each caught up',
    labelNames: ['credential'],
    registers: [registry],
  });
  const recordsSkipped = new Counter({
    name: 'rotator_provider_records_skipped_total',
    help: "Listed provider records skipped because they are not the credential's own and do not fit the documented shape, each time a listing skips one",
    labelNames: ['provider', 'kind'],
    registers: [registry],
  });
  const logoutFailures = new Counter({
    name: 'rotator_validation_logout_failures_total',
    help: 'Validations that worked whose logout of the token they obtained failed (the token lives until it expires)',
    labelNames: ['credential', 'kind'],
    registers: [registry],
  });
  const sinkFailures = new Counter({
    name: 'rotator_alert_sink_failures_total',
    help: 'Alerts a sink did not take after every retry',
    labelNames: ['sink'],
    registers: [registry],
  });

  // Gauges filled at scrape time from the status Redis holds.
  let view: Promise<StatusView> | undefined;
  const current = () => (view ??= readStatus().finally(() => setTimeout(() => (view = undefined), 1_000).unref()));
  /** A gauge per credential of a timestamp in the status, in seconds; credentials without one have no series. */
  const timestampGauge = (name: string, help: string, of: (c: StatusView['credentials'][number]) => string | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['credential', 'kind'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const c of (await current()).credentials) {
          const at = Date.parse(of(c) ?? '');
          if (!Number.isNaN(at)) this.set({ credential: c.id, kind: c.kind }, at / 1000);
        }
      },
    });
  timestampGauge(
    'rotator_credential_expiry_timestamp_seconds',
    'When the current credential expires at the provider (kinds whose credentials expire), seconds since the epoch',
    (c) => c.expiresAt,
  );
  timestampGauge(
    'rotator_credential_last_check_timestamp_seconds',
    'When the credential was last checked, whatever the result, seconds since the epoch',
    (c) => c.lastCheckAt,
  );
  timestampGauge(
    'rotator_credential_last_success_timestamp_seconds',
    'When a check of the credential last ended well, seconds since the epoch',
    (c) => c.lastSuccessAt,
  );
  new Gauge({
    name: 'rotator_credential_failing',
    help: "1 when the credential's last check failed",
    labelNames: ['credential', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of (await current()).credentials) this.set({ credential: c.id, kind: c.kind }, c.state === 'failing' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'rotator_credential_unrevoked',
    help: 'Replaced credentials still valid at the provider after their revoke (or with no revoke offered): revoke them by hand',
    labelNames: ['credential', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of (await current()).credentials) this.set({ credential: c.id, kind: c.kind }, c.unrevoked.length);
    },
  });
  new Gauge({
    name: 'rotator_queue_jobs',
    help: 'Jobs in the queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [state, count] of Object.entries((await current()).queue)) this.set({ state }, count);
    },
  });

  return {
    registry,
    jobFinished({ credential, kind, job, outcome }, seconds) {
      jobs.inc({ credential, kind, job_name: job, outcome });
      duration.observe({ kind, job_name: job }, seconds);
    },
    sinkFailed: (sink) => sinkFailures.inc({ sink }),
    scheduleTickMissed: (credential) => ticksMissed.inc({ credential }),
    recordSkipped: (provider, kind) => recordsSkipped.inc({ provider, kind }),
    logoutFailed: (credential, kind) => logoutFailures.inc({ credential, kind }),
  };
}
