/**
 * Forced rotations and the product's defaults, end to end: a worker in its own process,
 * `rotator trigger` as a user runs it, forged jobs written straight into the queue, real Redis, the
 * Secrets Manager emulator, the Credly fake and an alert receiver over HTTP.
 *
 * The finding this answers: eight forced jobs written into Redis revoked eight tokens in use within
 * seconds (the overlap was 0s, and nothing limited forced rotations). With the defaults — an hour of
 * overlap, ten minutes of cooldown dated by Secrets Manager — a forced rotation right after another
 * is refused, creates nothing, revokes nothing, and warns once.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RotationJobOutcome } from '../../jobs/index.ts';
import { AWSCURRENT } from '../../src/secrets/secret-store.ts';
import { alertsYaml } from '../support/alert-receiver.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, logLines, store, useScenarios, type CredlyTokenCredential, type WorkerProcess } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, alerts: true });
const scenarios = useScenarios('cooldown');

const MINUTE = 60_000;

/** The AWSCURRENT version of a secret and its creation date, as Secrets Manager has them. */
async function currentVersion(secretId: string): Promise<{ versionId: string; createdAt: Date }> {
  const versionId = (await store.listVersions(secretId)).find((v) => v.stages.includes(AWSCURRENT))!.versionId;
  return { versionId, createdAt: (await store.versionCreatedAt(secretId, versionId))! };
}

/** Token creations the fake saw for the credential's organization. */
const creations = (c: CredlyTokenCredential) =>
  hosts.credly.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${c.organizationId}/authorization_tokens`)).length;

/** The credential's jobs this worker finished, and those whose alerts were decided. */
function jobsHandled(worker: WorkerProcess, credentialId: string): { completed: number; handled: number; refused: number } {
  const lines = logLines(worker).filter((l) => l.credentialId === credentialId);
  return {
    completed: lines.filter((l) => l.msg === 'job: completed').length,
    handled: lines.filter((l) => l.msg === 'alert: job handled').length,
    refused: lines.filter((l) => l.msg === 'rotation: forced rotation refused inside the cooldown').length,
  };
}

const cooldownWarnings = (credentialId: string) =>
  hosts.alerts.on('/webhook').filter((r) => r.json.credentialId === credentialId && r.json.type === 'warning' && r.json.topic === 'force-cooldown');

describe('forced rotations inside the cooldown, with the worker in its own process', () => {
  it('with the defaults, eight forced rotations right after a rotation (triggers and forged jobs) are refused: nothing created, nothing revoked, one warning', async () => {
    // Due: the first trigger rotates it as the schedule would.
    const c = credlyToken(hosts.credly, { folder: 'cooldown', description: 'made by hand', ageDays: 165 });
    const t = await scenarios.build({
      credentials: [c],
      // The product's defaults, not the tests' (credentials.ts, TEST_DEFAULTS).
      defaults: '',
      more: alertsYaml(hosts.alerts.url, ['webhook']),
      env: { ROTATOR_LOCK_DURATION: '5s', LOG_LEVEL: 'debug', TEST_HOOK_SECRET: `hook-${randomUUID()}` },
    });
    const worker = await t.startWorker(30_000);
    expect(
      logLines(worker).filter((l) => l.field === 'revokePreviousAfter'),
      'no overlap warning with the defaults',
    ).toEqual([]);

    const first = t.spawn(['trigger', c.id, '--wait', '--json', '--timeout', '60']);
    expect((await first.exited).code, first.output()).toBe(0);
    expect((JSON.parse(first.output()) as { outcome: RotationJobOutcome }).outcome).toMatchObject({ action: 'rotated' });
    const rotated = await c.current();
    expect(rotated.token).not.toBe(c.token.token);
    // The hour of overlap: the replaced token still works.
    expect(hosts.credly.state.isTokenValid(c.token.token)).toBe(true);
    const version = await currentVersion(c.secretId);
    const possibleAt = new Date(version.createdAt.getTime() + 10 * MINUTE).toISOString();
    const createdBefore = creations(c);
    const tokensBefore = hosts.credly.state.tokens(c.organizationId).length;

    // 1: as a user forces it, waiting for the outcome.
    const forced = t.spawn(['trigger', c.id, '--force', '--wait', '--timeout', '60']);
    expect((await forced.exited).code, forced.output()).toBe(1);
    expect(forced.output()).toContain(`${c.id}: REFUSED — forced rotation refused: AWSCURRENT (version ${version.versionId}`);
    expect(forced.output()).toContain(`a forced rotation is possible at ${possibleAt}`);
    // 2–4: three more from the CLI, one of them waiting with --json.
    const more = [t.spawn(['trigger', c.id, '--force']), t.spawn(['trigger', c.id, '--force'])];
    const json = t.spawn(['trigger', c.id, '--force', '--wait', '--json', '--timeout', '60']);
    // 5–8: forged, written straight into the queue past the CLI.
    const { queue } = await t.queue();
    await Promise.all(
      Array.from({ length: 4 }, () =>
        queue.add('check-credential', { credentialId: c.id, trigger: 'manual', force: true }, { jobId: randomUUID(), attempts: 1 }),
      ),
    );
    for (const p of more) expect((await p.exited).code, p.output()).toBe(0);
    expect((await json.exited).code, json.output()).toBe(1);
    expect(JSON.parse(json.output())).toMatchObject({
      credentialId: c.id,
      state: 'refused',
      possibleAt,
      outcome: { status: 'skipped', action: 'force-refused', possibleAt, currentVersionId: version.versionId },
    });

    // Every job ended and its alerts were decided: the first rotation and eight refusals.
    await expect.poll(() => jobsHandled(worker, c.id), { timeout: 30_000, interval: 100 }).toEqual({ completed: 9, handled: 9, refused: 8 });
    expect(creations(c), 'a token was created at Credly').toBe(createdBefore);
    expect(hosts.credly.state.tokens(c.organizationId)).toHaveLength(tokensBefore);
    expect(await currentVersion(c.secretId)).toEqual(version);
    expect((await c.current()).token).toBe(rotated.token);
    // No token in use was revoked: the replaced one (inside its hour) and the current one both work.
    expect(hosts.credly.state.isTokenValid(c.token.token), 'the replaced token was revoked').toBe(true);
    expect(hosts.credly.state.isTokenValid(rotated.token), 'the current token was revoked').toBe(true);
    expect(hosts.credly.requests.filter((r) => r.method === 'DELETE' && r.path.includes(c.organizationId))).toEqual([]);

    // One warning for the cooldown, however many forced jobs came.
    const warnings = cooldownWarnings(c.id);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.json.message)).toContain(`possible at ${possibleAt}`);
    expect(String(warnings[0]!.json.message)).toContain(version.versionId);

    // Status shows the refusal as a state of its own, not a failure.
    const status = t.spawn(['status', '--json']);
    expect((await status.exited).code, status.output()).toBe(0);
    const view = JSON.parse(status.output()) as { credentials: Array<Record<string, unknown>> };
    expect(view.credentials).toEqual([
      expect.objectContaining({ id: c.id, state: 'cooldown', lastResult: 'force-refused', errorClass: null, lastRotatedAt: expect.any(String) }),
    ]);
    expect(String(view.credentials[0]!.lastSummary)).toContain(`possible at ${possibleAt}`);
    const table = t.spawn(['status']);
    expect((await table.exited).code).toBe(0);
    expect(table.output()).toMatch(new RegExp(`${c.id}\\s+credly-authorization-token\\s+cooldown\\s+force-refused`));

    // No token value in the alerts, the logs, the outputs or Redis.
    const outputs = [worker.output(), first.output(), forced.output(), json.output(), status.output(), ...more.map((p) => p.output())];
    const alerts = JSON.stringify(hosts.alerts.received.map((r) => r.body));
    const redis = await t.redisText();
    for (const value of c.tokenValues()) {
      expect(alerts.includes(value), 'a token value is in an alert').toBe(false);
      expect(redis.includes(value), 'a token value is in Redis').toBe(false);
      for (const output of outputs) expect(output.includes(value), 'a token value is in a log or an output').toBe(false);
    }
  }, 180_000);

  it('a forced rotation runs once the cooldown is over, and at once with forceCooldown 0s; revokePreviousAfter 0s is warned about at start', async () => {
    const short = credlyToken(hosts.credly, { folder: 'cooldown', description: 'made by hand', ageDays: 165, extra: 'forceCooldown: 6s' });
    const none = credlyToken(hosts.credly, {
      folder: 'cooldown',
      description: 'made by hand',
      ageDays: 165,
      extra: 'forceCooldown: 0s\nrevokePreviousAfter: 0s',
    });
    const t = await scenarios.build({
      credentials: [short, none],
      defaults: '',
      env: { ROTATOR_LOCK_DURATION: '5s', LOG_LEVEL: 'debug' },
    });
    const worker = await t.startWorker(30_000);
    // One line at load, naming the credential with no overlap; none for the other.
    expect(logLines(worker).filter((l) => l.field === 'revokePreviousAfter')).toEqual([
      expect.objectContaining({
        level: 'warn',
        credentialId: none.id,
        value: '0s',
        msg: expect.stringContaining(`credential "${none.id}" has revokePreviousAfter 0s`),
      }),
    ]);
    const { queue, events } = await t.queue();
    const run = async (credentialId: string, force: boolean) =>
      (await (
        await queue.add('check-credential', { credentialId, trigger: 'manual', force }, { jobId: randomUUID(), attempts: 1 })
      ).waitUntilFinished(events, 60_000)) as RotationJobOutcome;

    // forceCooldown 0s: a forced rotation right after a rotation runs.
    expect(await run(none.id, false)).toMatchObject({ action: 'rotated' });
    const between = await none.current();
    const forcedAtOnce = t.spawn(['trigger', none.id, '--force', '--wait', '--json', '--timeout', '60']);
    expect((await forcedAtOnce.exited).code, forcedAtOnce.output()).toBe(0);
    expect((JSON.parse(forcedAtOnce.output()) as { outcome: RotationJobOutcome }).outcome).toMatchObject({ action: 'rotated', previousState: 'revoked' });
    expect((await none.current()).token).not.toBe(between.token);
    expect(hosts.credly.state.isTokenValid(between.token)).toBe(false);

    // forceCooldown 6s: refused right after the rotation, dated from the new AWSCURRENT version.
    expect(await run(short.id, false)).toMatchObject({ action: 'rotated' });
    const version = await currentVersion(short.secretId);
    const refused = await run(short.id, true);
    const possibleAt = new Date(version.createdAt.getTime() + 6_000);
    expect(refused).toMatchObject({ status: 'skipped', action: 'force-refused', possibleAt: possibleAt.toISOString(), currentVersionId: version.versionId });
    const rotated = await short.current();

    // Polled, not slept: once the cooldown is over, the forced rotation runs.
    await expect.poll(() => Date.now() > possibleAt.getTime(), { timeout: 20_000, interval: 100 }).toBe(true);
    const forced = t.spawn(['trigger', short.id, '--force', '--wait', '--json', '--timeout', '60']);
    expect((await forced.exited).code, forced.output()).toBe(0);
    expect((JSON.parse(forced.output()) as { outcome: RotationJobOutcome }).outcome).toMatchObject({ action: 'rotated' });
    expect((await short.current()).token).not.toBe(rotated.token);
    expect((await currentVersion(short.secretId)).versionId).not.toBe(version.versionId);
    // The default hour of overlap: the token it replaced still works.
    expect(hosts.credly.state.isTokenValid(rotated.token)).toBe(true);
  }, 180_000);
});
