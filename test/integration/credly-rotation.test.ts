import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rotatorDescription } from '../../src/kinds/credly/marker.ts';
import type { Fault } from '../fakes/faults.ts';
import { DAY, useRotationScenarios, type Scenario } from '../support/rotation-harness.ts';
import type { SmFault } from '../support/sm-proxy.ts';
import { rotationOutcome } from '../support/job-outcome.ts';

const { hosts, scenario } = useRotationScenarios();

/** No token value of the organization in Redis (every key under the prefix) or in the worker's log. */
async function expectNoSecretsLeaked(s: Scenario): Promise<void> {
  const redis = await s.redisText();
  const logs = s.logs.join('\n');
  expect(redis.length).toBeGreaterThan(0);
  expect(logs.length).toBeGreaterThan(0);
  for (const value of s.tokenValues()) {
    expect(redis.includes(value), 'a token value is in Redis').toBe(false);
    expect(logs.includes(value), 'a token value is in the log').toBe(false);
  }
}

/** The end state every successful rotation must reach. */
async function expectRotated(s: Scenario): Promise<void> {
  const current = await s.current();
  expect(current.token).not.toBe(s.original.token);
  expect(hosts.credly.state.isTokenValid(current.token)).toBe(true);
  expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(false);
  // Exactly one rotation: one token made by the rotator for this credential, and it is the current one.
  const live = s.rotatorTokens().filter((t) => hosts.credly.state.isTokenLive(t));
  expect(live.map((t) => t.id)).toEqual([current.tokenId]);
  const stages = [...(await s.stages()).values()].flat();
  expect(stages.filter((x) => x === 'AWSPENDING')).toEqual([]);
  // The revoked token is in no stage: its AWSPREVIOUS label was taken off before the revoke.
  expect((await s.stageValues()).filter((v) => v.includes(s.original.token))).toEqual([]);
}

describe('Credly authorization token rotation (real Redis, moto, the Credly fake over HTTP)', () => {
  it('rotates a token that expires within the threshold: new token current and working, old one previous and revoked', async () => {
    const s = await scenario({ tokenAgeDays: 170 });
    const result = await s.run();
    expect(result.state, result.reason).toBe('completed');
    expect(result.outcome).toMatchObject({ status: 'success', action: 'rotated', daysToExpiry: 179, previousState: 'revoked' });
    await expectRotated(s);
    const current = await s.current();
    const created = hosts.credly.state.findToken(current.tokenId!)!;
    expect(current).toEqual({
      token: created.token,
      tokenId: created.id,
      organizationId: s.organizationId,
      expiresAt: created.expiresAt.toISOString(),
      rotatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(created.description).toBe(
      rotatorDescription(rotationOutcome(result.outcome).rotationId!, s.credentialId, { scope: s.prefix, secretId: s.secretId, replaces: s.original.id }),
    );
    // The previous version holds the old token.
    const stages = await s.stages();
    expect([...stages.entries()].find(([, st]) => st.includes('AWSCURRENT'))?.[0]).toBe(rotationOutcome(result.outcome).rotationId);
    await expectNoSecretsLeaked(s);
  });

  it('skips a token that is not due, with its days to expiry, and rotates it when forced', async () => {
    const s = await scenario({ tokenAgeDays: 10 });
    const skipped = await s.run();
    expect(skipped.outcome).toMatchObject({ status: 'skipped', action: 'not-due', daysToExpiry: 169 });
    expect(skipped.outcome!.summary).toContain('expires in 169 day(s) (rotate within 30d)');
    expect((await s.current()).token).toBe(s.original.token);
    expect(s.rotatorTokens()).toEqual([]);

    const forced = await s.run({ force: true });
    expect(forced.outcome).toMatchObject({ status: 'success', action: 'rotated' });
    await expectRotated(s);
    await expectNoSecretsLeaked(s);
  });

  it('reads a bare token string, finds it by value, and writes the full shape back', async () => {
    const s = await scenario({ bare: true });
    expect((await s.run()).outcome).toMatchObject({ action: 'rotated' });
    await expectRotated(s);
    expect(Object.keys(await s.current()).sort()).toEqual(['expiresAt', 'organizationId', 'rotatedAt', 'token', 'tokenId']);
  });

  it('finds the current token on the third page of the list', async () => {
    const s = await scenario({ tokensBefore: 210 });
    const result = await s.run();
    expect(result.outcome).toMatchObject({ action: 'rotated' });
    await expectRotated(s);
    const pages = hosts.credly.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/authorization_tokens') && r.query.page === '3');
    expect(pages.length).toBeGreaterThan(0);
  });

  it('a read-only token ends in a clear permission failure, and the old token stays current and valid', async () => {
    const s = await scenario({ writeEnabled: false });
    const result = await s.run();
    expect(result.state).toBe('failed');
    expect(result.reason).toMatch(/create failed: .*403/);
    expect(result.reason).toMatch(/permission|write/i);
    expect((await s.current()).token).toBe(s.original.token);
    expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(true);
    expect(s.rotatorTokens()).toEqual([]);
    await expectNoSecretsLeaked(s);
  });

  it('a dead stored token fails at once, without retries, saying what to do', async () => {
    const s = await scenario();
    hosts.credly.state.killToken(s.original.id);
    const result = await s.run({ attempts: 5 });
    expect(result.state).toBe('failed');
    expect(result.reason).toContain('refused by Credly (401)');
    expect(result.reason).toContain(s.secretId);
    expect(s.logs.filter((l) => l.includes('"msg":"job: failed"') && l.includes('"permanent":true'))).toHaveLength(1);
    await expectNoSecretsLeaked(s);
  });

  it('with revokePreviousAfter, keeps the old token valid for the overlap window and revokes it from a delayed job', async () => {
    const s = await scenario({ extra: 'revokePreviousAfter: 1h' });
    const result = await s.run();
    expect(result.outcome).toMatchObject({ action: 'rotated', previousState: expect.stringMatching(/^revoke scheduled for /) });
    expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(true);
    // The next check (and its orphan reaping) leaves the previous token alone during its window.
    expect((await s.run()).outcome).toMatchObject({ action: 'not-due' });
    expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(true);

    const { Queue } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
    const queue = new Queue('credentials', { connection: redis, prefix: s.prefix });
    const delayed = await queue.getDelayed();
    expect(delayed.map((j) => j.name)).toEqual(['revoke-previous']);
    expect(delayed[0]!.opts.delay).toBe(3_600_000);
    expect(delayed[0]!.data).toEqual({ credentialId: s.credentialId, rotationId: rotationOutcome(result.outcome).rotationId, previousRef: s.original.id });
    // Run early, the job is put back: the window protects the old token whatever Redis says.
    await delayed[0]!.promote();
    await expect.poll(() => s.logs.some((l) => l.includes('revoke deferred')), { timeout: 10_000 }).toBe(true);
    expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(true);
    // The deferral is logged before the job is put back: promoted again only once it is delayed.
    await expect.poll(async () => (await queue.getJob(delayed[0]!.id!))!.getState(), { timeout: 10_000 }).toBe('delayed');
    s.advance(3_600_000);
    await (await queue.getJob(delayed[0]!.id!))!.promote();
    await expect.poll(() => hosts.credly.state.isTokenValid(s.original.token), { timeout: 10_000 }).toBe(false);
    await queue.close();
    redis.disconnect();
    await expectRotated(s);
  });

  it('where DELETE is switched off, sends none, and says the previous token is to be revoked by hand', async () => {
    const s = await scenario({ extra: 'deleteSupported: false' });
    const result = await s.run();
    expect(result.outcome).toMatchObject({ action: 'rotated', unrevoked: s.original.id });
    expect(rotationOutcome(result.outcome).previousState).toBe(
      `NOT revoked: no DELETE tried (deleteSupported: false); revoke ${s.original.id} by hand at the provider; it stays valid until ${s.original.expiresAt.toISOString()}`,
    );
    expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(true);
    expect(hosts.credly.requests.some((r) => r.method === 'DELETE' && r.path.includes(s.organizationId))).toBe(false);
  });

  it("reaps this credential's orphans, never a token it did not create or another credential's", async () => {
    const s = await scenario({ tokenAgeDays: 10 });
    const mark = (credentialId: string, scope: string, secretId = s.secretId) =>
      rotatorDescription(randomUUID(), credentialId, { scope, secretId, replaces: s.original.id });
    const orphans = [1, 2].map(() => hosts.credly.state.addToken(s.organizationId, { description: mark(s.credentialId, s.prefix) }));
    const othersOrphan = hosts.credly.state.addToken(s.organizationId, { description: mark('another-credential', s.prefix) });
    // Another deployment sharing the organization and the credential id: with its own prefix, and
    // with the same prefix but its own secret (or this credential under an earlier secretId).
    const otherDeployments = hosts.credly.state.addToken(s.organizationId, { description: mark(s.credentialId, '{other-deployment}') });
    const otherSecret = hosts.credly.state.addToken(s.organizationId, { description: mark(s.credentialId, s.prefix, `${s.secretId}-elsewhere`) });
    // Markers from before scopes, and from before secret digests.
    const legacy = hosts.credly.state.addToken(s.organizationId, { description: rotatorDescription(randomUUID(), s.credentialId) });
    const scopedLegacy = hosts.credly.state.addToken(s.organizationId, {
      description: `credential-rotator ${randomUUID()} credential=${s.credentialId} scope=${s.prefix} replaces=${s.original.id}`,
    });
    const lookalike = hosts.credly.state.addToken(s.organizationId, { description: 'credential-rotator was here' });
    expect((await s.run()).outcome).toMatchObject({ action: 'not-due' });
    for (const orphan of orphans) expect(hosts.credly.state.isTokenValid(orphan.token)).toBe(false);
    for (const kept of [othersOrphan, otherDeployments, otherSecret, legacy, scopedLegacy, lookalike, s.original]) {
      expect(hosts.credly.state.isTokenValid(kept.token)).toBe(true);
    }
    // Those that may be this credential's are named for a person.
    const { refs } = JSON.parse(s.logs.find((l) => l.includes('earlier credentials left alone'))!) as { refs: string[] };
    expect(refs.sort()).toEqual([otherSecret.id, legacy.id, scopedLegacy.id].sort());
  });

  it('after a secretId rename, never revokes the token made under the old name: the revoke is refused, the token named', async () => {
    const s = await scenario({ tokenAgeDays: 10 });
    // Made by this deployment for this credential while its secret had another name; the value copied into the new secret.
    const earlier = hosts.credly.state.addToken(s.organizationId, {
      description: rotatorDescription(randomUUID(), s.credentialId, { scope: s.prefix, secretId: `${s.secretId}-old-name`, replaces: '' }),
    });
    await s.putByHand(JSON.stringify({ token: earlier.token, tokenId: earlier.id }));
    const forced = await s.run({ force: true, attempts: 1 });
    expect(forced.state).toBe('failed');
    expect(forced.reason).toContain('its marker names another secret');
    // The rotation itself is done: the new token is current and works; the old one still works too.
    const current = await s.current();
    expect(current.tokenId).not.toBe(earlier.id);
    expect(hosts.credly.state.isTokenValid(current.token)).toBe(true);
    expect(hosts.credly.state.isTokenValid(earlier.token)).toBe(true);
    // Later checks never reap it, and name it for a person.
    expect((await s.run()).outcome).toMatchObject({ action: 'not-due' });
    expect(hosts.credly.state.isTokenValid(earlier.token)).toBe(true);
    const named = s.logs.filter((l) => l.includes('earlier credentials left alone')).map((l) => (JSON.parse(l) as { refs: string[] }).refs);
    expect(named.at(-1)).toContain(earlier.id);
  });

  it('runs one rotation when two jobs for the credential arrive together', async () => {
    const s = await scenario();
    const [a, b] = await Promise.all([s.run(), s.run()]);
    expect([a.outcome?.action, b.outcome?.action].sort()).toEqual(['not-due', 'rotated']);
    await expectRotated(s);
    expect(s.logs.some((l) => l.includes('credential busy, delayed'))).toBe(true);
  });
});

// The test step is the third listing of a run (after inspect's and the reaper's): the new token lists itself.
const CREDLY_CALLS: Array<[string, { method: string; path: RegExp }, number]> = [
  ['list', { method: 'GET', path: /\/authorization_tokens$/ }, 0],
  ['create', { method: 'POST', path: /\/authorization_tokens$/ }, 0],
  ['test', { method: 'GET', path: /\/authorization_tokens$/ }, 2],
  ['revoke', { method: 'DELETE', path: /\/authorization_tokens\/[^/]+$/ }, 0],
];
const CREDLY_FAULTS: Array<[string, Fault]> = [
  ['429 with Retry-After', { kind: 'status', status: 429, retryAfter: 1 }],
  ['500', { kind: 'status', status: 500 }],
  ['a reset', { kind: 'reset' }],
  ['malformed JSON', { kind: 'malformed' }],
  ['a timeout', { kind: 'hang', ms: 3_000 }],
];

describe('Credly faults on every call: each run converges to one rotation', () => {
  it.each(CREDLY_CALLS.flatMap(([call, match, skip]) => CREDLY_FAULTS.map(([name, fault]) => [call, name, match, skip, fault] as const)))(
    '%s answered with %s',
    async (_call, _name, match, skip, fault) => {
      const s = await scenario();
      // Three in a row outlast the client's own retries, so the job itself retries too.
      hosts.credly.faults.add({ match: { ...match, server: 'api' }, skip, times: 3, fault });
      const result = await s.run();
      expect(result.state, result.reason).toBe('completed');
      expect(hosts.credly.faults.pending()).toBe(0);
      await expectRotated(s);
      await expectNoSecretsLeaked(s);
    },
  );
});

const SM_OPERATIONS = ['GetSecretValue', 'DescribeSecret', 'PutSecretValue', 'UpdateSecretVersionStage'];
const SM_FAULTS: Array<[string, SmFault]> = [
  ['500 InternalServiceError', { kind: 'status', status: 500, type: 'InternalServiceError' }],
  ['400 ThrottlingException', { kind: 'status', status: 400, type: 'ThrottlingException' }],
  ['a reset', { kind: 'reset' }],
  ['malformed JSON', { kind: 'malformed' }],
  ['a timeout', { kind: 'hang' }],
  ['a lost answer after the write', { kind: 'lose-answer' }],
];

describe('Secrets Manager faults on every call: each run converges, the old token valid until promotion', () => {
  it.each(SM_OPERATIONS.flatMap((operation) => SM_FAULTS.map(([name, fault]) => [operation, name, fault] as const)))(
    '%s answered with %s',
    async (operation, _name, fault) => {
      const s = await scenario();
      hosts.sm.add({ operation, times: 3, fault });
      const result = await s.run();
      expect(result.state, result.reason).toBe('completed');
      await expectRotated(s);
      await expectNoSecretsLeaked(s);
    },
  );
});

describe('days to expiry', () => {
  it('records the expiry and days left for status', async () => {
    const s = await scenario({ tokenAgeDays: 100 });
    const result = await s.run();
    expect(result.outcome).toMatchObject({ action: 'not-due', daysToExpiry: 79, expiresAt: new Date(s.original.expiresAt).toISOString() });
    expect(s.original.expiresAt.getTime() - Date.now()).toBeGreaterThan(79 * DAY);
    const text = await s.redisText();
    expect(text).toContain('"daysToExpiry":"79"');
  });
});
