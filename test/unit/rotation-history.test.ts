import { describe, expect, it } from 'vitest';
import { factsOf, triggerOf, withFacts, type RotationFacts } from '../../src/rotation/facts.ts';
import { readHistory, type HistoryDeps } from '../../src/rotation/history.ts';
import { SecretNotFoundError } from '../../src/secrets/errors.ts';
import type { SecretVersion } from '../../src/secrets/store-types.ts';
import type { ListedCredential } from '../../src/rotation/rotation-provider.ts';

const facts = (id: string, replaced: string | null, more: Partial<RotationFacts> = {}): RotationFacts => ({
  id,
  trigger: 'schedule',
  startedAt: '2026-12-01T00:00:00.000Z',
  actor: null,
  reason: null,
  replaced,
  ...more,
});

describe('rotation facts in a stored value', () => {
  it('sit beside the kind’s fields, read back whole, and are absent from a value no rotation wrote', () => {
    const value = withFacts(JSON.stringify({ token: 'tok-value', tokenId: 't2' }), facts('r1', 't1', { actor: 'alice', reason: 'audit finding' }));
    expect(JSON.parse(value)).toMatchObject({ token: 'tok-value', tokenId: 't2', rotation: { id: 'r1', replaced: 't1', actor: 'alice' } });
    expect(factsOf(value)).toEqual(facts('r1', 't1', { actor: 'alice', reason: 'audit finding' }));
    expect(factsOf('bare-token-value')).toBeUndefined();
    expect(factsOf(JSON.stringify({ token: 'x' }))).toBeUndefined();
    expect(factsOf(JSON.stringify({ token: 'x', rotation: { id: 'r', trigger: 'by magic' } }))).toBeUndefined();
  });

  it('name the trigger: a lost secret is a recreation, a credential not due a forced rotation, else who fired the job', () => {
    expect(triggerOf({ trigger: 'manual' }, { previousRef: '', due: true })).toBe('recreate');
    expect(triggerOf({ trigger: 'manual' }, { previousRef: 't1', due: false })).toBe('forced');
    expect(triggerOf({ trigger: 'manual' }, { previousRef: 't1', due: true })).toBe('manual');
    expect(triggerOf({ trigger: 'schedule' }, { previousRef: 't1', due: true })).toBe('schedule');
    expect(triggerOf({ trigger: 'startup' }, { previousRef: 't1', due: true })).toBe('schedule');
  });
});

/** A secret's versions in memory: id → value, labels and date. */
function secrets(versions: Array<{ id: string; value: string; stages: string[]; at: string }>): HistoryDeps['secrets'] {
  const find = (id: string) => {
    const v = versions.find((x) => x.id === id);
    if (!v) throw new SecretNotFoundError('no such secret', { secretId: 's', operation: 'list-versions', permanent: true });
    return v;
  };
  return {
    listVersions: async (): Promise<SecretVersion[]> => versions.map((v) => ({ versionId: v.id, stages: v.stages })),
    readVersion: async (_s, id) => ({ versionId: id, secretString: find(id).value }),
    versionCreatedAt: async (_s, id) => new Date(find(id).at),
    readCurrent: async () => {
      const v = versions.find((x) => x.stages.includes('AWSCURRENT'))!;
      return { versionId: v.id, secretString: v.value };
    },
  };
}

const provider = (listed: string[] | Error) => ({
  parseSecret: (text: string) => JSON.parse(text) as { tokenId?: string },
  refOf: (s: { tokenId?: string }) => s.tokenId,
  list: async (): Promise<ListedCredential[]> => {
    if (listed instanceof Error) throw listed;
    return listed.map((ref) => ({ ref, createdAt: new Date(0), values: [] }));
  },
});

const credential = { id: 'c1', secretId: 's' };
const versions = [
  { id: 'seed', value: JSON.stringify({ token: 'v0', tokenId: 't0' }), stages: [], at: '2026-11-01T00:00:00.000Z' },
  { id: 'r1', value: withFacts(JSON.stringify({ token: 'v1', tokenId: 't1' }), facts('r1', 't0')), stages: ['AWSPREVIOUS'], at: '2026-11-10T00:00:00.000Z' },
  {
    id: 'r2',
    value: withFacts(JSON.stringify({ token: 'v2', tokenId: 't2' }), facts('r2', 't1', { trigger: 'forced' })),
    stages: ['AWSCURRENT'],
    at: '2026-12-01T00:00:00.000Z',
  },
];

describe('readHistory', () => {
  it('newest first; revoked from the listing, pending with its time while Redis still knows', async () => {
    const history = await readHistory({ secrets: secrets(versions) }, provider(['t1', 't2']), credential, {
      previousRef: 't1',
      previousRevokeAt: '2026-12-02T00:00:00.000Z',
    });
    expect(history.entries.map((e) => [e.rotationId, e.credentialRef, e.replacedRef, e.revoked, e.revokeAt])).toEqual([
      ['r2', 't2', 't1', 'pending', '2026-12-02T00:00:00.000Z'],
      ['r1', 't1', 't0', true, undefined],
    ]);
    expect(history.reach).toMatchObject({ versions: 3, withoutFacts: 1, oldest: '2026-11-01T00:00:00.000Z' });
  });

  it('without Redis a listed replaced credential is not revoked; with no listing, unknown, and the error named, never its text', async () => {
    const bare = await readHistory({ secrets: secrets(versions) }, provider(['t1', 't2']), credential, undefined);
    expect(bare.entries.map((e) => e.revoked)).toEqual([false, true]);
    const refused = Object.assign(new Error('answer with tok-value-leak'), { name: 'ProviderAuthError' });
    const blind = await readHistory({ secrets: secrets(versions) }, provider(refused), credential, undefined, { limit: 1 });
    expect(blind.entries.map((e) => e.revoked)).toEqual(['unknown']);
    expect(blind.listingError).toBe("the provider's listing could not be read (ProviderAuthError)");
    expect(JSON.stringify(blind)).not.toMatch(/tok-value|v0|v1|v2/);
  });

  it('a secret that does not exist has no history', async () => {
    const none = await readHistory(
      {
        secrets: {
          ...secrets([]),
          listVersions: async () => {
            throw new SecretNotFoundError('no such secret', { secretId: 's', operation: 'list-versions', permanent: true });
          },
        },
      },
      provider([]),
      credential,
      undefined,
    );
    expect(none.entries).toEqual([]);
    expect(none.reach.versions).toBe(0);
  });
});

describe('readHistory ordering', () => {
  it('two versions Secrets Manager dated in the same second come in the order their rotations began', async () => {
    const same = '2026-12-01T00:00:00.000Z';
    const a = {
      id: 'a',
      value: withFacts(JSON.stringify({ tokenId: 't1' }), facts('a', 't0', { startedAt: '2026-12-01T00:00:00.100Z' })),
      stages: ['AWSPREVIOUS'],
      at: same,
    };
    const b = {
      id: 'b',
      value: withFacts(JSON.stringify({ tokenId: 't2' }), facts('b', 't1', { startedAt: '2026-12-01T00:00:00.700Z' })),
      stages: ['AWSCURRENT'],
      at: same,
    };
    // Whichever order the listing gives them in.
    for (const listed of [
      [b, a],
      [a, b],
    ]) {
      const history = await readHistory({ secrets: secrets(listed) }, provider(['t0', 't1', 't2']), credential, undefined);
      expect(history.entries.map((e) => e.rotationId)).toEqual(['b', 'a']);
    }
  });
});
