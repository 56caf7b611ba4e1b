import { describe, expect, it } from 'vitest';
import type { JobOutcome } from '../../jobs/index.ts';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyApplication, credlyToken, runId, store, useScenarios } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, sm: true });
const scenarios = useScenarios('proc');

/** A Credly-token credential due for rotation, its inventory file and the environment of its processes. */
async function setup() {
  const c = credlyToken(hosts.credly, { folder: 'process', description: 'made by hand', ageDays: 165 });
  const scenario = await scenarios.build({
    credentials: [c],
    env: { ROTATOR_LOCK_DURATION: '5s', AWS_ENDPOINT_URL_SECRETS_MANAGER: hosts.sm.url, LOG_LEVEL: 'debug' },
  });
  const { id: credentialId, secretId, organizationId, token: original, current } = c;

  /** One rotation reached its end: new token current and working, old one revoked and in no stage, nothing pending, no orphan. */
  const expectOneRotation = async () => {
    const now = await current();
    expect(now.token).not.toBe(original.token);
    expect(hosts.credly.state.isTokenValid(now.token)).toBe(true);
    expect(hosts.credly.state.isTokenValid(original.token)).toBe(false);
    expect(c.created().map((t) => t.id)).toEqual([now.tokenId]);
    const versions = await store.listVersions(secretId, { includeDeprecated: true });
    // The revoked token is in no stage (its AWSPREVIOUS label went first), and still in the history.
    expect(versions.filter((v) => v.stages.length > 0).map((v) => v.stages)).toEqual([['AWSCURRENT']]);
    const values = await Promise.all(versions.map(async (v) => (await store.readVersion(secretId, v.versionId)).secretString));
    expect(values.some((v) => parseSecretValue('credly-authorization-token', v).token === original.token)).toBe(true);
  };
  const expectNoSecretsIn = async (...outputs: string[]) => {
    const text = await scenario.redisText();
    for (const value of c.tokenValues()) {
      expect(text.includes(value), 'a token value is in Redis').toBe(false);
      for (const output of outputs) expect(output.includes(value), 'a token value is in a log').toBe(false);
    }
  };
  return { ...scenario, credentialId, secretId, organizationId, original, current, expectOneRotation, expectNoSecretsIn };
}

describe('rotator trigger --wait, with the worker in its own process', () => {
  it('rotates a due token end to end and exits 0; a token not due is skipped with its reason; --force rotates it anyway', async () => {
    const t = await setup();
    const worker = await t.startWorker();

    const trigger = t.spawn(['trigger', t.credentialId, '--wait', '--timeout', '60']);
    expect((await trigger.exited).code, trigger.output()).toBe(0);
    expect(trigger.output()).toMatch(new RegExp(`${t.credentialId}: success — rotated: new credential .* previous ${t.original.id}: revoked`));
    await t.expectOneRotation();
    const first = await t.current();

    const again = t.spawn(['trigger', t.credentialId, '--wait']);
    expect((await again.exited).code).toBe(0);
    expect(again.output()).toContain(`${t.credentialId}: skipped — not due: expires in 179 day(s) (rotate within 30d)`);
    expect((await t.current()).token).toBe(first.token);

    const forced = t.spawn(['trigger', t.credentialId, '--force', '--wait', '--json']);
    expect((await forced.exited).code).toBe(0);
    const answer = JSON.parse(forced.output()) as { state: string; outcome: JobOutcome };
    expect(answer).toMatchObject({ state: 'completed', outcome: { status: 'success', action: 'rotated', previousState: 'revoked' } });
    expect((await t.current()).token).not.toBe(first.token);
    expect(hosts.credly.state.isTokenValid(first.token)).toBe(false);

    const check = t.spawn(['check', t.credentialId]);
    expect((await check.exited).code, check.output()).toBe(0);
    expect(check.output()).toContain('token accepted by Credly, 179 days to expiry; not due: expires in 179 day(s) (rotate within 30d)');

    const status = t.spawn(['status', '--json']);
    expect((await status.exited).code, status.output()).toBe(0);
    const view = JSON.parse(status.output()) as { credentials: Array<Record<string, unknown>>; queue: Record<string, number> };
    expect(view.credentials).toEqual([
      expect.objectContaining({
        id: t.credentialId,
        state: 'ok',
        lastResult: 'rotated',
        daysToExpiry: 179,
        previousState: 'revoked',
        nextRunAt: expect.stringMatching(/T03:00:00.000Z$/),
      }),
    ]);
    expect(view.queue).toMatchObject({ active: 0, failed: 0 });
    const table = t.spawn(['status']);
    expect((await table.exited).code).toBe(0);
    expect(table.output()).toMatch(new RegExp(`${t.credentialId}\\s+credly-authorization-token\\s+ok\\s+rotated\\s+\\S+\\s+179 days`));

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    await t.expectNoSecretsIn(worker.output(), trigger.output(), again.output(), forced.output(), check.output(), status.output());
  });

  it('exits 1 with the failure when the rotation fails, and 2 for an unknown credential', async () => {
    const t = await setup();
    hosts.credly.state.killToken(t.original.id);
    await t.startWorker();
    const trigger = t.spawn(['trigger', t.credentialId, '--wait']);
    expect((await trigger.exited).code).toBe(1);
    expect(trigger.output()).toContain('refused by Credly (401)');
    const unknown = t.spawn(['trigger', 'no-such-credential']);
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.output()).toContain('unknown credential id "no-such-credential"');
  });
});

/** Holds a Credly request (after letting `skip` matching ones through) until the worker is killed; resolves once it has arrived. */
function holdCredly(method: string, path: RegExp, skip = 0): Promise<void> {
  const before = hosts.credly.requests.length;
  hosts.credly.faults.add({ match: { method, path, server: 'api' }, skip, fault: { kind: 'hang', ms: 60_000 } });
  return expect
    .poll(() => hosts.credly.requests.slice(before).filter((r) => r.method === method && path.test(r.path)).length, { timeout: 20_000 })
    .toBeGreaterThan(skip);
}
/** Holds a Secrets Manager operation (after letting `skip` of them through); resolves once the held one has arrived. */
function holdSecretsManager(operation: string, skip = 0): Promise<void> {
  const before = hosts.sm.seen.filter((o) => o === operation).length;
  hosts.sm.add({ operation, skip, fault: { kind: 'hang' } });
  return expect.poll(() => hosts.sm.seen.filter((o) => o === operation).length - before, { timeout: 20_000 }).toBeGreaterThan(skip);
}

const CRASH_POINTS: Array<{ name: string; hold: () => Promise<void> }> = [
  { name: 'after create (the store is held)', hold: () => holdSecretsManager('PutSecretValue') },
  // The test is the new token listing the tokens: the third listing, after inspect's and the reaper's.
  { name: 'after store (the test is held)', hold: () => holdCredly('GET', /\/authorization_tokens$/, 2) },
  { name: 'after test (the promotion is held)', hold: () => holdSecretsManager('UpdateSecretVersionStage') },
  { name: 'after promote (the pending label removal is held)', hold: () => holdSecretsManager('UpdateSecretVersionStage', 1) },
  { name: 'before revoke (the DELETE is held)', hold: () => holdCredly('DELETE', /\/authorization_tokens\/[^/]+$/) },
];

describe('crash injection: the worker is killed (SIGKILL) mid-rotation and a new worker takes over', () => {
  it.each(CRASH_POINTS)('$name', async ({ hold }) => {
    const t = await setup();
    const first = await t.startWorker();
    const { queue, events } = await t.queue();
    const held = hold();
    const job = await queue.add(
      'check-credential',
      { credentialId: t.credentialId, trigger: 'manual' },
      { attempts: 5, backoff: { type: 'fixed', delay: 200 } },
    );
    await held;
    first.child.kill('SIGKILL');
    await first.exited;
    hosts.sm.clear();
    hosts.credly.faults.clear();
    // The old token still works whatever step was interrupted, or the new one is already current.
    expect(hosts.credly.state.isTokenValid((await t.current()).token)).toBe(true);

    const second = await t.startWorker();
    const outcome = (await job.waitUntilFinished(events, 30_000)) as JobOutcome;
    expect(outcome).toMatchObject({ status: 'success', action: 'rotated' });
    await t.expectOneRotation();
    expect(second.output()).toContain('rotation: resuming');
    await t.expectNoSecretsIn(first.output(), second.output());
  });
});

describe('crash injection on an OAuth application recreation', () => {
  it('a worker killed right after create: a new worker takes over, exactly one new application survives, the unstored one is reaped', async () => {
    const run = runId();
    const token = credlyToken(hosts.credly, { id: `token-${run}`, secretId: `test/process/${run}/token`, description: 'management token (by hand)' });
    const manager = { ...token, seed: JSON.stringify({ token: token.token.token }) };
    // The stored secret is refused: the application must be recreated.
    const app = credlyApplication(hosts.credly, manager, { id: `app-${run}`, secretId: `test/process/${run}/app`, secret: 'lost' });
    const org = manager.organizationId;
    const old = app.application;
    const t = await scenarios.build({
      credentials: [manager, app],
      env: { ROTATOR_LOCK_DURATION: '5s', AWS_ENDPOINT_URL_SECRETS_MANAGER: hosts.sm.url, LOG_LEVEL: 'debug' },
    });
    const first = await t.startWorker();
    const { queue, events } = await t.queue();
    const held = holdSecretsManager('PutSecretValue');
    const job = await queue.add('check-credential', { credentialId: app.id, trigger: 'manual' }, { attempts: 5, backoff: { type: 'fixed', delay: 200 } });
    await held;
    first.child.kill('SIGKILL');
    await first.exited;
    hosts.sm.clear();
    // Created, never stored: its secret is gone for good.
    const unstored = hosts.credly.state.applications(org).filter((a) => parseMarker(a.description)?.credentialId === app.id);
    expect(unstored).toHaveLength(1);

    const second = await t.startWorker();
    const outcome = (await job.waitUntilFinished(events, 30_000)) as JobOutcome;
    expect(outcome).toMatchObject({ status: 'success', action: 'rotated', previousState: 'revoked' });
    const now = await app.current();
    expect(hosts.credly.state.isClientValid(now.clientId, now.clientSecret)).toBe(true);
    expect(hosts.credly.state.applications(org).map((a) => a.id)).toEqual([now.applicationId]);
    expect(now.applicationId).not.toBe(unstored[0]!.id);
    const text = await t.redisText();
    const logs = first.output() + second.output();
    for (const value of [manager.token.token, old.secret, now.clientSecret, unstored[0]!.secret]) {
      expect(text.includes(value)).toBe(false);
      expect(logs.includes(value)).toBe(false);
    }
  });
});
