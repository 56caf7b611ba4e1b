import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { packageVersion } from '../build-info.ts';
import type { RadarReport } from '../kinds/registry.ts';
import type { StatusView } from '../status/collect.ts';

/**
 * The worker's Prometheus metrics, by Prometheus's conventions: base units (timestamps in seconds
 * since the epoch, so alerts compare them with `time()`), no label named `job` (Prometheus owns it:
 * the scrape job), the process and Node.js metrics under their standard names for stock dashboards,
 * and `rotator_build_info{version}`. Counters and histograms are updated as jobs end.
 *
 * The per-credential gauges and queue depths are the fleet's view, read from Redis — but never
 * waited on longer than `waitMs` (500 ms): a scrape starts a read (one at a time, at most one per
 * `refreshMs`), waits that long at most, and shows the last read that succeeded. So `/metrics`
 * answers within a second whatever Redis does, with `rotator_redis_up` (0 while the connection is
 * down, the last read failed, or a read has waited longer than `staleMs`) and
 * `rotator_status_read_timestamp_seconds` (when the series shown were read).
 */
export interface RotatorMetrics {
  readonly registry: Registry;
  /** Where the per-credential series come from, once the worker has its Redis connection. */
  readStatusFrom(source: StatusSource): void;
  jobFinished(labels: { credential: string; kind: string; job: string; outcome: string }, seconds: number): void;
  sinkFailed(sink: string): void;
  /** A schedule tick missed while the process was alive (then caught up). */
  scheduleTickMissed(credential: string): void;
  /** A listing skipped a record that is not the credential's own and does not fit the documented shape. */
  recordSkipped(provider: string, kind: string): void;
  /** A validation worked, but the logout of the token it obtained failed. */
  logoutFailed(credential: string, kind: string): void;
  /**
   * Every counter series the inventory makes known, at 0, so that the first failure is an increase
   * `increase()` and `rate()` can see (a series born at 1 shows none).
   */
  known(labels: KnownLabels): void;
  /** One attempt of a provider call: its status as a string (`no-answer` when nothing answered) and duration. */
  providerAttempt(record: { provider: string; operation: string; status: string; seconds: number }): void;
  /** A wait for a provider organization's rate limit before a call. */
  providerRateLimitWait(provider: string, seconds: number): void;
  /** One Secrets Manager call (its retries included): `ok`, or the exception's name. */
  secretsManagerCall(operation: string, outcome: string, seconds: number): void;
  /** An event to consumers delivered to a receiver, or given up on after every attempt. */
  eventDelivery(receiver: string, outcome: 'delivered' | 'failed'): void;
  /** The expiry radar's last run (src/radar/): every listed token's expiry, each organization listed or not. */
  radar(report: RadarReport): void;
}

/** The label sets the inventory makes known before any job ends. */
export interface KnownLabels {
  credentials: ReadonlyArray<{ credential: string; kind: string; provider: string; mode: 'rotate' | 'validate' }>;
  sinks: readonly string[];
  /** Event receivers (`events:`); default none. */
  receivers?: readonly string[];
}

/** The outcomes a job of each mode ends with when nothing goes wrong, and its failure. */
const KNOWN_OUTCOMES = {
  rotate: [
    ['check-credential', ['rotated', 'not-due', 'failed']],
    ['revoke-previous', ['revoke-handled', 'failed']],
  ],
  validate: [['check-credential', ['validated', 'failed']]],
} as const satisfies Record<'rotate' | 'validate', ReadonlyArray<readonly [string, readonly string[]]>>;

export interface StatusSource {
  read(): Promise<StatusView>;
  /** Whether the connection the read goes through is up now: when it is not, no scrape waits for the read. Default: always. */
  connected?(): boolean;
}

export interface MetricsOptions {
  /** How long a scrape waits for a status read, in ms. Default 500. */
  waitMs?: number;
  /** A scrape within this many ms of the last read's start shows that read. Default 1000. */
  refreshMs?: number;
  /** A read pending longer than this many ms makes `rotator_redis_up` 0. Default 5000. */
  staleMs?: number;
  now?: () => number;
}

export function createMetrics(initial?: StatusSource | (() => Promise<StatusView>), options: MetricsOptions = {}): RotatorMetrics {
  const waitMs = options.waitMs ?? 500;
  const refreshMs = options.refreshMs ?? 1_000;
  const staleMs = options.staleMs ?? 5_000;
  const now = options.now ?? Date.now;
  let source: StatusSource | undefined = typeof initial === 'function' ? { read: initial } : initial;
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

  const providerRequests = new Counter({
    name: 'rotator_provider_requests_total',
    help: 'Provider HTTP attempts by provider, operation (list-tokens, create-token, token…) and status: the HTTP status, or no-answer (refused, reset, timed out)',
    labelNames: ['provider', 'operation', 'status'],
    registers: [registry],
  });
  const providerDuration = new Histogram({
    name: 'rotator_provider_request_duration_seconds',
    help: 'How long each provider HTTP attempt took, by provider and operation',
    labelNames: ['provider', 'operation'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers: [registry],
  });
  const rateLimitWait = new Histogram({
    name: 'rotator_provider_rate_limit_wait_seconds',
    help: "How long provider calls waited for their organization's rate limit (ROTATOR_CREDLY_RATE_LIMIT), by provider",
    labelNames: ['provider'],
    buckets: [0.001, 0.01, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const smRequests = new Counter({
    name: 'rotator_secrets_manager_requests_total',
    help: "Secrets Manager calls (retries included) by operation and outcome: ok, or the exception's name (AccessDeniedException, ThrottlingException…)",
    labelNames: ['operation', 'outcome'],
    registers: [registry],
  });
  const smDuration = new Histogram({
    name: 'rotator_secrets_manager_request_duration_seconds',
    help: 'How long each Secrets Manager call took, retries included, by operation',
    labelNames: ['operation'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const eventDeliveries = new Counter({
    name: 'rotator_event_deliveries_total',
    help: 'Events to consumers (credential.rotated, credential.revoked) by receiver: delivered (answered 2xx), or failed after every attempt',
    labelNames: ['receiver', 'outcome'],
    registers: [registry],
  });
  // The radar's series are replaced as a whole by each run: a token gone from the listing has no series.
  const radarExpiry = new Gauge({
    name: 'rotator_radar_token_expiry_timestamp_seconds',
    help: 'When each authorization token of a Credly organization the inventory reaches expires, seconds since the epoch; managed="false" for a token no credential of the inventory manages (the radar, latest run)',
    labelNames: ['organization_id', 'token_id', 'managed'],
    registers: [registry],
  });
  const radarListed = new Gauge({
    name: 'rotator_radar_organization_listed',
    help: "1 when the radar's latest run listed the organization's tokens, 0 when it could not (nothing is known of its tokens then)",
    labelNames: ['organization_id'],
    registers: [registry],
  });
  const radarRun = new Gauge({
    name: 'rotator_radar_last_run_timestamp_seconds',
    help: "When the radar's latest run began, seconds since the epoch (no series before the first)",
    registers: [registry],
  });

  // The last status read that succeeded, and the read in flight (one at a time).
  let last: { view: StatusView; at: number } | undefined;
  let lastFailed = false;
  let inflight: { promise: Promise<void>; since: number } | undefined;
  let startedAt = -Infinity;
  const connected = () => source !== undefined && (source.connected?.() ?? true);
  const refresh = (): Promise<void> | undefined => {
    if (!source) return undefined;
    if (inflight) return inflight.promise;
    if (now() - startedAt < refreshMs) return undefined;
    startedAt = now();
    const promise = source.read().then(
      (view) => {
        last = { view, at: now() };
        lastFailed = false;
      },
      () => {
        lastFailed = true;
      },
    );
    inflight = { promise: promise.finally(() => (inflight = undefined)), since: startedAt };
    return inflight.promise;
  };
  /** The view to show: a fresh read when Redis gives it within `waitMs`, else the last one (none before the first). */
  const current = async (): Promise<StatusView | undefined> => {
    const pending = refresh();
    if (pending && connected()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([pending, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    }
    return last?.view;
  };
  const redisUp = () => connected() && !lastFailed && last !== undefined && !(inflight && now() - inflight.since > staleMs);
  new Gauge({
    name: 'rotator_redis_up',
    help: "1 when the worker's Redis connection is up and its last read of the status succeeded; 0 otherwise (the per-credential series are then the last read's)",
    registers: [registry],
    async collect() {
      await current();
      this.set(redisUp() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'rotator_status_read_timestamp_seconds',
    help: 'When the per-credential series and queue depths shown were read from Redis, seconds since the epoch (no series before the first read)',
    registers: [registry],
    async collect() {
      this.reset();
      await current();
      if (last) this.set(last.at / 1000);
    },
  });
  /** The credentials of the view to show (none before the first read). */
  const credentials = async () => (await current())?.credentials ?? [];
  /** A gauge per credential of a timestamp in the status, in seconds; credentials without one have no series. */
  const timestampGauge = (name: string, help: string, of: (c: StatusView['credentials'][number]) => string | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['credential', 'kind'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const c of await credentials()) {
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
      for (const c of await credentials()) this.set({ credential: c.id, kind: c.kind }, c.state === 'failing' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'rotator_credential_unrevoked',
    help: 'Replaced credentials still valid at the provider after their revoke (or with no revoke offered): revoke them by hand',
    labelNames: ['credential', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await credentials()) this.set({ credential: c.id, kind: c.kind }, c.unrevoked.length);
    },
  });
  new Gauge({
    name: 'rotator_queue_jobs',
    help: 'Jobs in the queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [state, count] of Object.entries((await current())?.queue ?? {})) this.set({ state }, count);
    },
  });

  return {
    registry,
    readStatusFrom(next) {
      source = next;
      startedAt = -Infinity;
    },
    jobFinished({ credential, kind, job, outcome }, seconds) {
      jobs.inc({ credential, kind, job_name: job, outcome });
      duration.observe({ kind, job_name: job }, seconds);
    },
    sinkFailed: (sink) => sinkFailures.inc({ sink }),
    scheduleTickMissed: (credential) => ticksMissed.inc({ credential }),
    recordSkipped: (provider, kind) => recordsSkipped.inc({ provider, kind }),
    logoutFailed: (credential, kind) => logoutFailures.inc({ credential, kind }),
    eventDelivery: (receiver, outcome) => eventDeliveries.inc({ receiver, outcome }),
    providerAttempt({ provider, operation, status, seconds }) {
      providerRequests.inc({ provider, operation, status });
      providerDuration.observe({ provider, operation }, seconds);
    },
    providerRateLimitWait: (provider, seconds) => rateLimitWait.observe({ provider }, seconds),
    secretsManagerCall(operation, outcome, seconds) {
      smRequests.inc({ operation, outcome });
      smDuration.observe({ operation }, seconds);
    },
    known({ credentials, sinks, receivers = [] }) {
      for (const { credential, kind, provider, mode } of credentials) {
        for (const [job, outcomes] of KNOWN_OUTCOMES[mode]) for (const outcome of outcomes) jobs.inc({ credential, kind, job_name: job, outcome }, 0);
        ticksMissed.inc({ credential }, 0);
        // Only listings skip records (the rotated kinds); only validations log out.
        if (mode === 'rotate') recordsSkipped.inc({ provider: provider.toLowerCase(), kind }, 0);
        else logoutFailures.inc({ credential, kind }, 0);
      }
      for (const sink of sinks) sinkFailures.inc({ sink }, 0);
      for (const receiver of receivers) for (const outcome of ['delivered', 'failed']) eventDeliveries.inc({ receiver, outcome }, 0);
    },
    radar(report) {
      radarExpiry.reset();
      radarListed.reset();
      for (const org of report.organizations) {
        radarListed.set({ organization_id: org.organizationId }, org.tokens === null ? 0 : 1);
        for (const token of org.tokens ?? []) {
          const labels = { organization_id: org.organizationId, token_id: token.id, managed: token.managedBy === null ? 'false' : 'true' };
          radarExpiry.set(labels, Date.parse(token.expiresAt) / 1000);
        }
      }
      radarRun.set(Date.parse(report.at) / 1000);
    },
  };
}
