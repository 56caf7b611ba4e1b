import { describe, expect, it } from 'vitest';
import { useRotationScenarios, type Scenario } from '../support/rotation-harness.ts';

/*
 * Failures that look permanent but pass: each must be retried a bounded number of times, and the
 * rotation must end as one rotation, never abandoned, never failed for good.
 */
const { hosts, scenario } = useRotationScenarios();

/** One new token made by the rotator, current and working; the original revoked. */
async function expectOneRotation(s: Scenario): Promise<void> {
  const current = await s.current();
  expect(current.token).not.toBe(s.original.token);
  expect(hosts.credly.state.isTokenValid(current.token)).toBe(true);
  expect(hosts.credly.state.isTokenValid(s.original.token)).toBe(false);
  expect(s.rotatorTokens().map((t) => t.id)).toEqual([current.tokenId]);
}

describe('transient, not permanent (real Redis, moto, the Credly fake over HTTP)', () => {
  it('a token missing from a listing that shifted while it was read is read again, and found', async () => {
    // The credential's token is the first of page 2; a token before it goes while page 2 is asked.
    const s = await scenario({ tokensBefore: 100, tokenAgeDays: 10 });
    const first = hosts.credly.state.tokens(s.organizationId)[0]!;
    hosts.credly.faults.add({ match: { method: 'GET', path: /authorization_tokens$/ }, skip: 1, fault: { kind: 'latency', ms: 500 } });
    const pages = () => hosts.credly.requests.filter((r) => r.path.endsWith('/authorization_tokens') && r.query.page === '2').length;
    const running = s.run();
    await expect.poll(pages, { timeout: 10_000 }).toBe(1);
    hosts.credly.state.killToken(first.id);
    const result = await running;
    expect(result.state, result.reason).toBe('completed');
    expect(result.outcome).toMatchObject({ action: 'not-due' });
    expect(pages()).toBeGreaterThanOrEqual(1);
    expect((await s.current()).token).toBe(s.original.token);
  });

  it('a brand-new token refused once right after creation is asked again, and the rotation finishes', async () => {
    // With the organization endpoint on, its only GET is in the test of the new token.
    const s = await scenario({ extra: 'testWithOrganizationEndpoint: true' });
    hosts.credly.faults.add({ match: { method: 'GET', path: new RegExp(`/organizations/${s.organizationId}$`) }, fault: { kind: 'status', status: 401 } });
    const result = await s.run({ attempts: 1 });
    expect(result.state, result.reason).toBe('completed');
    await expectOneRotation(s);
    expect(s.logs.some((l) => l.includes('the new credential was refused right after creation; asking again'))).toBe(true);
  });

  it('HTTP 408 on the create is retried (the request never arrived whole), and makes one token', async () => {
    const s = await scenario();
    hosts.credly.faults.add({ match: { method: 'POST', path: /authorization_tokens$/ }, fault: { kind: 'status', status: 408 } });
    const result = await s.run({ attempts: 1 });
    expect(result.state, result.reason).toBe('completed');
    await expectOneRotation(s);
  });

  it('expired AWS session credentials (ExpiredTokenException) are retried, not taken as access denied', async () => {
    const s = await scenario();
    hosts.sm.add({ operation: 'PutSecretValue', times: 2, fault: { kind: 'status', status: 400, type: 'ExpiredTokenException' } });
    const result = await s.run();
    expect(result.state, result.reason).toBe('completed');
    await expectOneRotation(s);
    expect(s.logs.some((l) => l.includes('AWS credentials expired; fresh ones are fetched on the next try'))).toBe(true);
  });

  it('HTTP 408 from Secrets Manager (a proxy in front of it) is retried', async () => {
    const s = await scenario();
    hosts.sm.add({ operation: 'UpdateSecretVersionStage', times: 2, fault: { kind: 'status', status: 408, type: 'ProxyTimeout' } });
    const result = await s.run();
    expect(result.state, result.reason).toBe('completed');
    await expectOneRotation(s);
  });
});
