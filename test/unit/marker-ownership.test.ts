import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseMarker, rotatorDescription } from '../../src/kinds/credly/marker.ts';
import { madeForAnotherSecret, ownershipOf, type Owner } from '../../src/rotation/revoke-guard.ts';
import { secretDigest, type ListedCredential } from '../../src/rotation/rotation-provider.ts';

const OWNER: Owner = { credentialId: 'credly-main', scope: '{rotator}', secretId: 'prod/credly/main' };
const listed = (description: string | null): ListedCredential => ({
  ref: randomUUID(),
  createdAt: new Date(0),
  values: [],
  ...(parseMarker(description) ? { marker: parseMarker(description)! } : {}),
});
const marked = (where: { credentialId?: string; scope: string; secretId: string }) =>
  listed(rotatorDescription(randomUUID(), where.credentialId ?? OWNER.credentialId, { scope: where.scope, secretId: where.secretId, replaces: '' }));

describe('whose a listed credential is, by its marker', () => {
  it('is ours only with this credential id, this scope and the digest of this secret', () => {
    expect(ownershipOf(marked({ scope: '{rotator}', secretId: 'prod/credly/main' }), OWNER)).toBe('ours');
  });

  it('is foreign when the marker names another secret: another deployment at the same prefix, or an earlier secretId', () => {
    const other = marked({ scope: '{rotator}', secretId: 'staging/credly/main' });
    expect(ownershipOf(other, OWNER)).toBe('foreign');
    expect(madeForAnotherSecret(other, OWNER)).toBe(true);
    // A secret id differing only in case or by a trailing character is another name.
    expect(ownershipOf(marked({ scope: '{rotator}', secretId: 'prod/credly/Main' }), OWNER)).toBe('foreign');
    expect(ownershipOf(marked({ scope: '{rotator}', secretId: 'prod/credly/main ' }), OWNER)).toBe('foreign');
  });

  it('is foreign for another credential or another scope, which are not named as made for another secret', () => {
    for (const item of [marked({ credentialId: 'credly-other', scope: '{rotator}', secretId: 'prod/credly/main' }), marked({ scope: '{b}', secretId: 'x' })]) {
      expect(ownershipOf(item, OWNER)).toBe('foreign');
      expect(madeForAnotherSecret(item, OWNER)).toBe(false);
    }
    // Another scope, written before digests existed: still another deployment's.
    expect(ownershipOf(listed(`credential-rotator ${randomUUID()} credential=credly-main scope={b} replaces=-`), OWNER)).toBe('foreign');
  });

  it('is legacy, never reaped, for markers written before scopes, or with this scope before secret digests', () => {
    const beforeScopes = listed(rotatorDescription(randomUUID(), 'credly-main'));
    const beforeDigests = listed(`credential-rotator ${randomUUID()} credential=credly-main scope={rotator} replaces=42`);
    for (const item of [beforeScopes, beforeDigests]) {
      expect(ownershipOf(item, OWNER)).toBe('legacy');
      expect(madeForAnotherSecret(item, OWNER)).toBe(false);
    }
    expect(beforeDigests.marker).toEqual({ rotationId: expect.any(String), credentialId: 'credly-main', scope: '{rotator}', replaces: '42' });
  });

  it('is unmarked without a marker, or with a malformed digest', () => {
    expect(ownershipOf(listed('made by hand'), OWNER)).toBe('unmarked');
    expect(ownershipOf(listed(null), OWNER)).toBe('unmarked');
    expect(ownershipOf(listed(`credential-rotator ${randomUUID()} credential=credly-main scope={rotator} secret=XYZ replaces=-`), OWNER)).toBe('unmarked');
  });

  it('carries a digest of the secret name, never the name itself, in a description of bounded length', () => {
    const description = rotatorDescription(randomUUID(), 'credly-main', { scope: '{rotator}', secretId: 'prod/credly/main', replaces: '123456' });
    expect(description).toContain(`secret=${secretDigest('prod/credly/main')} `);
    expect(description).not.toContain('prod/credly/main');
    expect(secretDigest('prod/credly/main')).toBe(secretDigest('prod/credly/main'));
    expect(secretDigest('prod/credly/main')).not.toBe(secretDigest('prod/credly/main2'));
  });
});
