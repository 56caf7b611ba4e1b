import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobOutcome } from '../../jobs/index.ts';
import { startCredlyFake, type CredlyFake, type CredlyFakeOptions } from '../fakes/credly.fake.ts';
import { alertsYaml } from '../support/alert-receiver.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, logLines, useScenarios } from '../support/scenario.ts';
import { rotationOutcome } from '../support/job-outcome.ts';

/**
 * The three cases of a Credly that behaves as its vendor pages allow, each against a worker in its
 * own process and the matching variant of the fake: no GET /organizations/{id}, page links on the
 * web host, no DELETE of tokens.
 */

const HOOK_SECRET = `hook-signing-${randomUUID()}`;
const fakes: CredlyFake[] = [];
// Registered before the scenarios, so the workers stop before their fake does.
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});
const hosts = useFakeHosts({ alerts: true }, { clearAfterEach: false });
const scenarios = useScenarios('reality');

async function setup(options: CredlyFakeOptions, tokensBefore = 0) {
  const fake = await startCredlyFake(options);
  fakes.push(fake);
  const c = credlyToken(fake, { folder: 'reality', description: 'made by hand', ageDays: 170, tokensBefore });
  const { id, org, token: original, current } = c;
  const t = await scenarios.build({
    credentials: [c],
    more: alertsYaml(hosts.alerts.url, ['webhook']),
    env: { ROTATOR_LOCK_DURATION: '5s', TEST_HOOK_SECRET: HOOK_SECRET, LOG_LEVEL: 'debug' },
    workers: 1,
  });
  const [worker] = t.workers;
  const port = await worker!.port();
  const jobs: string[] = [];
  const trigger = async (force = false) => {
    const p = t.spawn(['trigger', id, '--wait', '--json', ...(force ? ['--force'] : [])]);
    expect((await p.exited).code, p.output()).toBe(0);
    const answer = JSON.parse(p.output()) as { jobId: string; outcome: JobOutcome };
    jobs.push(answer.jobId);
    return answer.outcome;
  };
  /** Resolves once the worker has decided the alerts of the last triggered job (sent, or none due). */
  const alertsDecided = () => {
    const jobId = jobs.at(-1);
    return expect.poll(() => logLines(worker!).some((l) => l.msg === 'alert: job handled' && l.jobId === jobId), { timeout: 10_000, interval: 50 }).toBe(true);
  };
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return { fake, id, org, original, spawn: t.spawn, worker: worker!, trigger, alertsDecided, current, metrics, secrets: c.tokenValues };
}

describe('a Credly as its vendor pages allow, against a worker process', () => {
  it('without GET /organizations/{id}: the rotation finishes with documented calls only', async () => {
    const t = await setup({ organizationEndpoint: false });
    const outcome = await t.trigger();
    expect(outcome).toMatchObject({ status: 'success', action: 'rotated', previousState: 'revoked', unrevoked: '' });
    const now = await t.current();
    expect(t.fake.state.isTokenValid(now.token)).toBe(true);
    expect(t.fake.state.isTokenValid(t.original.token)).toBe(false);
    // The new token proved itself by listing the tokens (the documented call), and nothing asked the organization.
    expect(t.fake.requests.some((r) => r.path === `/v1/organizations/${t.org}`)).toBe(false);
    const newTokenCalls = t.fake.requests.filter((r) => r.headers.authorization === `Basic ${Buffer.from(`${now.token}:`).toString('base64')}`);
    expect(newTokenCalls.map((r) => `${r.method} ${r.path}`)).toContain(`GET /v1/organizations/${t.org}/authorization_tokens`);
  });

  it('with page links on the web host: the pages are read on the API host and nothing reaches the web host', async () => {
    const t = await setup({ pageLinks: 'web', maxPer: 2 }, 5);
    const outcome = await t.trigger();
    expect(outcome).toMatchObject({ status: 'success', action: 'rotated', previousState: 'revoked' });
    expect(t.fake.state.isTokenValid((await t.current()).token)).toBe(true);
    expect(t.fake.webApiRequests()).toEqual([]);
    const pages = t.fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/authorization_tokens'));
    expect(pages.every((r) => r.server === 'api')).toBe(true);
    expect(new Set(pages.map((r) => r.query.page ?? '1'))).toEqual(new Set(['1', '2', '3', '4']));
  });

  it('without DELETE of tokens: the unverified revoke is reported by the outcome, status, metrics and one warning until resolved', async () => {
    const t = await setup({ deleteSupported: false });
    const hooks = () => hosts.alerts.on('/webhook').filter((r) => r.json.credentialId === t.id);
    const outcome = await t.trigger();
    expect(outcome).toMatchObject({ status: 'success', action: 'rotated', unrevoked: t.original.id });
    expect(rotationOutcome(outcome).previousState).toBe(
      `NOT revoked: still listed after DELETE answered 404; revoke ${t.original.id} by hand at the provider; it stays valid until ${t.original.expiresAt.toISOString()}`,
    );
    expect(t.fake.state.isTokenValid(t.original.token)).toBe(true);

    const status = t.spawn(['status', t.id, '--json']);
    expect((await status.exited).code).toBe(0);
    expect((JSON.parse(status.output()) as { credentials: Array<Record<string, unknown>> }).credentials[0]).toMatchObject({
      state: 'ok',
      unrevoked: [t.original.id],
    });
    const table = t.spawn(['status', t.id]);
    expect((await table.exited).code).toBe(0);
    expect(table.output()).toContain(`${t.id}: NOT revoked, still valid at the provider: ${t.original.id} — revoke by hand`);
    expect(await t.metrics()).toContain(`rotator_credential_unrevoked{credential="${t.id}",kind="credly-authorization-token"} 1`);

    await expect.poll(() => hooks().length, { timeout: 10_000 }).toBe(1);
    expect(hooks()[0]!.json).toMatchObject({ type: 'warning', topic: 'unrevoked', credentialId: t.id, critical: false });
    expect(String(hooks()[0]!.json.message)).toContain(t.original.id);
    // The next check lists again: still there, still the one warning.
    expect(await t.trigger()).toMatchObject({ action: 'not-due', unrevoked: t.original.id });
    await t.alertsDecided();
    expect(hooks()).toHaveLength(1);

    // Revoked by hand: the next check finds it gone and resolves the warning, once.
    t.fake.state.killToken(t.original.id);
    expect(await t.trigger()).toMatchObject({ action: 'not-due', unrevoked: '' });
    await expect.poll(() => hooks().map((r) => r.json.type), { timeout: 10_000 }).toEqual(['warning', 'resolved']);
    expect(hooks()[1]!.json).toMatchObject({ topic: 'unrevoked' });
    expect(await t.metrics()).toContain(`rotator_credential_unrevoked{credential="${t.id}",kind="credly-authorization-token"} 0`);
    expect(await t.trigger()).toMatchObject({ action: 'not-due', unrevoked: '' });
    await t.alertsDecided();
    expect(hooks()).toHaveLength(2);

    for (const value of t.secrets()) {
      expect(hosts.alerts.received.some((r) => r.body.includes(value))).toBe(false);
      expect(t.worker.output().includes(value)).toBe(false);
    }
  });
});
