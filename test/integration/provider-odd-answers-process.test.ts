import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JobOutcome } from '../../jobs/index.ts';
import { alertsYaml } from '../support/alert-receiver.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, degreedClient, logLines, runId, useScenarios } from '../support/scenario.ts';

/**
 * Provider answers that do not fit, against a worker process and the fakes over HTTP: a listed
 * token of another integration in a shape the pages do not give is skipped (logged once, counted)
 * and the organization's rotation proceeds; the credential's own such token is a permanent failure
 * naming the field; a Degreed validation whose logout fails stays a success, with one warning a day
 * and a metric.
 */

const HOOK_SECRET = `hook-signing-${randomUUID()}`;
const hosts = useFakeHosts({ credly: {}, degreed: {}, alerts: true });
const scenarios = useScenarios('odd-answers');

async function worker(credentials: Parameters<typeof scenarios.build>[0]['credentials']) {
  const t = await scenarios.build({
    credentials,
    more: alertsYaml(hosts.alerts.url, ['webhook']),
    env: { ROTATOR_LOCK_DURATION: '5s', TEST_HOOK_SECRET: HOOK_SECRET },
    workers: 1,
  });
  const [w] = t.workers;
  const port = await w!.port();
  const trigger = async (id: string, expectCode = 0) => {
    const p = t.spawn(['trigger', id, '--wait', '--json']);
    expect((await p.exited).code, p.output()).toBe(expectCode);
    return JSON.parse(p.output()) as { outcome?: JobOutcome; error?: { message: string }; ok?: boolean };
  };
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return { worker: w!, trigger, metrics };
}

describe('a listed record that does not fit the documented shape', () => {
  it("another integration's token listed with expires_at: null is skipped, logged once with its id and counted; the organization's rotation proceeds", async () => {
    const run = runId();
    const org = hosts.credly.state.addOrganization(`Org ${run}`);
    const odd = hosts.credly.state.addToken(org, { description: 'made in the web UI', listedAs: { expires_at: null } });
    const c = credlyToken(hosts.credly, { run, organizationId: org, folder: 'odd-answers', description: 'made by hand', ageDays: 170 });
    const t = await worker([c]);

    const first = await t.trigger(c.id);
    expect(first.outcome).toMatchObject({ status: 'success', action: 'rotated', previousState: 'revoked' });
    expect(hosts.credly.state.isTokenValid((await c.current()).token)).toBe(true);
    expect(hosts.credly.state.isTokenValid(c.token.token)).toBe(false);
    // The odd token was listed, not touched.
    expect(hosts.credly.state.isTokenValid(odd.token)).toBe(true);
    expect(await t.trigger(c.id)).toMatchObject({ outcome: { action: 'not-due' } });

    const skipped = logLines(t.worker).filter((l) => String(l.msg).startsWith('provider: a listed record'));
    expect(skipped).toEqual([
      expect.objectContaining({
        provider: 'credly',
        kind: 'credly-authorization-token',
        credentialId: c.id,
        recordId: odd.id,
        fields: ['expires_at: invalid_type'],
      }),
    ]);
    const count = /rotator_provider_records_skipped_total\{provider="credly",kind="credly-authorization-token"\} (\d+)/.exec(await t.metrics());
    // Every listing of both checks skipped it (inspect, the create's look-ups, the test, the revoke's re-list…).
    expect(Number(count?.[1])).toBeGreaterThan(2);
    for (const value of [odd.token, ...c.tokenValues()]) expect(t.worker.output().includes(value)).toBe(false);
  });

  it("the credential's own token listed without its expiry is a permanent failure naming the field, not retried", async () => {
    const run = runId();
    const org = hosts.credly.state.addOrganization(`Org ${run}`);
    const c = credlyToken(hosts.credly, { run, organizationId: org, folder: 'odd-answers', description: 'made by hand', ageDays: 170 });
    c.token.listedAs = { expires_at: null };
    const t = await worker([c]);

    const failed = await t.trigger(c.id, 1);
    const text = JSON.stringify(failed);
    expect(text).toContain(
      `token ${c.token.id} of credential \\"${c.id}\\" is listed in a shape the documentation does not give (at expires_at: invalid_type)`,
    );
    const listings = hosts.credly.requests.filter((r) => r.method === 'GET' && r.path === `/v1/organizations/${org}/authorization_tokens`);
    // One check, one listing: a permanent error is not retried, and nothing was created.
    expect(listings).toHaveLength(1);
    expect(hosts.credly.state.tokens(org)).toHaveLength(1);
    await expect.poll(() => hosts.alerts.on('/webhook').filter((r) => r.json.credentialId === c.id).length, { timeout: 10_000 }).toBe(1);
    expect(t.worker.output().includes(c.token.token)).toBe(false);
  });
});

describe('a Degreed validation whose logout fails', () => {
  it('stays a success; one warning a day per credential, whatever the checks; each failure counted', async () => {
    const run = runId();
    const d = degreedClient(hosts.degreed, { id: `degreed-${run}`, secretId: `test/odd-answers/${run}`, extra: '    logoutPath: /oauth/logout\n' });
    const t = await worker([d]);
    hosts.degreed.faults.add({ match: { path: '/oauth/logout' }, times: Infinity, fault: { kind: 'status', status: 404 } });

    for (let n = 0; n < 2; n += 1) {
      const done = await t.trigger(d.id);
      expect(done.outcome).toMatchObject({ status: 'success', action: 'validated', summary: expect.stringContaining('logout FAILED') });
    }
    const hooks = () => hosts.alerts.on('/webhook').filter((r) => r.json.credentialId === d.id);
    await expect.poll(() => hooks().length, { timeout: 10_000 }).toBe(1);
    expect(hooks()[0]!.json).toMatchObject({ type: 'warning', topic: 'logout-failed', credentialId: d.id, critical: false });
    expect(String(hooks()[0]!.json.message)).toContain('404');
    expect(await t.metrics()).toContain(`rotator_validation_logout_failures_total{credential="${d.id}",kind="degreed-client-credentials"} 2`);
    // The second check's warning was held back by the day's key, not merely late: a third check shows the count move, the hooks not.
    await t.trigger(d.id);
    expect(await t.metrics()).toContain(`rotator_validation_logout_failures_total{credential="${d.id}",kind="degreed-client-credentials"} 3`);
    expect(hooks()).toHaveLength(1);
    const values = [d.client.clientSecret, ...hosts.degreed.state.issuedAccessTokens().map((a) => a.value)];
    for (const value of values) {
      expect(t.worker.output().includes(value)).toBe(false);
      expect(hosts.alerts.received.some((r) => r.body.includes(value))).toBe(false);
    }
  });
});
