import { describe, expect, it } from 'vitest';
import { startCredlyFake, type FakeCredlyToken } from '../fakes/credly.fake.ts';
import { startScenario, useRotationScenarios, type Scenario, type ScenarioOptions } from '../support/rotation-harness.ts';

/**
 * The revoke guard against real Redis, moto and the Credly fake over HTTP: overlapping rotations,
 * Redis lost, and a person writing an old token back by hand.
 */

const HOUR = 3_600_000;
/** The fake's clock runs ahead with the rotator's: `advance` moves both. */
let offsetMs = 0;
const { hosts, scenario: start } = useRotationScenarios({ credly: { now: () => new Date(Date.now() + offsetMs) } });

async function scenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const s = await start(options);
  // The rotator's clock starts where the shared fake's stands after earlier tests.
  s.advance(offsetMs);
  return s;
}

function advance(s: Scenario, ms: number): void {
  offsetMs += ms;
  s.advance(ms);
}

const valid = (t: FakeCredlyToken) => hosts.credly.state.isTokenValid(t.token);

/** A forced rotation whose job fails for good at the test step: the rotation stays recorded, the new token stored as AWSPENDING. */
async function stopAtTest(s: Scenario): Promise<void> {
  // The inspection lists the tokens once; the test step's listing (with the new token) and all after it fail.
  hosts.credly.faults.add({
    match: { method: 'GET', path: new RegExp(`/organizations/${s.organizationId}/authorization_tokens$`), server: 'api' },
    fault: { kind: 'status', status: 500 },
    skip: 1,
    times: Infinity,
  });
  expect((await s.run({ force: true, attempts: 1 })).state).toBe('failed');
  hosts.credly.faults.clear();
}

async function rotateForced(s: Scenario, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const result = await s.run({ force: true });
    expect(result.outcome, result.reason).toMatchObject({ action: 'rotated' });
  }
}

describe('every generation inside its overlap window is protected', () => {
  it('three forced rotations inside one window revoke nothing, nor does a run after Redis is flushed', async () => {
    const s = await scenario({ tokenAgeDays: 10, extra: 'revokePreviousAfter: 1h' });
    await rotateForced(s, 3);
    const generations = s.rotatorTokens();
    expect(generations).toHaveLength(3);
    // The token the first rotation made, replaced by the second minutes ago, still works.
    for (const t of [s.original, ...generations]) expect(valid(t), t.description ?? 'original').toBe(true);
    expect(hosts.credly.requests.filter((r) => r.method === 'DELETE' && r.path.includes(s.organizationId))).toEqual([]);

    // Redis loses everything: status, the rotation records and the delayed revokes. Secrets Manager
    // dates no promotion, so the first check after it finds the current version's promotion time
    // unknown: it takes the later bound, now, and records it. Nothing is revoked.
    await s.flushRedis();
    let logged = s.logs.length;
    expect((await s.run()).outcome).toMatchObject({ action: 'not-due' });
    for (const t of [s.original, ...generations]) expect(valid(t)).toBe(true);
    expect(s.logs.slice(logged).some((l) => l.includes('orphans inside an overlap window'))).toBe(true);

    // A minute before that window ends, still nothing; an hour after that check, the window counted
    // from it is over: the reaper takes the earlier generation no stage holds. AWSPREVIOUS keeps the
    // one the current token replaced.
    advance(s, HOUR - 60_000);
    logged = s.logs.length;
    expect((await s.run()).outcome).toMatchObject({ action: 'not-due' });
    const [first, second, third] = generations;
    expect(valid(first!)).toBe(true);
    expect(s.logs.slice(logged).some((l) => l.includes('orphans inside an overlap window'))).toBe(true);
    advance(s, 61_000);
    expect((await s.run()).outcome).toMatchObject({ action: 'not-due' });
    expect(valid(first!)).toBe(false);
    expect(valid(second!)).toBe(true);

    // The next rotation records its promotion; once its window is over, the reaper takes every
    // earlier generation no stage holds.
    await rotateForced(s, 1);
    const fourth = s.rotatorTokens().find((t) => ![first, second, third].some((g) => g!.id === t.id));
    advance(s, HOUR + 1_000);
    expect((await s.run()).outcome).toMatchObject({ action: 'not-due' });
    expect(valid(second!)).toBe(false);
    // Still AWSPREVIOUS (the reaper never takes a staged credential) and current.
    expect(valid(third!)).toBe(true);
    expect(valid(fourth!)).toBe(true);
    expect((await s.current()).tokenId).toBe(fourth!.id);
  });

  it("a delayed revoke that comes due inside a later rotation's window is deferred to that window's end", async () => {
    const s = await scenario({ tokenAgeDays: 10, extra: 'revokePreviousAfter: 1h' });
    await rotateForced(s, 1);
    advance(s, 50 * 60_000);
    await rotateForced(s, 1);
    const [first] = s.rotatorTokens();
    // The first rotation's window (of the original token) is over; the second's is not.
    advance(s, 15 * 60_000);
    expect(await s.promoteDelayed()).toHaveLength(2);
    await expect.poll(() => s.logs.filter((l) => l.includes('revoke deferred')).length, { timeout: 10_000 }).toBe(2);
    expect(valid(s.original)).toBe(true);
    expect(valid(first!)).toBe(true);
    advance(s, HOUR);
    await s.promoteDelayed();
    await expect.poll(() => valid(s.original) || valid(first!), { timeout: 10_000 }).toBe(false);
    expect(hosts.credly.state.isTokenValid((await s.current()).token)).toBe(true);
  });
});

describe('never revoke what a stage of the secret holds', () => {
  for (const [form, write] of [
    ['{"token": "…"} (the runbook\'s form)', (token: string) => JSON.stringify({ token })],
    ['a bare token string', (token: string) => `${token}\n`],
  ] as const) {
    it(`keeps a token a person wrote back by hand as ${form}, records why, and leaks nothing`, async () => {
      const s = await scenario({ extra: 'revokePreviousAfter: 1h' });
      expect((await s.run()).outcome).toMatchObject({ action: 'rotated' });
      await s.putByHand(write(s.original.token));
      advance(s, HOUR + 1_000);
      expect(await s.promoteDelayed()).toHaveLength(1);
      await expect.poll(() => s.logs.some((l) => l.includes('revoke cancelled')), { timeout: 10_000 }).toBe(true);
      expect(valid(s.original)).toBe(true);
      expect((await s.current()).token).toBe(s.original.token);
      const logs = s.logs.join('\n');
      expect(logs).toContain('AWSCURRENT holds it');
      const redis = await s.redisText();
      expect(redis).toContain(`${s.original.id}: AWSCURRENT holds it`);
      for (const value of s.tokenValues()) {
        expect(logs.includes(value)).toBe(false);
        expect(redis.includes(value)).toBe(false);
      }
    });
  }
});

describe('the reaper never takes what a stage holds', () => {
  it('keeps a pending token whose rotation record Redis lost', async () => {
    const s = await scenario({ tokenAgeDays: 10 });
    await stopAtTest(s);
    const [pending] = s.rotatorTokens();
    expect([...(await s.stages()).values()].flat().sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
    await s.flushRedis();
    expect((await s.run()).outcome).toMatchObject({ action: 'not-due' });
    expect(valid(pending!)).toBe(true);
    expect(hosts.credly.requests.filter((r) => r.method === 'DELETE' && r.path.includes(s.organizationId))).toEqual([]);
  });
});

describe('no second rotation from a re-run', () => {
  it('a job that resumed and finished a rotation, run again by BullMQ, starts no other', async () => {
    const s = await scenario({ tokenAgeDays: 10 });
    await stopAtTest(s);
    const resumed = await s.run({ force: true, jobId: 'manual-resumer' });
    expect(resumed.outcome, resumed.reason).toMatchObject({ action: 'rotated' });
    const again = await s.run({ force: true, jobId: 'manual-resumer' });
    expect(again.outcome).toMatchObject({ action: 'already-done' });
    expect(s.rotatorTokens()).toHaveLength(1);
    expect((await s.current()).tokenId).toBe(s.rotatorTokens()[0]!.id);
  });
});

describe('a new token must be as capable as the old', () => {
  it('a token created with fewer rights fails the rotation before promotion, is deleted, and the old one stays current', async () => {
    const readOnly = await startCredlyFake({ createdTokenRights: 'read-only' });
    const opened: Scenario[] = [];
    try {
      const s = await startScenario(readOnly, hosts.sm);
      opened.push(s);
      const result = await s.run({ attempts: 3 });
      expect(result.state).toBe('failed');
      expect(result.reason).toContain('lacks write_enabled, delete_enabled');
      expect(s.logs.filter((l) => l.includes('"msg":"job: failed"') && l.includes('"permanent":true'))).toHaveLength(1);
      expect((await s.current()).token).toBe(s.original.token);
      expect(readOnly.state.isTokenValid(s.original.token)).toBe(true);
      const made = s.rotatorTokens();
      expect(made).toHaveLength(1);
      expect(made[0]!.writeEnabled).toBe(false);
      expect(readOnly.state.isTokenValid(made[0]!.token)).toBe(false);
      expect([...(await s.stages()).values()].flat()).toEqual(['AWSCURRENT']);
    } finally {
      await Promise.all(opened.map((s) => s.close()));
      await readOnly.close();
    }
  });
});
