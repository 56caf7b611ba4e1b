import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { webhookSignature } from '../../src/alerts/sinks.ts';
import { alertsYaml } from '../support/alert-receiver.ts';
import { freePort } from '../../scripts/local-services.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, DAY, store, useScenarios } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, alerts: true }, { clearAfterEach: false });
const scenarios = useScenarios('alerts');

const HOOK_SECRET = `hook-signing-${randomUUID()}`;
const PD_KEY = `pd-routing-${randomUUID()}`;

async function setup(options: { ageDays: number; writeEnabled?: boolean; deadSink?: boolean }) {
  const c = credlyToken(hosts.credly, {
    folder: 'alerts',
    ageDays: options.ageDays,
    ...(options.writeEnabled === false ? { writeEnabled: false as const } : {}),
  });
  const deadPort = await freePort();
  const deadUrl = options.deadSink ? `http://127.0.0.1:${deadPort}/gone` : undefined;
  const t = await scenarios.build({
    credentials: [c],
    more: alertsYaml(hosts.alerts.url, ['slack', 'pagerduty', 'webhook'], deadUrl),
    env: {
      ROTATOR_LOCK_DURATION: '5s',
      ROTATOR_JOB_ATTEMPTS: '2',
      ROTATOR_JOB_BACKOFF: '200ms',
      TEST_SLACK_URL: `${hosts.alerts.url}/slack`,
      TEST_PD_KEY: PD_KEY,
      TEST_HOOK_SECRET: HOOK_SECRET,
    },
  });
  return { id: c.id, org: c.org, token: c.token, secretId: c.secretId, spawn: (args: string[], env?: Record<string, string>) => t.spawn(args, env) };
}

const forCredential = (id: string, path: string) =>
  hosts.alerts.on(path).filter((r) => r.body.includes(`"${id}"`) || r.body.includes(`credential ${id} `) || r.body.includes(`credential-rotator/${id}`));

describe('alerts (a local receiver plays Slack, PagerDuty and a signed webhook)', () => {
  it('sends exactly one alert per sink for a job that fails for good, and resolves when the credential next succeeds', async () => {
    const t = await setup({ ageDays: 170, deadSink: true });
    const worker = t.spawn(['worker']);
    await worker.waitForLog('worker: started');
    hosts.credly.state.killToken(t.token.id);

    const failing = t.spawn(['trigger', t.id, '--wait']);
    expect((await failing.exited).code).toBe(1);
    await expect.poll(() => forCredential(t.id, '/webhook').length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => forCredential(t.id, '/slack').length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => forCredential(t.id, '/pagerduty').length, { timeout: 10_000 }).toBe(1);

    const [hook] = forCredential(t.id, '/webhook');
    const timestamp = String(hook!.headers['x-rotator-timestamp']);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    expect(hook!.headers['x-rotator-signature']).toBe(`sha256=${webhookSignature(HOOK_SECRET, timestamp, hook!.body)}`);
    expect(hook!.json).toMatchObject({
      type: 'failure',
      credentialId: t.id,
      kind: 'credly-authorization-token',
      step: 'inspect',
      errorClass: 'RotationStepError',
      attempts: 1,
      critical: false,
    });
    expect(hook!.json).not.toHaveProperty('daysToExpiry');
    expect(String(hook!.json.message)).toContain('refused by Credly (401)');
    const [page] = forCredential(t.id, '/pagerduty');
    expect(page!.json).toMatchObject({
      routing_key: PD_KEY,
      event_action: 'trigger',
      dedup_key: `credential-rotator/${t.id}`,
      payload: { severity: 'error', source: 'credential-rotator' },
    });
    expect(String(forCredential(t.id, '/slack')[0]!.json.text)).toContain(`credential ${t.id} (credly-authorization-token) failed at inspect`);
    // Status says so too (recorded before the alert went out).
    const status = t.spawn(['status', t.id, '--json']);
    expect((await status.exited).code).toBe(0);
    const view = JSON.parse(status.output()) as { credentials: Array<{ state: string; lastResult: string; lastSummary: string }> };
    expect(view.credentials[0]).toMatchObject({ state: 'failing', lastResult: 'failed' });
    expect(view.credentials[0]!.lastSummary).toContain('refused by Credly (401)');

    // Someone puts a working token into the secret: the next success resolves the incident, once.
    const fresh = hosts.credly.state.addToken(t.org, { createdAt: new Date(Date.now() - 10 * DAY) });
    await store.putCurrent(t.secretId, JSON.stringify({ token: fresh.token, tokenId: fresh.id }));
    const ok = t.spawn(['trigger', t.id, '--wait']);
    expect((await ok.exited).code).toBe(0);
    await expect.poll(() => forCredential(t.id, '/pagerduty').length, { timeout: 10_000 }).toBe(2);
    expect(forCredential(t.id, '/pagerduty')[1]!.json).toEqual({ routing_key: PD_KEY, event_action: 'resolve', dedup_key: `credential-rotator/${t.id}` });
    await expect.poll(() => forCredential(t.id, '/webhook').map((r) => r.json.type), { timeout: 10_000 }).toEqual(['failure', 'resolved']);
    // Another success resolves nothing more.
    const again = t.spawn(['trigger', t.id, '--wait']);
    expect((await again.exited).code).toBe(0);
    expect(forCredential(t.id, '/pagerduty')).toHaveLength(2);

    // The dead sink was retried and logged; the worker carried on.
    await expect.poll(() => worker.output(), { timeout: 10_000 }).toContain('alert: sink failed; giving up on this alert');
    expect(worker.child.exitCode).toBeNull();
    for (const value of [t.token.token, fresh.token]) {
      expect(hosts.alerts.received.some((r) => r.body.includes(value))).toBe(false);
      expect(worker.output().includes(value)).toBe(false);
    }
    expect(worker.output().includes(HOOK_SECRET) || worker.output().includes(PD_KEY)).toBe(false);
  });

  it('marks a failed rotation of a token inside its critical window as critical', async () => {
    const t = await setup({ ageDays: 175, writeEnabled: false });
    const worker = t.spawn(['worker']);
    await worker.waitForLog('worker: started');
    const failing = t.spawn(['trigger', t.id, '--wait']);
    expect((await failing.exited).code).toBe(1);
    await expect.poll(() => forCredential(t.id, '/pagerduty').length, { timeout: 10_000 }).toBe(1);
    const [page] = forCredential(t.id, '/pagerduty');
    expect(page!.json).toMatchObject({ payload: { severity: 'critical', custom_details: { critical: true, daysToExpiry: 4, step: 'create' } } });
    expect(String((page!.json.payload as { summary: string }).summary)).toMatch(/^CRITICAL: credential .* failed at create; expires in 4 day\(s\)/);
  });

  it('refuses to start when a sink secret is missing, naming the sink and the variable', async () => {
    const t = await setup({ ageDays: 10 });
    const worker = t.spawn(['worker'], { TEST_SLACK_URL: '' });
    const exit = await worker.exited;
    expect(exit.code).toBe(2);
    // Every line the worker writes is one JSON object, the refusal among them.
    const messages = worker
      .output()
      .split('\n')
      .filter(Boolean)
      .map((line) => String((JSON.parse(line) as { msg?: unknown }).msg));
    expect(messages.some((m) => m.includes('alert sink "slack": environment variable TEST_SLACK_URL is not set'))).toBe(true);
  });
});
