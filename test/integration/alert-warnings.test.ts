import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlerter } from '../../src/alerts/alerter.ts';
import { createPagerDutySink, createSlackSink, createWebhookSink } from '../../src/alerts/sinks.ts';
import { startAlertReceiver } from '../support/alert-receiver.ts';
import { captureLogger } from '../support/capture-logger.ts';

/** The warning for replaced credentials still valid at the provider: one per credential and id until resolved, on every sink. */

let receiver: Awaited<ReturnType<typeof startAlertReceiver>>;
let redis: Redis;
beforeAll(async () => {
  receiver = await startAlertReceiver();
  redis = new Redis(process.env.REDIS_URL!);
});
afterAll(async () => {
  await receiver.close();
  redis.disconnect();
});

describe('unrevoked warnings', () => {
  it('sends one warning per credential and id however often it is raised, by any replica, and one resolve', async () => {
    const credentialId = `credly-${randomUUID().slice(0, 8)}`;
    const sinks = [
      createSlackSink('slack', `${receiver.url}/slack`),
      createPagerDutySink('pager', 'pd-key', 'critical', { url: `${receiver.url}/pagerduty` }),
      createWebhookSink('hook', `${receiver.url}/webhook`, 'signing-secret'),
    ];
    const prefix = `{warn-${randomUUID().slice(0, 8)}}`;
    const replicas = [0, 1].map(() => createAlerter({ sinks, redis, prefix, logger: captureLogger().logger, backoffMs: 1 }));
    const mine = (path: string) => receiver.on(path).filter((r) => r.body.includes(credentialId));
    const alert = { credentialId, kind: 'credly-authorization-token' };

    await Promise.all([
      replicas[0]!.unrevoked({ ...alert, jobId: 'j1', refs: ['token-id-1'] }),
      replicas[1]!.unrevoked({ ...alert, jobId: 'j2', refs: ['token-id-1'] }),
    ]);
    await replicas[0]!.unrevoked({ ...alert, jobId: 'j3', refs: ['token-id-1'] });
    expect(mine('/webhook')).toHaveLength(1);
    expect(mine('/webhook')[0]!.json).toMatchObject({ type: 'warning', topic: 'unrevoked', credentialId, critical: false });
    expect(String(mine('/webhook')[0]!.json.message)).toContain('token-id-1');
    expect(mine('/pagerduty')[0]!.json).toMatchObject({
      event_action: 'trigger',
      dedup_key: `credential-rotator/${credentialId}/unrevoked`,
      payload: { severity: 'warning' },
    });
    expect(String(mine('/slack')[0]!.json.text)).toContain(
      `WARNING: credential ${credentialId} (credly-authorization-token): a replaced credential is NOT revoked`,
    );

    // A second id joins the list: a warning about it alone, once, whichever replica raises it.
    await Promise.all([
      replicas[0]!.unrevoked({ ...alert, jobId: 'j3b', refs: ['token-id-1', 'token-id-2'] }),
      replicas[1]!.unrevoked({ ...alert, jobId: 'j3c', refs: ['token-id-1', 'token-id-2'] }),
    ]);
    expect(mine('/webhook')).toHaveLength(2);
    expect(String(mine('/webhook')[1]!.json.message)).toContain('token-id-2');
    expect(String(mine('/webhook')[1]!.json.message)).not.toContain('token-id-1');

    await Promise.all([replicas[0]!.nothingUnrevoked({ ...alert, jobId: 'j4' }), replicas[1]!.nothingUnrevoked({ ...alert, jobId: 'j5' })]);
    await replicas[0]!.nothingUnrevoked({ ...alert, jobId: 'j6' });
    expect(mine('/webhook').map((r) => r.json.type)).toEqual(['warning', 'warning', 'resolved']);
    expect(String(mine('/webhook')[2]!.json.message)).toContain('token-id-1, token-id-2');
    expect(mine('/pagerduty')[2]!.json).toEqual({ routing_key: 'pd-key', event_action: 'resolve', dedup_key: `credential-rotator/${credentialId}/unrevoked` });
    expect(String(mine('/slack')[2]!.json.text)).toContain(
      `RESOLVED: credential ${credentialId} (credly-authorization-token) has nothing left to revoke by hand`,
    );

    // Raised again after the resolve, for an id already warned of before it: a new warning.
    await replicas[1]!.unrevoked({ ...alert, jobId: 'j7', refs: ['token-id-1'] });
    expect(mine('/webhook').map((r) => r.json.type)).toEqual(['warning', 'warning', 'resolved', 'warning']);
  });

  it('sends one unproven warning per credential and id, ever, by any replica; a new id warns again', async () => {
    const credentialId = `credly-${randomUUID().slice(0, 8)}`;
    const sinks = [createWebhookSink('hook', `${receiver.url}/webhook`, 'signing-secret')];
    const prefix = `{unproven-${randomUUID().slice(0, 8)}}`;
    const logs = captureLogger();
    const replicas = [0, 1].map(() => createAlerter({ sinks, redis, prefix, logger: logs.logger, backoffMs: 1 }));
    const mine = () => receiver.on('/webhook').filter((r) => r.body.includes(credentialId));
    const alert = { credentialId, kind: 'credly-oauth-application' };

    await Promise.all([replicas[0]!.unproven({ ...alert, jobId: 'j1', refs: ['4711'] }), replicas[1]!.unproven({ ...alert, jobId: 'j2', refs: ['4711'] })]);
    await replicas[0]!.unproven({ ...alert, jobId: 'j3', refs: ['4711'] });
    expect(mine()).toHaveLength(1);
    expect(mine()[0]!.json).toMatchObject({ type: 'warning', topic: 'unproven', credentialId, critical: false });
    expect(String(mine()[0]!.json.message)).toContain('4711');
    expect(logs.lines.filter((l) => l.includes('alert: warning already sent, not repeated'))).toHaveLength(2);

    await replicas[1]!.unproven({ ...alert, jobId: 'j4', refs: ['4711', '4712'] });
    expect(mine()).toHaveLength(2);
    expect(String(mine()[1]!.json.message)).toContain('4712');
    expect(String(mine()[1]!.json.message)).not.toContain('4711');
  });
});
