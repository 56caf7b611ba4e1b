import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type ManagedProcess } from '../../scripts/local-services.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, useScenarios, type WorkerProcess } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {} }, { clearAfterEach: false });
const scenarios = useScenarios('ops');
let redis: ManagedProcess;
// Registered after the scenarios: after-hooks run last-registered first, so this Redis stops before their folder, which holds its files, goes.
afterAll(async () => {
  await redis.stop();
});

beforeAll(async () => {
  // A Redis of this file's own, so the test can stop it and watch readiness fall.
  redis = await startRedis(mkdtempSync(join(scenarios.dir, 'redis-')));
});

describe('ops server (the worker in its own process)', () => {
  it('serves health, readiness, metrics and the status page; readiness follows Redis', async () => {
    const c = credlyToken(hosts.credly, { folder: 'ops', ageDays: 170 });
    const { org, token } = c;
    const password = `dash-${randomUUID()}`;
    const t = await scenarios.build({
      credentials: [c],
      env: { REDIS_URL: `redis://127.0.0.1:${redis.port}`, ROTATOR_DASHBOARD: 'on', ROTATOR_DASHBOARD_USER: 'ops', ROTATOR_DASHBOARD_PASSWORD: password },
      workers: 1,
    });
    const [worker] = t.workers as [WorkerProcess];
    const port = await worker.port();
    const base = `http://127.0.0.1:${port}`;

    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', configuration: 'loaded', redis: 'reachable' });

    // Before any job ended: the counters the inventory makes known are there at 0, so the first
    // failure is an increase Prometheus sees.
    const before = await (await fetch(`${base}/metrics`)).text();
    const known = `credential="${c.id}",kind="credly-authorization-token"`;
    expect(before).toContain(`rotator_jobs_total{${known},job_name="check-credential",outcome="failed"} 0`);
    expect(before).toContain(`rotator_jobs_total{${known},job_name="check-credential",outcome="rotated"} 0`);
    expect(before).toContain(`rotator_jobs_total{${known},job_name="revoke-previous",outcome="failed"} 0`);
    expect(before).toContain(`rotator_schedule_ticks_missed_total{credential="${c.id}"} 0`);
    expect(before).toContain('rotator_provider_records_skipped_total{provider="credly",kind="credly-authorization-token"} 0');

    const trigger = t.spawn(['trigger', c.id, '--wait']);
    expect((await trigger.exited).code, trigger.output()).toBe(0);

    const [created] = hosts.credly.state.tokens(org).filter((t) => t.id !== token.id);
    const labels = `credential="${c.id}",kind="credly-authorization-token"`;
    // The per-credential series come from a status read at most once a second: a scrape within a
    // second of the one before shows that one's read, so the next read is waited for.
    let metrics = '';
    await expect
      .poll(
        async () => {
          metrics = await (await fetch(`${base}/metrics`)).text();
          return metrics.includes(`rotator_credential_expiry_timestamp_seconds{${labels}} ${created!.expiresAt.getTime() / 1000}`);
        },
        { timeout: 5_000 },
      )
      .toBe(true);
    expect(metrics).toContain(`rotator_jobs_total{${labels},job_name="check-credential",outcome="rotated"} 1`);
    // Base units: the new token's expiry and the checks as timestamps in seconds, for alerts on time().
    expect(metrics).toContain(`rotator_credential_expiry_timestamp_seconds{${labels}} ${created!.expiresAt.getTime() / 1000}`);
    const sample = (name: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    const checked = sample('rotator_credential_last_check_timestamp_seconds');
    expect(Math.abs(checked - Date.now() / 1000)).toBeLessThan(60);
    expect(sample('rotator_credential_last_success_timestamp_seconds')).toBe(checked);
    expect(metrics).not.toContain('days_to_expiry');
    expect(metrics).toContain(`rotator_credential_failing{${labels}} 0`);
    expect(metrics).toMatch(/rotator_job_duration_seconds_count\{kind="credly-authorization-token",job_name="check-credential"\} 1/);
    expect(metrics).toContain('rotator_queue_jobs{state="failed"} 0');
    // No label of the product's own is named `job`: that one is Prometheus's (the scrape job).
    const series = metrics.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(series.filter((l) => /[{,]job="/.test(l))).toEqual([]);
    // Standard process and Node.js metrics under their own names, as stock dashboards expect; build info.
    expect(metrics).toMatch(/^process_cpu_seconds_total \d/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d/m);
    expect(metrics).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(metrics).not.toContain('rotator_process_');
    expect(metrics).not.toContain('rotator_nodejs_');
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(metrics).toContain(`rotator_build_info{version="${version}"} 1`);

    const page = await fetch(`${base}/status`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain(`<tr data-credential="${c.id}">`);
    expect(html).toContain('aria-valuenow="179"');
    expect(html).toContain(`expires ${created!.expiresAt.toISOString()}`);
    expect(html).toContain('<span class="state good">ok</span>');
    const json = (await (await fetch(`${base}/status.json`)).json()) as { credentials: Array<{ id: string; lastResult: string }> };
    expect(json.credentials).toEqual([expect.objectContaining({ id: c.id, lastResult: 'rotated' })]);
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    // The BullMQ dashboard: Basic auth, then bull-board's page and its API over our queue.
    expect((await fetch(`${base}/dashboard`)).status).toBe(401);
    expect((await fetch(`${base}/dashboard`, { headers: { authorization: `Basic ${Buffer.from('ops:wrong-password!').toString('base64')}` } })).status).toBe(
      401,
    );
    const auth = { authorization: `Basic ${Buffer.from(`ops:${password}`).toString('base64')}` };
    const dashboard = await fetch(`${base}/dashboard`, { headers: auth });
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain('<div id="root"');
    const queues = (await (await fetch(`${base}/dashboard/api/queues`, { headers: auth })).json()) as {
      queues: Array<{ name: string; readOnlyMode: boolean }>;
    };
    expect(queues.queues.map((q) => [q.name, q.readOnlyMode])).toEqual([['credentials', true]]);
    expect(worker.output()).not.toContain(password);
    for (const value of hosts.credly.state.tokens(org).map((t) => t.token)) {
      expect(metrics.includes(value) || html.includes(value) || JSON.stringify(json).includes(value)).toBe(false);
    }

    // Redis goes away: the process stays alive and says it is not ready until Redis is back.
    await redis.stop();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ redis: 'unreachable' });
    await redis.restart();
    await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 15_000, interval: 250 }).toBe(200);
  });
});
