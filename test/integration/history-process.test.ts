// Rotation history and audit end to end: a worker and the CLI, each in its own process, against the
// Credly fake over HTTP, Secrets Manager (the emulator) and Redis. Rotations by the schedule and by
// a person (with an actor and a reason); then Redis is emptied and `rotator history` still tells
// every rotation from what each wrote into its Secrets Manager version.
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENTS, AUDIT_SCHEMA_VERSION } from '../../src/log/audit.ts';
import { factsOf } from '../../src/rotation/facts.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, degreedClient, logLines, runId, store, useScenarios } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, degreed: {} });
const scenarios = useScenarios('history');

interface HistoryJson {
  credentialId: string;
  secretId: string;
  redis: string;
  entries: Array<{
    at: string;
    rotationId: string;
    trigger: string;
    actor: string | null;
    reason: string | null;
    credentialRef: string | null;
    replacedRef: string | null;
    stages: string[];
    revoked: boolean | string | null;
    revokeAt?: string;
  }>;
  reach: { versions: number; withoutFacts: number; oldest: string | null; note: string };
}

async function emptyRedis(prefix: string): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL!);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

describe('rotation history and audit events, in their own processes', () => {
  it('rotator history tells every rotation after Redis is emptied: trigger, actor, reason, what each made and replaced, and what is revoked', async () => {
    // Due (170 days old), checked every two seconds: the schedule rotates it once.
    const token = credlyToken(hosts.credly, { folder: 'history', ageDays: 170, schedule: '*/2 * * * * *', extra: 'revokePreviousAfter: 1h' });
    const t = await scenarios.build({ credentials: [token] });
    const worker = await t.startWorker();
    await expect.poll(() => token.created().length, { timeout: 30_000 }).toBe(1);
    const scheduled = token.created()[0]!;

    // A person forces one with who and why; ROTATOR_ACTOR names another for the next.
    const forced = await t.command(['trigger', token.id, '--force', '--wait', '--actor', 'alice@platform', '--reason', 'token pasted into ticket OPS-1234']);
    expect(forced.code, forced.output).toBe(0);
    const byEnv = t.spawn(['trigger', token.id, '--force', '--wait'], { ROTATOR_ACTOR: 'ci-pipeline #88' });
    expect((await byEnv.exited).code, byEnv.output()).toBe(0);
    const [second, third] = token.created().filter((x) => x.id !== scheduled.id);
    expect(third).toBeDefined();

    // The facts sit in each version beside the fields consumers read.
    const current = (await store.readCurrent(token.secretId)).secretString;
    const facts = factsOf(current)!;
    expect(facts).toMatchObject({ trigger: 'forced', actor: 'ci-pipeline #88', reason: null, replaced: second!.id });
    expect((JSON.parse(current) as Record<string, unknown>).token).toBe(third!.token);

    worker.child.kill('SIGTERM');
    await worker.exited;
    await emptyRedis(t.prefix);

    const run = await t.command(['history', token.id, '--json']);
    expect(run.code, run.output).toBe(0);
    const history = JSON.parse(run.output) as HistoryJson;
    expect(history).toMatchObject({ credentialId: token.id, secretId: token.secretId, redis: 'read' });
    expect(history.entries.map((e) => [e.trigger, e.actor, e.reason, e.credentialRef, e.replacedRef])).toEqual([
      ['forced', 'ci-pipeline #88', null, third!.id, second!.id],
      ['forced', 'alice@platform', 'token pasted into ticket OPS-1234', second!.id, scheduled.id],
      ['schedule', null, null, scheduled.id, token.token.id],
    ]);
    // Newest first; the current one AWSCURRENT, the one before AWSPREVIOUS.
    expect(history.entries.map((e) => e.at)).toEqual([...history.entries.map((e) => e.at)].sort().reverse());
    expect(history.entries[0]!.stages).toContain('AWSCURRENT');
    expect(history.entries[1]!.stages).toContain('AWSPREVIOUS');
    // Every window is an hour: nothing revoked yet, each replaced token still listed, and Redis emptied
    // forgot when the revokes fall due.
    expect(history.entries.map((e) => e.revoked)).toEqual([false, false, false]);
    // The seeded version was written by no rotation.
    expect(history.reach).toMatchObject({ versions: 4, withoutFacts: 1 });
    expect(history.reach.note).toMatch(/audit log/);

    // Once a replaced token is gone from Credly, the history says so; --limit keeps the newest.
    hosts.credly.state.killToken(token.token.id);
    const limited = JSON.parse((await t.command(['history', token.id, '--json', '--limit', '1'])).output) as HistoryJson;
    expect(limited.entries.map((e) => e.rotationId)).toEqual([history.entries[0]!.rotationId]);
    const again = await t.command(['history', token.id, '--json']);
    const all = JSON.parse(again.output) as HistoryJson;
    expect(all.entries.map((e) => e.revoked)).toEqual([false, false, true]);

    // The table for people.
    const text = await t.command(['history', token.id]);
    expect(text.code).toBe(0);
    expect(text.output).toContain('alice@platform');
    expect(text.output).toMatch(/3 rotation\(s\)/);

    // A worker's audit lines: versioned, one event per change, named in the schema.
    const audits = logLines(worker).filter((l) => l.audit === true);
    expect(audits.every((l) => l.auditVersion === AUDIT_SCHEMA_VERSION && typeof l.event === 'string' && l.event in AUDIT_EVENTS)).toBe(true);
    const events = audits.map((l) => l.event);
    expect(events.filter((e) => e === 'rotation.started')).toHaveLength(3);
    expect(events.filter((e) => e === 'credential.created')).toHaveLength(3);
    expect(events.filter((e) => e === 'rotation.promoted')).toHaveLength(3);
    expect(events.filter((e) => e === 'revoke.scheduled')).toHaveLength(3);
    const started = audits.filter((l) => l.event === 'rotation.started');
    expect(started.map((l) => [l.trigger, l.actor, l.reason, l.credentialId])).toEqual([
      ['schedule', null, null, token.id],
      ['forced', 'alice@platform', 'token pasted into ticket OPS-1234', token.id],
      ['forced', 'ci-pipeline #88', null, token.id],
    ]);

    // No secret value in the history, the logs or Redis.
    const outputs = [run.output, text.output, again.output, worker.output(), await t.redisText()].join('\n');
    for (const value of token.tokenValues()) expect(outputs.includes(value), 'a secret value in the history, a log or Redis').toBe(false);
  }, 120_000);

  it('trigger refuses an actor or a reason that is not one line, naming the option, and queues nothing', async () => {
    const token = credlyToken(hosts.credly, { folder: 'history' });
    const t = await scenarios.build({ credentials: [token] });
    const bad = await t.command(['trigger', token.id, '--reason', 'two\nlines']);
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/--reason: must be one line of printable text/);
    const long = await t.command(['trigger', token.id, '--actor', 'x'.repeat(201)]);
    expect(long.code).toBe(2);
    expect(long.output).toMatch(/--actor: .*at most 200 characters/);
    const { queue } = await t.queue();
    expect(await queue.getJobCounts('waiting', 'delayed', 'active')).toEqual({ waiting: 0, delayed: 0, active: 0 });
  });

  it('history of a validated kind is a usage error; of a credential whose secret was never rotated, no entry', async () => {
    const token = credlyToken(hosts.credly, { folder: 'history' });
    const run = runId();
    const degreed = degreedClient(hosts.degreed, { id: `degreed-${run}`, secretId: `test/history/${run}` });
    const t = await scenarios.build({ credentials: [token, degreed] });
    const validated = await t.command(['history', degreed.id]);
    expect(validated.code).toBe(2);
    expect(validated.output).toMatch(/validates and never rotates: it has no rotation history/);
    const none = JSON.parse((await t.command(['history', token.id, '--json'])).output) as HistoryJson;
    expect(none.entries).toEqual([]);
    expect(none.reach).toMatchObject({ versions: 1, withoutFacts: 1 });
    const unknown = await t.command(['history', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.output).toMatch(/unknown credential id "nope"/);
  });
});
