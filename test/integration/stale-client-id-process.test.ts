import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alertsYaml } from '../support/alert-receiver.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyApplication, credlyToken, logLines, runId, useScenarios } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, sm: true, alerts: true });
const scenarios = useScenarios('stale-client');

describe('an OAuth application whose client id is not the one the secret holds, with the worker in its own process', () => {
  it('never deletes the application the secret names, recreates, and names it in status and in one warning however often it is checked', async () => {
    const run = runId();
    const token = credlyToken(hosts.credly, { id: `token-${run}`, secretId: `test/stale-client/${run}/token`, description: 'management token (by hand)' });
    const manager = { ...token, seed: JSON.stringify({ token: token.token.token }) };
    const app = credlyApplication(hosts.credly, manager, { id: `app-${run}`, secretId: `test/stale-client/${run}/app` });
    const named = app.application;
    const org = manager.organizationId;
    // Another integration's application: the secret was given its client id, with the id of `named` left beside it.
    const other = hosts.credly.state.createApplication(org, { name: 'HR sync', description: 'made by hand' });
    const staleSecret = `credlysecret_stale-${randomUUID()}`;
    const stale = { ...app, seed: JSON.stringify({ clientId: other.uid, clientSecret: staleSecret, applicationId: named.id }) };
    const t = await scenarios.build({
      credentials: [manager, stale],
      more: alertsYaml(hosts.alerts.url, ['webhook']),
      env: {
        ROTATOR_LOCK_DURATION: '5s',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: hosts.sm.url,
        LOG_LEVEL: 'debug',
        TEST_HOOK_SECRET: `hook-${randomUUID()}`,
      },
    });
    const worker = await t.startWorker();
    const warnings = () =>
      hosts.alerts.on('/webhook').filter((r) => r.json.credentialId === app.id && r.json.type === 'warning' && r.json.topic === 'unproven');

    const first = t.spawn(['trigger', app.id, '--wait', '--json']);
    expect((await first.exited).code, first.output()).toBe(0);
    // The application the secret names, and the one whose client id it holds, both live and working.
    expect(hosts.credly.state.isClientValid(named.uid, named.secret), 'the application the secret names was deleted').toBe(true);
    expect(hosts.credly.state.isClientValid(other.uid, other.secret)).toBe(true);
    expect(hosts.credly.requests.filter((r) => r.method === 'DELETE' && r.path.includes('oauth_applications'))).toEqual([]);
    // The secret now holds a new application of its own, which works.
    const now = await app.current();
    expect(now.applicationId).not.toBe(named.id);
    expect(hosts.credly.state.isClientValid(now.clientId, now.clientSecret)).toBe(true);

    await expect.poll(() => warnings().length, { timeout: 15_000 }).toBe(1);
    const [warning] = warnings();
    expect(String(warning!.json.message)).toContain(`${named.id}`);
    expect(String(warning!.json.message)).toContain('never deleted');

    // Later checks see it still listed and still named: no second warning.
    for (let n = 0; n < 2; n += 1) {
      const again = t.spawn(['trigger', app.id, '--wait']);
      expect((await again.exited).code, again.output()).toBe(0);
    }
    await expect
      .poll(() => logLines(worker).filter((l) => l.msg === 'alert: warning already sent, not repeated' && l.credentialId === app.id).length, {
        timeout: 15_000,
      })
      .toBe(2);
    expect(warnings()).toHaveLength(1);
    expect(hosts.credly.state.isClientValid(named.uid, named.secret)).toBe(true);

    const status = t.spawn(['status', '--json']);
    expect((await status.exited).code, status.output()).toBe(0);
    const view = JSON.parse(status.output()) as { credentials: Array<{ id: string; unproven: string[] }> };
    expect(view.credentials.find((c) => c.id === app.id)?.unproven).toEqual([String(named.id)]);
    const table = t.spawn(['status']);
    expect((await table.exited).code).toBe(0);
    expect(table.output()).toContain(`${app.id}: not provably this secret's, never deleted: ${named.id}`);

    // A person deletes it in Credly: the next check sees it gone and drops it from status.
    hosts.credly.state.deleteApplication(named);
    const after = t.spawn(['trigger', app.id, '--wait']);
    expect((await after.exited).code, after.output()).toBe(0);
    const cleared = t.spawn(['status', '--json']);
    expect((await cleared.exited).code).toBe(0);
    expect(
      (JSON.parse(cleared.output()) as { credentials: Array<{ id: string; unproven: string[] }> }).credentials.find((c) => c.id === app.id)?.unproven,
    ).toEqual([]);

    // No secret in the alert, the log or the outputs.
    const outputs = [worker.output(), first.output(), status.output(), JSON.stringify(warnings())].join('\n');
    for (const value of [staleSecret, named.secret, other.secret, now.clientSecret, token.token.token]) expect(outputs.includes(value)).toBe(false);
  }, 120_000);
});
