// Events to consumers: the inventory's `events:` and `consumerRefresh`, and the facts a job's
// outcome establishes. Delivery over HTTP by a worker process: test/integration/events-process.test.ts.
import { describe, expect, it } from 'vitest';
import type { JobOutcome } from '../../jobs/index.ts';
import { ConfigError } from '../../src/config/index.ts';
import { eventId, factsOf } from '../../src/events/events.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import type { CredentialStatus } from '../../src/state/rotation-state.ts';

const ORG = '5c1e7a52-3f8b-4e2d-9a61-0d4b7c2e8f13';
const token = (extra = '') => `  - id: hr-token
    kind: credly-authorization-token
    secretId: s/hr
    organizationId: ${ORG}
    environment: production
${extra}`;

function problems(text: string) {
  try {
    parseInventory(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('events: the inventory', () => {
  it('reads receivers with their secret reference and credential filter', () => {
    const inventory = parseInventory(`version: 1
credentials:
${token()}events:
  - id: lms
    url: https://lms.example/hooks/rotator
    signingSecret: { env: LMS_HOOK_SECRET }
    credentials: [hr-token]
  - id: all
    url: https://hub.example/rotator
    signingSecret: { secretId: ops/event-hub-key }
`);
    expect(inventory.events).toEqual([
      { id: 'lms', url: 'https://lms.example/hooks/rotator', signingSecret: { env: 'LMS_HOOK_SECRET' }, credentials: ['hr-token'] },
      { id: 'all', url: 'https://hub.example/rotator', signingSecret: { secretId: 'ops/event-hub-key' } },
    ]);
    expect(parseInventory(`version: 1\ncredentials:\n${token()}`).events).toEqual([]);
  });

  it('names a duplicate receiver, an unknown credential and a plain-http receiver by path', () => {
    expect(
      problems(`version: 1
credentials:
${token()}events:
  - id: lms
    url: https://lms.example/a
    signingSecret: { env: A }
    credentials: [nope]
  - id: lms
    url: http://lms.example/b
    signingSecret: { env: B }
`).map((p) => p.path),
    ).toEqual(expect.arrayContaining(['events[1].id', 'events[0].credentials[0]', 'events[1].url']));
  });

  it('refuses an overlap shorter than consumerRefresh, at the overlap, whichever way it was set', () => {
    const written = problems(`version: 1\ncredentials:\n${token('    revokePreviousAfter: 30m\n    consumerRefresh: 2h\n')}`);
    expect(written).toEqual([
      {
        path: 'credentials[0].revokePreviousAfter',
        message:
          'is 30m, shorter than consumerRefresh (2h): a consumer may still use the replaced credential when it is revoked; make the overlap at least consumerRefresh',
      },
    ]);
    // The default overlap (1h) is judged too.
    expect(problems(`version: 1\ncredentials:\n${token('    consumerRefresh: 90m\n')}`).map((p) => p.path)).toEqual(['credentials[0].revokePreviousAfter']);
    const fine = parseInventory(`version: 1\ncredentials:\n${token('    revokePreviousAfter: 2h\n    consumerRefresh: 2h\n')}`);
    expect(fine.credentials[0]).toMatchObject({ revokePreviousAfterMs: 7_200_000, consumerRefreshMs: 7_200_000 });
  });
});

describe('events: the facts of a job outcome', () => {
  const credentials = [{ id: 'hr-token', secretId: 's/hr', revokePreviousAfterMs: 3_600_000 }];
  const NOW = new Date('2026-12-07T12:00:00.000Z');
  const ROTATION = '0b1f4c2e-8a77-4d6a-9c1e-2f3a4b5c6d7e';
  const state = (status: CredentialStatus) => ({ readStatus: async () => status });
  const facts = (outcome: Partial<JobOutcome>, status: CredentialStatus = {}) =>
    factsOf({ credentialId: 'hr-token', kind: 'credly-authorization-token', summary: '', status: 'success', ...outcome } as JobOutcome, {
      credentials,
      state: state(status),
      now: () => NOW,
    });

  it('a rotation: rotated, dated by its record, the replaced credential revoked after the overlap', async () => {
    const status = { lastRotationId: ROTATION, lastRotatedAt: '2026-12-07T11:59:58.000Z' } as CredentialStatus;
    expect(await facts({ action: 'rotated', rotationId: ROTATION, previousState: `revoke scheduled for 2026-12-07T12:59:58.000Z` }, status)).toEqual([
      {
        type: 'credential.rotated',
        id: eventId('credential.rotated', 'hr-token', ROTATION),
        credentialId: 'hr-token',
        secretId: 's/hr',
        versionId: ROTATION,
        rotatedAt: '2026-12-07T11:59:58.000Z',
        previousRevokeAfter: '2026-12-07T12:59:58.000Z',
      },
    ]);
  });

  it('a rotation whose replaced credential went at once: rotated, then revoked; a job run again says the same, with the same ids', async () => {
    const status = { lastRotationId: ROTATION, lastRotatedAt: NOW.toISOString(), previousState: 'revoked' } as CredentialStatus;
    const first = await facts({ action: 'rotated', rotationId: ROTATION, previousState: 'revoked' }, status);
    expect(first.map((e) => [e.type, e.id])).toEqual([
      ['credential.rotated', `credential.rotated.hr-token.${ROTATION}`],
      ['credential.revoked', `credential.revoked.hr-token.${ROTATION}`],
    ]);
    expect(await facts({ action: 'already-done', rotationId: ROTATION }, status)).toEqual(first);
  });

  it('a delayed revoke: revoked when revoked or already gone, nothing when kept, not revoked or failed; nothing without a rotation', async () => {
    const revoke = (previousState: string) => facts({ action: 'revoke-handled', rotationId: ROTATION, previousState });
    expect((await revoke('revoked')).map((e) => e.type)).toEqual(['credential.revoked']);
    expect((await revoke('already gone at the provider')).map((e) => e.type)).toEqual(['credential.revoked']);
    expect(await revoke('kept: AWSCURRENT holds it')).toEqual([]);
    expect(await revoke('NOT revoked: still listed; revoke t-1 by hand at the provider')).toEqual([]);
    expect(await revoke('revoke failed: Credly answered 500')).toEqual([]);
    expect(await facts({ action: 'not-due' })).toEqual([]);
    expect(await facts({ action: 'validated' })).toEqual([]);
  });
});
