import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StatusView } from '../status/collect.ts';

/**
 * The worker's Prometheus metrics. Counters and histograms are updated as jobs end; the
 * per-credential gauges and queue depths are read from Redis at scrape time, so every replica
 * reports the fleet's view of them.
 */
export interface RotatorMetrics {
  readonly registry: Registry;
  jobFinished(labels: { credential: string; kind: string; job: string; outcome: string }, seconds: number): void;
  sinkFailed(sink: string): void;
  /** A schedule tick missed while the process was alive (then caught up). */
  scheduleTickMissed(credential: string): void;
}

export function createMetrics(readStatus: () => Promise<StatusView>): RotatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rotator_' });
  const jobs = new Counter({
    name: 'rotator_jobs_total',
    help: 'Jobs ended, by credential, kind, job and outcome (rotated, not-due, validated, failed…)',
    labelNames: ['credential', 'kind', 'job', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'rotator_job_duration_seconds',
    help: 'How long a job ran, by kind and job',
    labelNames: ['kind', 'job'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const ticksMissed = new Counter({
    name: 'rotator_schedule_ticks_missed_total',
    help: 'Schedule ticks missed while the worker was alive (event-loop stalls), each caught up',
    labelNames: ['credential'],
    registers: [registry],
  });
  const sinkFailures = new Counter({ name: 'rotator_alert_sink_failures_total', help: 'Alerts a sink did not take after every retry', labelNames: ['sink'], registers: [registry] });

  // Gauges filled at scrape time from the status Redis holds.
  let view: Promise<StatusView> | undefined;
  const current = () => (view ??= readStatus().finally(() => setTimeout(() => (view = undefined), 1_000).unref()));
  new Gauge({
    name: 'rotator_credential_days_to_expiry',
    help: 'Days until the current credential expires at the provider (Credly tokens)',
    labelNames: ['credential', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of (await current()).credentials) if (c.daysToExpiry !== null) this.set({ credential: c.id, kind: c.kind }, c.daysToExpiry);
    },
  });
  new Gauge({
    name: 'rotator_credential_last_check_timestamp_seconds',
    help: 'When the credential was last checked, by whether that check was good',
    labelNames: ['credential', 'kind', 'ok'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of (await current()).credentials) {
        if (c.lastCheckAt) this.set({ credential: c.id, kind: c.kind, ok: String(c.state === 'ok') }, Date.parse(c.lastCheckAt) / 1000);
      }
    },
  });
  new Gauge({
    name: 'rotator_credential_failing',
    help: '1 when the credential\'s last check failed',
    labelNames: ['credential', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of (await current()).credentials) this.set({ credential: c.id, kind: c.kind }, c.state === 'failing' ? 1 : 0);
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
    jobFinished(labels, seconds) {
      jobs.inc(labels);
      duration.observe({ kind: labels.kind, job: labels.job }, seconds);
    },
    sinkFailed: (sink) => sinkFailures.inc({ sink }),
    scheduleTickMissed: (credential) => ticksMissed.inc({ credential }),
  };
}
