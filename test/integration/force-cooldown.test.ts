/**
 * The cooldown on forced rotations and the default overlap, against real Redis, the Secrets
 * Manager emulator and the Credly fake over HTTP, with an in-process worker (rotation-harness.ts):
 * the cooldown's date is Secrets Manager's, the default ten minutes end on the rotator's clock, and
 * the default hour of overlap alone keeps every replaced token working through a burst of forced
 * rotations.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { forceCooldownOf } from '../../src/rotation/force-cooldown.ts';
import { AWSCURRENT } from '../../src/secrets/secret-store.ts';
import { store } from '../support/credentials.ts';
import { rotationOutcome } from '../support/job-outcome.ts';
import { useRotationScenarios } from '../support/rotation-harness.ts';

const { hosts, scenario } = useRotationScenarios();
const MINUTE = 60_000;

async function currentVersionId(secretId: string): Promise<string> {
  return (await store.listVersions(secretId)).find((v) => v.stages.includes(AWSCURRENT))!.versionId;
}

describe('forceCooldownOf, dated by Secrets Manager', () => {
  it('runs from the creation date of the AWSCURRENT version; none for a missing secret or a cooldown of 0', async () => {
    const secretId = `test/cooldown/${randomUUID().slice(0, 8)}`;
    const now = new Date();
    expect(await forceCooldownOf(store, secretId, 10 * MINUTE, now), 'a missing secret has no cooldown').toBeUndefined();

    await store.putCurrent(secretId, '{"token":"first"}');
    const first = await currentVersionId(secretId);
    const createdAt = (await store.versionCreatedAt(secretId, first))!;
    const inside = await forceCooldownOf(store, secretId, 10 * MINUTE, createdAt);
    expect(inside).toEqual({ versionId: first, createdAt, possibleAt: new Date(createdAt.getTime() + 10 * MINUTE) });
    expect(await forceCooldownOf(store, secretId, 10 * MINUTE, new Date(createdAt.getTime() + 10 * MINUTE - 1))).toMatchObject({ versionId: first });
    expect(await forceCooldownOf(store, secretId, 10 * MINUTE, new Date(createdAt.getTime() + 10 * MINUTE)), 'over at its end').toBeUndefined();
    expect(await forceCooldownOf(store, secretId, 0, createdAt), '0s turns it off').toBeUndefined();

    // A new AWSCURRENT version starts a cooldown of its own.
    await store.putCurrent(secretId, '{"token":"second"}');
    const second = await currentVersionId(secretId);
    expect(second).not.toBe(first);
    expect((await forceCooldownOf(store, secretId, 10 * MINUTE, new Date()))?.versionId).toBe(second);
  });
});

describe('forced rotations with the product defaults, in-process worker', () => {
  it('refuse a forced rotation inside the default ten minutes without touching Credly, and run it once the clock has passed them', async () => {
    const s = await scenario({ defaults: '' });
    // Due: the first check rotates.
    expect((await s.run()).outcome).toMatchObject({ action: 'rotated' });
    const rotated = await s.current();
    const version = await currentVersionId(s.secretId);
    const requests = hosts.credly.requests.length;
    const posts = () => hosts.credly.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/authorization_tokens')).length;
    const postsBefore = posts();

    const refused = await s.run({ force: true });
    expect(refused).toMatchObject({ state: 'completed', outcome: { status: 'skipped', action: 'force-refused', currentVersionId: version } });
    expect(hosts.credly.requests.length, 'the refusal still inspects').toBeGreaterThan(requests);
    expect(posts(), 'a token was created').toBe(postsBefore);
    expect(await currentVersionId(s.secretId)).toBe(version);
    expect(hosts.credly.state.isTokenValid(s.original.token), 'the replaced token is inside its hour').toBe(true);

    // The rotator's clock past the ten minutes (an injected clock, no sleep): the forced rotation runs.
    s.advance(10 * MINUTE + 1_000);
    const forced = await s.run({ force: true });
    expect(forced.outcome).toMatchObject({ action: 'rotated' });
    expect((await s.current()).token).not.toBe(rotated.token);
    expect(hosts.credly.state.isTokenValid(rotated.token), 'the replaced token is inside its hour').toBe(true);
    const logs = s.logs.join('\n');
    for (const value of s.tokenValues()) expect(logs.includes(value), 'a token value is in the log').toBe(false);
  });

  it('with the cooldown off, eight forced jobs at once revoke no token in use: the default hour keeps every replaced token working', async () => {
    const s = await scenario({ defaults: '', extra: 'forceCooldown: 0s', tokenAgeDays: 10 });
    const results = await Promise.all(Array.from({ length: 8 }, () => s.run({ force: true })));
    expect(results.map((r) => r.outcome && rotationOutcome(r.outcome).action)).toEqual(Array.from({ length: 8 }, () => 'rotated'));
    // Eight rotations, one after another (one lock per credential): eight new tokens.
    const made = s.rotatorTokens();
    expect(made).toHaveLength(8);
    expect(hosts.credly.state.isTokenValid(s.original.token), 'the token in use before the burst was revoked').toBe(true);
    for (const token of made) expect(hosts.credly.state.isTokenValid(token.token), `token ${token.id} was revoked`).toBe(true);
    expect(hosts.credly.requests.filter((r) => r.method === 'DELETE' && r.path.includes(s.organizationId))).toEqual([]);
    // Each replaced token waits for its own revoke, an hour later.
    const delayed = await s.queue.getDelayed();
    expect(delayed.filter((j) => j.name === 'revoke-previous')).toHaveLength(8);
  });
});
