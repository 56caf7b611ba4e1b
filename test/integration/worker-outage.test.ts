import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type ManagedProcess } from '../../scripts/local-services.ts';
import { EXIT_BOUND_AFTER_GRACE_MS } from '../../src/cli/worker.command.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { CONNECTION_ERROR_INTERVAL_MS } from '../../src/log/connection-errors.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { degreedClient, logLines, runId, useScenarios } from '../support/scenario.ts';
import type { RotatorProcess } from '../support/worker-process.ts';

// The worker in its own process through outages: its own Redis (stopped here), Secrets Manager
// behind the fault proxy, the Degreed fake taking faults.
const hosts = useFakeHosts({ degreed: {}, sm: true });
const scenarios = useScenarios('outage');
let redis: ManagedProcess;
// Registered after the scenarios: this Redis stops before their folder, which holds its files, goes.
afterAll(async () => {
  await redis.stop();
});
beforeAll(async () => {
  redis = await startRedis(mkdtempSync(join(scenarios.dir, 'redis-')));
});

const GRACE_MS = 2_000;

/** GET `url`, with how long the answer took in ms. */
async function timed(url: string): Promise<{ ms: number; status: number; text: string }> {
  const started = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { ms: performance.now() - started, status: res.status, text };
}

/** The value of one series of a Prometheus text page, or undefined when it has none. */
function sample(page: string, series: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** What the test reads of /status.json. */
interface StatusJson {
  generatedAt: string;
  redis: string;
  readAt: string;
  credentials: Array<{ id: string; state: string; lastCheckAt: string | null }>;
}

/** Sends SIGTERM; resolves with the exit and the milliseconds it took. */
async function terminate(worker: RotatorProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = performance.now();
  worker.child.kill('SIGTERM');
  const exit = await worker.exited;
  return { ...exit, ms: performance.now() - started };
}

/** Every line the process wrote that is not one JSON object. */
function notJson(worker: RotatorProcess): string[] {
  return worker.lines.filter((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed !== 'object' || parsed === null || Array.isArray(parsed);
    } catch {
      return true;
    }
  });
}

function scenario(env: Record<string, string> = {}) {
  const credential = degreedClient(hosts.degreed, { id: `degreed-${runId()}`, secretId: `test/outage/${runId()}` });
  return {
    credential,
    build: () => scenarios.build({ credentials: [credential], env: { ROTATOR_SHUTDOWN_GRACE: `${GRACE_MS / 1000}s`, LOG_LEVEL: 'debug', ...env } }),
  };
}

describe('the worker through a Redis outage (its own redis-server, stopped)', () => {
  it('keeps /metrics under a second with the last values and rotator_redis_up 0, logs JSON only, rate-limits connection errors, and stops within the grace', async () => {
    const { credential, build } = scenario({ REDIS_URL: `redis://127.0.0.1:${redis.port}` });
    const t = await build();
    const worker = await t.startWorker();
    const base = `http://127.0.0.1:${await worker.port()}`;
    const trigger = await t.command(['trigger', credential.id, '--wait']);
    expect(trigger.code, trigger.output).toBe(0);

    const labels = `{credential="${credential.id}",kind="degreed-client-credentials"}`;
    const before = await timed(`${base}/metrics`);
    expect(sample(before.text, 'rotator_redis_up')).toBe(1);
    const checkedAt = sample(before.text, `rotator_credential_last_check_timestamp_seconds${labels}`);
    expect(checkedAt).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(sample(before.text, `rotator_credential_failing${labels}`)).toBe(0);
    const statusBefore = JSON.parse((await timed(`${base}/status.json`)).text) as StatusJson;
    expect(statusBefore).toMatchObject({ redis: 'reachable', readAt: statusBefore.generatedAt });
    const checked = statusBefore.credentials.find((c) => c.id === credential.id);
    expect(checked).toMatchObject({ state: 'ok', lastCheckAt: expect.any(String) });

    await redis.stop();
    const stoppedAt = Date.now() / 1000;
    // The connection notices at once: the first scrape after it may still show 1 only while it has not.
    await expect.poll(async () => sample((await timed(`${base}/metrics`)).text, 'rotator_redis_up'), { timeout: 10_000, interval: 200 }).toBe(0);
    for (let i = 0; i < 5; i += 1) {
      const scrape = await timed(`${base}/metrics`);
      expect(scrape.status).toBe(200);
      expect(scrape.ms).toBeLessThan(1_000);
      expect(scrape.text).toMatch(/^process_cpu_seconds_total \d/m);
      expect(scrape.text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
      expect(sample(scrape.text, 'rotator_redis_up')).toBe(0);
      // The per-credential series are the last read's, and say when that was.
      expect(sample(scrape.text, `rotator_credential_last_check_timestamp_seconds${labels}`)).toBe(checkedAt);
      expect(sample(scrape.text, `rotator_credential_failing${labels}`)).toBe(0);
      expect(sample(scrape.text, 'rotator_status_read_timestamp_seconds')).toBeLessThanOrEqual(stoppedAt + 1);
    }
    // The status page: the last view read, said to be stale and when it was read, never an error.
    for (let i = 0; i < 3; i += 1) {
      const json = await timed(`${base}/status.json`);
      expect(json.status).toBe(200);
      expect(json.ms).toBeLessThan(1_000);
      const view = JSON.parse(json.text) as StatusJson;
      expect(view).toMatchObject({ redis: 'unreachable', readAt: view.generatedAt });
      expect(Date.parse(view.readAt)).toBeLessThanOrEqual((stoppedAt + 1) * 1000);
      expect(view.credentials.find((c) => c.id === credential.id)).toEqual(checked);
      const page = await timed(`${base}/status`);
      expect(page.status).toBe(200);
      expect(page.ms).toBeLessThan(1_000);
      expect(page.text).toContain(`Redis unreachable: these are the values read at ${view.readAt}`);
      expect(page.text).toContain(`data-credential="${credential.id}"`);
    }
    // Health says the process lives; readiness names the state, never an error's text.
    expect((await timed(`${base}/healthz`)).status).toBe(200);
    const ready = await timed(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toEqual({ status: 'not ready', configuration: 'loaded', redis: 'unreachable' });

    // Reconnect attempts fail several times a second: each source writes one line, then at most one
    // per interval, carrying the count it held back.
    await worker.waitForLog('redis: connection error');
    await expect
      .poll(() => logLines(worker).some((l) => l.msg === 'redis: connection error' && Number(l.suppressed) > 0), {
        timeout: CONNECTION_ERROR_INTERVAL_MS + 5_000,
        interval: 250,
      })
      .toBe(true);
    const errors = logLines(worker).filter((l) => l.msg === 'redis: connection error');
    const bySource = new Map<string, typeof errors>();
    for (const line of errors) bySource.set(String(line.source), [...(bySource.get(String(line.source)) ?? []), line]);
    expect([...bySource.keys()]).toContain('redis');
    for (const [source, lines] of bySource) {
      const times = lines.map((l) => Date.parse(String(l.time)));
      for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!, source).toBeGreaterThanOrEqual(CONNECTION_ERROR_INTERVAL_MS - 50);
    }

    const exit = await terminate(worker);
    expect(exit, worker.output()).toMatchObject({ code: EXIT.ok, signal: null });
    expect(exit.ms).toBeLessThan(GRACE_MS + EXIT_BOUND_AFTER_GRACE_MS);
    expect(worker.output()).toContain('"msg":"worker: stopped"');
    expect(notJson(worker)).toEqual([]);
    expect(worker.output()).not.toContain(credential.client.clientSecret);
    await redis.restart();
  }, 60_000);

  it('a job running when Redis stops: SIGTERM abandons it within the grace, exit 4', async () => {
    const { credential, build } = scenario({ REDIS_URL: `redis://127.0.0.1:${redis.port}` });
    const t = await build();
    const worker = await t.startWorker();
    // The provider holds the job's request, so the job is still running when Redis goes.
    hosts.degreed.faults.add({ match: { server: 'token' }, times: 10, fault: { kind: 'hang', ms: 60_000 } });
    const seen = hosts.degreed.requests.length;
    const trigger = await t.command(['trigger', credential.id]);
    expect(trigger.code, trigger.output).toBe(0);
    await expect.poll(() => hosts.degreed.requests.slice(seen).some((r) => r.server === 'token'), { timeout: 10_000, interval: 50 }).toBe(true);
    await redis.stop();
    await worker.waitForLog('redis: connection error');
    const exit = await terminate(worker);
    expect(exit, worker.output()).toMatchObject({ code: EXIT.abandoned, signal: null });
    expect(exit.ms).toBeLessThan(GRACE_MS + EXIT_BOUND_AFTER_GRACE_MS);
    expect(logLines(worker).find((l) => l.msg === 'worker: stopped')).toMatchObject({ clean: false });
    expect(notJson(worker)).toEqual([]);
    await redis.restart();
  }, 30_000);

  it('starts while Redis is down: alive, scraped (process metrics, rotator_redis_up 0), and stopped by SIGTERM', async () => {
    const { build } = scenario();
    const t = await build();
    await redis.stop();
    const worker = t.spawn(['worker'], { REDIS_URL: `redis://127.0.0.1:${redis.port}` });
    const port = Number((await worker.waitForLog('ops: listening')).port);
    await worker.waitForLog('redis: connection error');
    const scrape = await timed(`http://127.0.0.1:${port}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.ms).toBeLessThan(1_000);
    expect(scrape.text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(sample(scrape.text, 'rotator_redis_up')).toBe(0);
    expect(scrape.text).not.toMatch(/^rotator_credential_/m);
    const exit = await terminate(worker);
    expect(exit, worker.output()).toMatchObject({ code: EXIT.ok, signal: null });
    expect(exit.ms).toBeLessThan(GRACE_MS + EXIT_BOUND_AFTER_GRACE_MS);
    expect(notJson(worker)).toEqual([]);
    await redis.restart();
  }, 30_000);
});

describe('a stop while a job waits on a hung dependency (the suite’s Redis)', () => {
  it('a Secrets Manager call hanging: exits within the grace with the abandoned-jobs code', async () => {
    const { credential, build } = scenario({ AWS_ENDPOINT_URL_SECRETS_MANAGER: hosts.sm.url });
    const t = await build();
    const worker = await t.startWorker();
    hosts.sm.add({ operation: 'GetSecretValue', times: 10, fault: { kind: 'hang' } });
    const asked = hosts.sm.waitFor('GetSecretValue');
    const { queue } = await t.queue();
    await queue.add('check-credential', { credentialId: credential.id, trigger: 'manual' });
    await asked;
    const exit = await terminate(worker);
    expect(exit, worker.output()).toMatchObject({ code: EXIT.abandoned, signal: null });
    expect(exit.ms).toBeGreaterThanOrEqual(GRACE_MS - 100);
    expect(exit.ms).toBeLessThan(GRACE_MS + EXIT_BOUND_AFTER_GRACE_MS);
    expect(logLines(worker).find((l) => l.msg === 'worker: grace period over, leaving the active jobs (taken up again once their locks expire)')).toMatchObject(
      {
        active: 1,
      },
    );
    expect(logLines(worker).find((l) => l.msg === 'worker: stopped')).toMatchObject({ clean: false });
    expect(notJson(worker)).toEqual([]);
  }, 30_000);

  it('a provider hanging: exits within the grace with the abandoned-jobs code', async () => {
    const { credential, build } = scenario();
    const t = await build();
    const worker = await t.startWorker();
    hosts.degreed.faults.add({ match: { server: 'token' }, times: 10, fault: { kind: 'hang', ms: 60_000 } });
    const seen = hosts.degreed.requests.length;
    const { queue } = await t.queue();
    await queue.add('check-credential', { credentialId: credential.id, trigger: 'manual' });
    await expect.poll(() => hosts.degreed.requests.slice(seen).some((r) => r.server === 'token'), { timeout: 10_000, interval: 50 }).toBe(true);
    const exit = await terminate(worker);
    expect(exit, worker.output()).toMatchObject({ code: EXIT.abandoned, signal: null });
    expect(exit.ms).toBeLessThan(GRACE_MS + EXIT_BOUND_AFTER_GRACE_MS);
    expect(logLines(worker).find((l) => l.msg === 'worker: stopped')).toMatchObject({ clean: false });
    expect(notJson(worker)).toEqual([]);
    expect(worker.output()).not.toContain(credential.client.clientSecret);
  }, 30_000);
});
