/**
 * The first token a person put into the secret carries no marker. Once a rotation replaced it and
 * Redis was emptied before its delayed revoke ran, the revoke job is gone: the next checks find it
 * from durable facts. Where the replacing token's marker names it (and the rotation's version is in
 * the secret) it is revoked through the guard once the overlap window has ended; where no such
 * marker is left, it is named in status and in one warning alert, by its id only.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alertsYaml } from '../support/alert-receiver.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, logLines, runId, store, useScenarios, type ProcessScenario, type WorkerProcess } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, sm: true, alerts: true });
const scenarios = useScenarios('redis-loss-token');

/** A database of the suite's Redis server for this file alone: emptied as a whole, as a lost Redis is. */
const DATABASE = 6;
const url = new URL(process.env.REDIS_URL!);
url.pathname = `/${DATABASE}`;
const redis = new Redis(url.toString(), { maxRetriesPerRequest: null });
afterEach(() => redis.flushdb());
afterAll(() => redis.disconnect());

/** The overlap window: long enough to empty Redis inside it, short enough to wait for its end. */
const WINDOW_S = 30;

async function trigger(t: ProcessScenario, id: string, force: boolean): Promise<string> {
  const p = t.spawn(['trigger', id, ...(force ? ['--force'] : []), '--wait', '--timeout', '60']);
  const { code } = await p.exited;
  expect(code, p.output()).toBe(0);
  return p.output();
}

async function setUp() {
  const run = runId();
  const credential = credlyToken(hosts.credly, {
    run,
    folder: 'redis-loss-token',
    description: 'LMS integration (made by hand)',
    ageDays: 10,
    extra: `revokePreviousAfter: ${WINDOW_S}s`,
  });
  const t = await scenarios.build({
    credentials: [credential],
    more: alertsYaml(hosts.alerts.url, ['webhook']),
    env: {
      REDIS_URL: url.toString(),
      ROTATOR_LOCK_DURATION: '5s',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: hosts.sm.url,
      LOG_LEVEL: 'debug',
      TEST_HOOK_SECRET: `hook-${randomUUID()}`,
    },
  });
  const handMade = credential.token;
  const valid = (value: string) => hosts.credly.state.isTokenValid(value);
  const warnings = () =>
    hosts.alerts.on('/webhook').filter((r) => r.json.credentialId === credential.id && r.json.type === 'warning' && r.json.topic === 'unrevoked');
  const deletesOf = (id: string) => hosts.credly.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(`/authorization_tokens/${id}`));
  const status = async () => {
    const p = await t.command(['status', credential.id, '--json']);
    expect(p.code, p.output).toBe(0);
    return JSON.parse(p.output) as { credentials: Array<{ id: string; unrevoked: string[] }> };
  };
  /** A forced rotation, then the worker killed and Redis emptied before the delayed revoke of what it replaced can run. */
  const rotateAndLoseRedis = async (worker: WorkerProcess) => {
    await trigger(t, credential.id, true);
    worker.child.kill('SIGKILL');
    await worker.exited;
    await redis.flushdb();
    expect(valid(handMade.token), 'the hand-made token was revoked before Redis was emptied: the window is too short for this machine').toBe(true);
  };
  return { credential, t, handMade, valid, warnings, deletesOf, status, rotateAndLoseRedis };
}

describe('a hand-made original token replaced by a rotation, Redis emptied before its revoke ran, with the worker in its own process', () => {
  it('is revoked by a check after the overlap window, proven by the marker of the token that replaced it; never inside the window', async () => {
    const { credential, t, handMade, valid, warnings, deletesOf, status, rotateAndLoseRedis } = await setUp();
    await rotateAndLoseRedis(await t.startWorker(60_000));
    const replacement = await credential.current();
    const worker = await t.startWorker(60_000);

    // Inside the window: left alone (its consumers may not have read the new token yet), and not named.
    await trigger(t, credential.id, false);
    const insideCheckDone = Date.now();
    const replacedAt = (await store.versionCreatedAt(credential.secretId, (await store.readCurrent(credential.secretId)).versionId))!.getTime();
    expect(insideCheckDone, 'the first check after the loss ended after the window: lengthen WINDOW_S for this machine').toBeLessThan(
      replacedAt + WINDOW_S * 1000,
    );
    expect(valid(handMade.token)).toBe(true);
    expect(deletesOf(handMade.id)).toEqual([]);
    expect((await status()).credentials.find((c) => c.id === credential.id)?.unrevoked).toEqual([]);

    // After the window: a check revokes it (polled with a deadline: the window runs on the wall clock).
    await expect
      .poll(
        async () => {
          await trigger(t, credential.id, false);
          return valid(handMade.token);
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toBe(false);
    expect(deletesOf(handMade.id).length).toBe(1);
    expect(deletesOf(handMade.id).every((r) => r.at.getTime() >= replacedAt + WINDOW_S * 1000)).toBe(true);
    expect(valid(replacement.token)).toBe(true);
    expect((await credential.current()).tokenId).toBe(replacement.tokenId);
    expect(logLines(worker).some((l) => l.msg === 'rotation: a replaced credential whose revoke was never sent, revoked' && l.ref === handMade.id)).toBe(true);
    // Proven and revoked: nothing named, no warning.
    expect((await status()).credentials.find((c) => c.id === credential.id)?.unrevoked).toEqual([]);
    expect(warnings()).toEqual([]);

    const text = [worker.output(), JSON.stringify(hosts.alerts.on('/webhook')), await t.redisText()].join('\n');
    for (const value of credential.tokenValues()) expect(text.includes(value)).toBe(false);
  }, 150_000);

  it('is named in status and in one warning (its id, never its value) when no marker is left to prove which rotation replaced it', async () => {
    const { credential, t, handMade, valid, warnings, deletesOf, status, rotateAndLoseRedis } = await setUp();
    await rotateAndLoseRedis(await t.startWorker(60_000));
    const first = await credential.current();
    const worker = await t.startWorker(60_000);
    // A second rotation replaces the first one's token; its own delayed revoke (in Redis now) deletes
    // that token after the window, and with it the marker that named the hand-made one.
    await trigger(t, credential.id, true);
    const second = await credential.current();
    await expect.poll(() => valid(first.token), { timeout: 60_000, interval: 500 }).toBe(false);

    await trigger(t, credential.id, false);
    expect(valid(handMade.token), 'no proof which rotation replaced it: never revoked').toBe(true);
    expect(deletesOf(handMade.id)).toEqual([]);
    expect((await status()).credentials.find((c) => c.id === credential.id)?.unrevoked).toEqual([handMade.id]);
    const table = await t.command(['status', credential.id]);
    expect(table.output).toContain(`${credential.id}: NOT revoked, still valid at the provider: ${handMade.id} — revoke by hand`);
    await expect.poll(() => warnings().length, { timeout: 15_000 }).toBe(1);
    expect(String(warnings()[0]!.json.message)).toContain(handMade.id);
    expect(String(warnings()[0]!.json.message)).toContain('NOT revoked');

    // Later checks still see it: no second warning.
    await trigger(t, credential.id, false);
    await expect
      .poll(() => logLines(worker).filter((l) => l.msg === 'alert: warning already sent, not repeated' && l.credentialId === credential.id).length, {
        timeout: 15_000,
      })
      .toBeGreaterThanOrEqual(1);
    expect(warnings()).toHaveLength(1);
    expect(valid(second.token)).toBe(true);

    // A person revokes it in Credly: the next check drops it from status and resolves the warning.
    hosts.credly.state.killToken(handMade.id);
    await trigger(t, credential.id, false);
    expect((await status()).credentials.find((c) => c.id === credential.id)?.unrevoked).toEqual([]);
    await expect
      .poll(
        () =>
          hosts.alerts.on('/webhook').filter((r) => r.json.credentialId === credential.id && r.json.type === 'resolved' && r.json.topic === 'unrevoked').length,
        {
          timeout: 15_000,
        },
      )
      .toBe(1);

    const text = [worker.output(), table.output, JSON.stringify(hosts.alerts.on('/webhook')), await t.redisText()].join('\n');
    for (const value of credential.tokenValues()) expect(text.includes(value)).toBe(false);
  }, 180_000);
});
