import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert, AlertSink } from '../../src/alerts/alert.ts';
import { createAlerter } from '../../src/alerts/alerter.ts';
import { escalateOverdue } from '../../src/alerts/escalation.ts';
import { createExpiryReader } from '../../src/alerts/expiry.ts';
import { createKinds } from '../../src/composition-root.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { createCredentialLock } from '../../src/lease/credential-lock.ts';
import { createRotationStateStore, rotationKey, statusKey } from '../../src/state/rotation-state.ts';
import { collectStatus } from '../../src/status/collect.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { runId, store } from '../support/credentials.ts';
import { DAY, useRotationScenarios } from '../support/rotation-harness.ts';

const redis = new Redis(process.env.REDIS_URL!);
const HOUR = 3_600_000;
const { hosts, scenario } = useRotationScenarios();
afterAll(() => redis.disconnect());

function memorySink(): AlertSink & { alerts: Alert[] } {
  const alerts: Alert[] = [];
  return { id: 'memory', alerts, send: async (alert) => void alerts.push(alert) };
}

describe('escalation of failing or stuck rotations as the credential nears expiry (real Redis)', () => {
  it('alerts critical, once a day, with the days counted from the expiry time, for what fails or hangs past the bound', async () => {
    const prefix = `{esc-${randomUUID().slice(0, 8)}}`;
    const now = new Date('2026-12-03T09:00:00Z');
    const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
    const state = createRotationStateStore(redis, prefix);
    const ids = ['stuck', 'failing', 'just-failed', 'far-away', 'fine'];
    const credentials = ids.map((id) => ({ id, kind: 'credly-authorization-token' as const }));
    // Stuck at test for two days, no job failing; the figure written when it began says 40 days.
    await state.updateStatus('stuck', { expiresAt: at(5 * DAY + HOUR), daysToExpiry: '40' });
    const held = (await createCredentialLock(redis, { prefix }).acquire('stuck'))!;
    await state.save(
      {
        credentialId: 'stuck',
        rotationId: randomUUID(),
        jobId: 'schedule-stuck-1',
        step: 'test',
        startedAt: at(-2 * DAY),
        previousRef: 'tok-1',
        forced: false,
        trigger: 'schedule',
      },
      held.token,
    );
    await held.release();
    await state.updateStatus('failing', { expiresAt: at(3 * DAY + HOUR), daysToExpiry: '9', failingSince: at(-DAY), lastSummary: 'credly list-tokens: 503' });
    await state.updateStatus('just-failed', { expiresAt: at(3 * DAY + HOUR), failingSince: at(-10 * 60_000) });
    await state.updateStatus('far-away', { expiresAt: at(20 * DAY), failingSince: at(-3 * DAY) });
    await state.updateStatus('fine', { expiresAt: at(2 * DAY), lastResult: 'not-due' });

    const sink = memorySink();
    const { logger } = captureLogger();
    const alerter = createAlerter({ sinks: [sink], redis, prefix, logger, backoffMs: 10 });
    const look = (when: Date) => escalateOverdue({ credentials, state, alerter, logger, escalateAfterMs: 6 * HOUR, now: () => when });

    expect(await look(now)).toEqual(['stuck', 'failing']);
    expect(sink.alerts.map((a) => [a.credentialId, a.critical, a.daysToExpiry, a.step])).toEqual([
      ['stuck', true, 5, 'test'],
      ['failing', true, 3, undefined],
    ]);
    expect(sink.alerts[0]!.message).toBe(
      'a rotation has been stuck at step test for 48 hour(s) (since 2026-12-01T09:00:00.000Z) and the current credential expires in 5 day(s)',
    );
    expect(sink.alerts[1]!.message).toContain('its checks have been failing for 24 hour(s)');
    expect(sink.alerts[1]!.message).toContain('last: credly list-tokens: 503');

    // Another replica, or the next look the same day: nothing more.
    await look(new Date(now.getTime() + HOUR));
    expect(sink.alerts).toHaveLength(2);
    // A day later it is still failing and stuck: escalated again, one day closer.
    await look(new Date(now.getTime() + DAY));
    expect(sink.alerts.slice(2).map((a) => [a.credentialId, a.daysToExpiry])).toEqual([
      ['stuck', 4],
      ['failing', 2],
      // Failing for a day now: past the bound.
      ['just-failed', 2],
    ]);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  });

  it('status counts the days down from the expiry time, not from the figure the last inspect wrote', async () => {
    const prefix = `{esc-${randomUUID().slice(0, 8)}}`;
    const state = createRotationStateStore(redis, prefix);
    const { credentials } = parseInventory(`version: 1
credentials:
  - id: credly-main
    kind: credly-authorization-token
    secretId: prod/credly/main
    organizationId: 00000000-0000-0000-0000-000000000000
    environment: production
`);
    await state.updateStatus('credly-main', { expiresAt: '2026-12-10T12:00:00.000Z', daysToExpiry: '30', lastResult: 'failed' });
    const view = await collectStatus({ credentials, state, queue: { getJobCounts: async () => ({}) }, now: new Date('2026-12-03T09:00:00Z') });
    expect(view.credentials[0]!.daysToExpiry).toBe(7);
    await redis.del(statusKey(prefix, 'credly-main'));
  });
});

describe('days to expiry refreshed inside resumed rotations (real Redis, moto, the Credly fake over HTTP)', () => {
  it("a resumed rotation re-reads the current token's expiry before going on, even when it then fails again", async () => {
    const s = await scenario({ tokenAgeDays: 176 });
    // A rotation a crashed worker left at create two days ago; the status still says 40 days.
    await redis.hset(rotationKey(s.prefix, s.credentialId), {
      rotationId: randomUUID(),
      jobId: 'schedule-crashed-1',
      step: 'create',
      startedAt: new Date(Date.now() - 2 * DAY).toISOString(),
      previousRef: s.original.id,
      forced: 'false',
    });
    await redis.hset(statusKey(s.prefix, s.credentialId), { expiresAt: new Date(Date.now() + 40 * DAY).toISOString(), daysToExpiry: '40' });
    hosts.credly.faults.add({ match: { method: 'POST', path: /authorization_tokens$/ }, times: Infinity, fault: { kind: 'status', status: 500 } });
    const result = await s.run({ attempts: 1 });
    expect(result.state).toBe('failed');
    const status = await redis.hgetall(statusKey(s.prefix, s.credentialId));
    expect(status.expiresAt).toBe(s.original.expiresAt.toISOString());
    expect(status.daysToExpiry).toBe('3');
  });
});

describe('the expiry alerts count down to when Redis has none (real Redis, moto)', () => {
  it("reads the token secret's expiresAt, an application's from its managing token, and never a value", async () => {
    const run = runId();
    const prefix = `{esc-${run}}`;
    const state = createRotationStateStore(redis, prefix);
    const ids = { token: `token-${run}`, app: `app-${run}`, bare: `bare-${run}`, broken: `broken-${run}` };
    const entry = (id: string, extra = '') =>
      `  - id: ${id}\n    kind: credly-authorization-token\n    secretId: test/expiry/${id}\n    organizationId: 00000000-0000-0000-0000-000000000000\n    environment: production\n${extra}`;
    const inventory = parseInventory(`version: 1
credentials:
${entry(ids.token)}${entry(ids.bare)}${entry(ids.broken)}  - id: ${ids.app}
    kind: credly-oauth-application
    secretId: test/expiry/${ids.app}
    organizationId: 00000000-0000-0000-0000-000000000000
    environment: production
    managedBy: ${ids.token}
    applicationName: LMS badge sync
    scopes: [issued_badges]
`);
    const value = `tok-${randomUUID()}`;
    const expiresAt = '2026-12-06T09:00:00.000Z';
    await store.putCurrent(`test/expiry/${ids.token}`, JSON.stringify({ token: value, tokenId: 'tok-1', expiresAt }));
    await store.putCurrent(`test/expiry/${ids.app}`, JSON.stringify({ clientId: 'client-1', clientSecret: `sec-${value}`, applicationId: 7 }));
    // A bare token records no expiry; a broken secret quotes the value in its text.
    await store.putCurrent(`test/expiry/${ids.bare}`, value);
    await store.putCurrent(`test/expiry/${ids.broken}`, `{"token": "${value}", "expiresAt": "not a date"`);
    const { logger, lines } = captureLogger();
    const expiry = createExpiryReader({ credentials: inventory.credentials, kinds: createKinds({ inventory, secrets: store }), secrets: store, state, logger });
    const of = (id: string) => expiry({ id, kind: inventory.credentials.find((c) => c.id === id)!.kind }, {});

    expect(await of(ids.token)).toEqual({ at: new Date(expiresAt), of: ids.token });
    expect(await of(ids.app)).toEqual({ at: new Date(expiresAt), of: ids.token });
    expect(await of(ids.bare)).toBeUndefined();
    expect(await of(ids.broken)).toBeUndefined();
    // Redis's expiry, when it has one, comes first: the managing token's for the application.
    await state.updateStatus(ids.token, { expiresAt: '2026-12-20T09:00:00.000Z' });
    expect(await of(ids.app)).toEqual({ at: new Date('2026-12-20T09:00:00.000Z'), of: ids.token });

    // Escalated from the secret's expiry: the application's failing since a day, its token expiring in 2 days.
    const sink = memorySink();
    const alerter = createAlerter({ sinks: [sink], redis, prefix, logger, backoffMs: 10 });
    await state.updateStatus(ids.token, { expiresAt: '' });
    await state.updateStatus(ids.app, { failingSince: '2026-12-03T09:00:00.000Z' });
    const now = new Date('2026-12-04T09:00:00Z');
    const credentials = inventory.credentials.map((c) => ({ id: c.id, kind: c.kind }));
    expect(await escalateOverdue({ credentials, state, alerter, logger, expiry, escalateAfterMs: 6 * HOUR, now: () => now })).toEqual([ids.app]);
    expect(sink.alerts[0]).toMatchObject({ credentialId: ids.app, critical: true, daysToExpiry: 2 });

    expect(lines.some((l) => l.includes('could not read the expiry') && l.includes(ids.broken) && l.includes('SecretFormatError'))).toBe(true);
    expect([...lines, JSON.stringify(sink.alerts)].join('\n')).not.toContain(value);
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.join(' ')).not.toContain(value);
    if (keys.length) await redis.del(...keys);
  });
});
