/**
 * Every delete the rotator sends is judged with the secret's stages read immediately before it: a
 * stage that changes between the decision to delete and the delete itself (a person putting the
 * credential back) keeps the credential. Real Redis, moto and the Credly fake over HTTP, with the
 * in-process worker built by the same wiring as `rotator worker`.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rotatorDescription } from '../../src/kinds/credly/marker.ts';
import { DAY, useRotationScenarios } from '../support/rotation-harness.ts';

describe('the reaper reads the stages again before each delete', () => {
  const { hosts, scenario } = useRotationScenarios();

  it('an orphan a person puts back into AWSCURRENT while the orphan before it is being deleted is kept', async () => {
    // Not due: the check only reaps.
    const s = await scenario({ tokenAgeDays: 10 });
    const orphan = () =>
      hosts.credly.state.addToken(s.organizationId, {
        description: rotatorDescription(randomUUID(), s.credentialId, { scope: s.prefix, secretId: s.secretId, replaces: s.original.id }),
        createdAt: new Date(Date.now() - 2 * DAY),
      });
    const orphans = [orphan(), orphan()];
    // The first delete is held at the fake: the reaper has decided on both orphans by then.
    hosts.credly.faults.add({ match: { method: 'DELETE', path: '/authorization_tokens/' }, fault: { kind: 'latency', ms: 2_000 } });
    const running = s.run({ attempts: 1 });
    const deletes = () => hosts.credly.requests.filter((r) => r.method === 'DELETE');
    await expect.poll(() => deletes().length, { timeout: 10_000, interval: 20 }).toBe(1);
    const first = orphans.find((o) => deletes()[0]!.path.endsWith(`/${o.id}`))!;
    const second = orphans.find((o) => o !== first)!;
    await s.putByHand(JSON.stringify({ token: second.token }));

    const result = await running;
    expect(result.state, result.reason).toBe('completed');
    expect(hosts.credly.state.isTokenValid(first.token), 'the first orphan was not reaped').toBe(false);
    expect(hosts.credly.state.isTokenValid(second.token), 'the orphan AWSCURRENT holds was deleted').toBe(true);
    expect((await s.current()).token).toBe(second.token);
    // The held delete may be sent again after the client's timeout: only ever for the first orphan.
    expect(deletes().filter((r) => !r.path.endsWith(`/${first.id}`))).toEqual([]);
  }, 30_000);
});

describe('a new token weaker than the one it replaces is deleted through the guard', () => {
  const { hosts, scenario } = useRotationScenarios({ credly: { createdTokenRights: 'read-only' } });

  it('kept when a person puts it into AWSCURRENT between its create and its delete', async () => {
    const s = await scenario();
    let finished = false;
    const tokenRequests = () => hosts.credly.requests.filter((r) => r.path.endsWith(`/${s.organizationId}/authorization_tokens`));
    const listedAfterCreate = () => tokenRequests().findIndex((r) => r.method === 'POST') >= 0 && tokenRequests().at(-1)!.method === 'GET';
    // Inspect and reap list the tokens before the create; the next listing is held at the fake.
    hosts.credly.faults.add({ match: { method: 'GET', path: `/${s.organizationId}/authorization_tokens` }, skip: 2, fault: { kind: 'latency', ms: 2_000 } });
    const running = s.run({ attempts: 1 }).finally(() => (finished = true));
    await expect.poll(() => listedAfterCreate() || finished, { timeout: 10_000, interval: 20 }).toBe(true);
    const [weak] = s.rotatorTokens();
    expect(weak).toBeDefined();
    await s.putByHand(JSON.stringify({ token: weak!.token }));

    const result = await running;
    expect(result.state).toBe('failed');
    expect(result.reason).toMatch(/WeakerCredentialError: .* lacks write_enabled, delete_enabled/);
    expect(hosts.credly.state.isTokenValid(weak!.token), 'the token AWSCURRENT holds was deleted').toBe(true);
    expect(hosts.credly.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(s.logs.some((l) => l.includes('rotation: the weaker new credential kept') && l.includes('AWSCURRENT holds it'))).toBe(true);
  }, 30_000);

  it('deleted when no stage holds it', async () => {
    const s = await scenario();
    const result = await s.run({ attempts: 1 });
    expect(result.state).toBe('failed');
    const [weak] = s.rotatorTokens();
    expect(hosts.credly.state.isTokenLive(weak!)).toBe(false);
    expect((await s.current()).token).toBe(s.original.token);
  }, 30_000);
});
