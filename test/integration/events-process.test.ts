// Events to consumers end to end: a worker process rotates Credly tokens against the fake over
// HTTP, with the emulator and Redis, and tells a receiver — a local HTTP server that refuses the
// first deliveries — `credential.rotated` and `credential.revoked`, signed, at least once, one 2xx
// answer per fact; never a secret value.
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, logLines, runId, useScenarios } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {} });
const scenarios = useScenarios('events');

interface Delivery {
  status: number;
  body: string;
  json: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

/** A consumer's endpoint: answers 500 to the first `refuse` deliveries of each event id, then 200. */
let server: Server;
let url = '';
let refuse = 0;
const deliveries: Delivery[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const json = JSON.parse(body) as Record<string, unknown>;
      const earlier = deliveries.filter((d) => d.json.id === json.id).length;
      const status = earlier < refuse ? 500 : 200;
      deliveries.push({ status, body, json, headers: req.headers });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/rotator-events`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const accepted = (credentialId: string) => deliveries.filter((d) => d.status === 200 && d.json.credentialId === credentialId);

/** What a consumer does with a delivery: the signature over `<timestamp>.<body>` with the shared secret. */
function verified(d: Delivery, secret: string): boolean {
  const timestamp = String(d.headers['x-rotator-timestamp']);
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${d.body}`).digest('hex')}`;
  return d.headers['x-rotator-signature'] === expected && Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
}

describe('events to consumers, from a worker process', () => {
  it('a rotation with no overlap: rotated then revoked, each accepted once although the receiver refused the first deliveries', async () => {
    refuse = 2;
    const run = runId();
    const t0 = credlyToken(hosts.credly, { id: `hr-${run}`, secretId: `test/events/${run}/hr` });
    const secret = `events-${randomUUID()}`;
    const t = await scenarios.build({
      credentials: [t0],
      more: `events:\n  - id: lms\n    url: ${url}\n    signingSecret: { env: TEST_EVENTS_SECRET }\n`,
      env: { TEST_EVENTS_SECRET: secret, ROTATOR_JOB_BACKOFF: '200ms' },
    });
    const worker = await t.startWorker();
    const trigger = await t.command(['trigger', t0.id, '--force', '--wait']);
    expect(trigger.code, trigger.output).toBe(0);
    const current = await t0.current();

    await expect.poll(() => accepted(t0.id).length, { timeout: 30_000 }).toBe(2);
    const [rotated, revoked] = ['credential.rotated', 'credential.revoked'].map((type) => accepted(t0.id).find((d) => d.json.type === type)!);
    const versions = await (await import('../support/credentials.ts')).store.listVersions(t0.secretId);
    const promoted = versions.find((v) => v.stages.includes('AWSCURRENT'))!.versionId;
    expect(rotated!.json).toMatchObject({
      type: 'credential.rotated',
      credentialId: t0.id,
      secretId: t0.secretId,
      versionId: promoted,
      id: `credential.rotated.${t0.id}.${promoted}`,
    });
    expect(rotated!.json.previousRevokeAfter).toBe(rotated!.json.rotatedAt);
    expect(revoked!.json).toMatchObject({
      type: 'credential.revoked',
      credentialId: t0.id,
      secretId: t0.secretId,
      id: `credential.revoked.${t0.id}.${promoted}`,
    });
    expect(Date.parse(String(revoked!.json.revokedAt))).toBeGreaterThanOrEqual(Date.parse(String(rotated!.json.rotatedAt)));
    // Each was refused twice, then accepted; every delivery signed as the webhook alert sink signs.
    for (const id of [rotated!.json.id, revoked!.json.id]) expect(deliveries.filter((d) => d.json.id === id).map((d) => d.status)).toEqual([500, 500, 200]);
    for (const d of deliveries.filter((x) => x.json.credentialId === t0.id)) expect(verified(d, secret)).toBe(true);
    expect(rotated!.headers['x-rotator-event']).toBe('credential.rotated');

    // The token the event speaks of is the one the secret now holds; the old one is gone.
    expect(hosts.credly.state.isTokenValid(current.token)).toBe(true);
    expect(hosts.credly.state.isTokenValid(t0.token.token)).toBe(false);
    await expect.poll(() => logLines(worker).filter((l) => l.msg === 'event: delivered').length).toBe(2);
    const metrics = await (await fetch(`http://127.0.0.1:${await worker.port()}/metrics`)).text();
    expect(metrics).toContain('rotator_event_deliveries_total{receiver="lms",outcome="delivered"} 2');
    expect(metrics).toContain('rotator_event_deliveries_total{receiver="lms",outcome="failed"} 0');

    const everything = [JSON.stringify(deliveries), worker.output(), await t.redisText()].join('\n');
    for (const value of [t0.token.token, current.token, secret]) expect(everything.includes(value), 'a secret value in an event, the log or Redis').toBe(false);
  }, 90_000);

  it('a rotation with an overlap: rotated at once with the time of the revoke, revoked once the window is over', async () => {
    refuse = 0;
    const run = runId();
    const t0 = credlyToken(hosts.credly, { id: `lms-${run}`, secretId: `test/events/${run}/lms`, extra: 'revokePreviousAfter: 3s\nconsumerRefresh: 3s' });
    const t = await scenarios.build({
      credentials: [t0],
      more: `events:\n  - id: lms\n    url: ${url}\n    signingSecret: { env: TEST_EVENTS_SECRET }\n    credentials: [${t0.id}]\n`,
      env: { TEST_EVENTS_SECRET: `events-${randomUUID()}` },
    });
    await t.startWorker();
    const trigger = await t.command(['trigger', t0.id, '--force', '--wait']);
    expect(trigger.code, trigger.output).toBe(0);
    await expect.poll(() => accepted(t0.id).length, { timeout: 15_000 }).toBe(1);
    const [rotated] = accepted(t0.id);
    expect(rotated!.json.type).toBe('credential.rotated');
    expect(Date.parse(String(rotated!.json.previousRevokeAfter)) - Date.parse(String(rotated!.json.rotatedAt))).toBe(3_000);
    // The old token still works inside the window; the revoked event comes after it.
    expect(hosts.credly.state.isTokenValid(t0.token.token)).toBe(true);
    await expect.poll(() => accepted(t0.id).map((d) => d.json.type), { timeout: 30_000 }).toEqual(['credential.rotated', 'credential.revoked']);
    const revokedAt = Date.parse(String(accepted(t0.id)[1]!.json.revokedAt));
    expect(revokedAt).toBeGreaterThanOrEqual(Date.parse(String(rotated!.json.previousRevokeAfter)));
    expect(hosts.credly.state.isTokenValid(t0.token.token)).toBe(false);
  }, 90_000);

  it('a receiver whose secret is missing stops the worker at start, naming it, exit 2', async () => {
    const run = runId();
    const t0 = credlyToken(hosts.credly, { id: `nosecret-${run}`, secretId: `test/events/${run}/nosecret` });
    const t = await scenarios.build({ credentials: [t0], more: `events:\n  - id: lms\n    url: ${url}\n    signingSecret: { env: TEST_EVENTS_UNSET }\n` });
    const worker = t.spawn(['worker']);
    const exit = await worker.exited;
    expect(exit.code).toBe(2);
    // The log line is JSON: the receiver's name in escaped quotes.
    expect(worker.output()).toContain('rotator: event receiver \\"lms\\": environment variable TEST_EVENTS_UNSET is not set');
  }, 60_000);
});
