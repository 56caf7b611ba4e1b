/**
 * Escalation and critical failures after Redis lost what the last inspect recorded, end to end: a
 * worker in its own process, `rotator trigger` as a user runs it, real Redis, moto, the Credly fake
 * and a signed webhook over HTTP. Redis holds nothing for the credentials (a flushed Redis), and
 * Credly refuses the managing token, so no inspect can read an expiry: the token's expiry is the one
 * its secret carries, and the OAuth application it manages counts down to it.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { statusKey } from '../../src/state/rotation-state.ts';
import { alertsYaml } from '../support/alert-receiver.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyApplication, credlyToken, runId, useRedis, useScenarios } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, alerts: true }, { clearAfterEach: false });
const scenarios = useScenarios('escalation-lost');
const redis = useRedis();
const HOOK_SECRET = `hook-signing-${randomUUID()}`;
const HOUR = 3_600_000;

describe('escalation without Redis (worker process, the expiry read from the secret)', () => {
  it("a refused token and the application it manages: failure alerts critical and escalation, from the token secret's expiry", async () => {
    const run = runId();
    // 176 days old: it expires in a little under 4 days. Its secret carries the expiry, as the rotator writes it.
    const manager = credlyToken(hosts.credly, { id: `token-${run}`, secretId: `test/escalation-lost/${run}/token`, ageDays: 176 });
    const tokenSeed = JSON.stringify({ token: manager.token.token, tokenId: manager.token.id, expiresAt: manager.token.expiresAt.toISOString() });
    // Its stored secret is refused: only the managing token could recreate it.
    const app = credlyApplication(hosts.credly, manager, { id: `app-${run}`, secretId: `test/escalation-lost/${run}/app`, secret: 'wrong' });
    const d = await scenarios.build({
      credentials: [{ ...manager, seed: tokenSeed }, app],
      more: alertsYaml(hosts.alerts.url, ['webhook']),
      env: { ROTATOR_JOB_ATTEMPTS: '1', ROTATOR_ESCALATE_AFTER: '1h', TEST_HOOK_SECRET: HOOK_SECRET },
    });
    const alertsOf = (id: string) => hosts.alerts.on('/webhook').filter((r) => r.json.credentialId === id);
    const first = await d.startWorker(30_000);
    hosts.credly.state.killToken(manager.token.id);

    for (const id of [manager.id, app.id]) {
      const failed = await d.command(['trigger', id, '--wait', '--timeout', '60']);
      expect(failed.code, failed.output).toBe(1);
      await expect.poll(() => alertsOf(id).length, { timeout: 15_000 }).toBe(1);
      // Critical: the expiry is within the 7-day window, though Redis never recorded it.
      expect(alertsOf(id)[0]!.json, id).toMatchObject({ type: 'failure', credentialId: id, critical: true, daysToExpiry: 3 });
    }
    // Redis still holds no expiry for either: the alerts counted from the secret.
    for (const id of [manager.id, app.id]) expect(await redis().hget(statusKey(d.prefix, id), 'expiresAt')).toBeNull();

    // Both have been failing for two hours (the first failure after the flush set failingSince; the
    // time that passed since is written back here), past ROTATOR_ESCALATE_AFTER. A second replica
    // looks at every credential as it starts.
    for (const id of [manager.id, app.id]) await redis().hset(statusKey(d.prefix, id), 'failingSince', new Date(Date.now() - 2 * HOUR).toISOString());
    const second = await d.startWorker(30_000);
    const escalations = (id: string) => alertsOf(id).filter((r) => r.json.errorClass === 'Escalation');
    await expect.poll(() => escalations(manager.id).length + escalations(app.id).length, { timeout: 15_000 }).toBe(2);
    expect(escalations(manager.id)[0]!.json).toMatchObject({ critical: true, daysToExpiry: 3 });
    expect(String(escalations(manager.id)[0]!.json.message)).toContain('its checks have been failing for 2 hour(s)');
    expect(String(escalations(manager.id)[0]!.json.message)).toContain('the current credential expires in 3 day(s)');
    expect(escalations(app.id)[0]!.json).toMatchObject({ critical: true, daysToExpiry: 3 });
    expect(String(escalations(app.id)[0]!.json.message)).toContain(`${manager.id}, whose expiry it counts down to, expires in 3 day(s)`);

    // Only the date left the secrets: no value in an alert, in Redis, or in a worker's output.
    const values = [manager.token.token, 'credlysecret_not-the-right-one', app.application.secret];
    const everywhere = [hosts.alerts.received.map((r) => r.body).join('\n'), await d.redisText(), first.output(), second.output()].join('\n');
    expect(everywhere.length).toBeGreaterThan(0);
    for (const value of values) expect(everywhere.includes(value), 'a secret value left Secrets Manager').toBe(false);
  }, 120_000);
});
