import { randomUUID } from 'node:crypto';
import { DeleteSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, createSecretStore, createSecretsManagerClient, type SecretVersion } from '../../src/secrets/secret-store.ts';
import { SecretConflictError, SecretNotFoundError, SecretStoreError } from '../../src/secrets/errors.ts';

// The real SDK against the emulator that globalSetup started (AWS_ENDPOINT_URL_SECRETS_MANAGER).
const client = createSecretsManagerClient({ maxAttempts: 1 });
const store = createSecretStore(client);
const run = randomUUID().slice(0, 8);
let n = 0;
/** Every test works on secrets of its own: the emulator is shared by all test files. */
const name = () => `test/${run}/secret-store-${++n}`;
const token = (label: string) => `${label}-${randomUUID()}`;
const value = (label: string) => JSON.stringify({ token: token(label) });

function stagesOf(versions: SecretVersion[], versionId: string): string[] | undefined {
  return versions.find((v) => v.versionId === versionId)?.stages.toSorted();
}

function labelled(versions: SecretVersion[], stage: string): string[] {
  return versions.filter((v) => v.stages.includes(stage)).map((v) => v.versionId);
}

async function failure(promise: Promise<unknown>): Promise<SecretStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretStoreError);
  return error as SecretStoreError;
}

describe('SecretStore against the Secrets Manager emulator', () => {
  it('reads the current version of a JSON secret and of a bare token string', async () => {
    const id = name();
    const json = value('json');
    const { versionId } = await store.putCurrent(id, json);
    expect(await store.readCurrent(id)).toEqual({ versionId, secretString: json });

    const bare = name();
    const created = await store.putCurrent(bare, 'abc123bare');
    expect(await store.readCurrent(bare)).toEqual({ versionId: created.versionId, secretString: 'abc123bare' });
  });

  it('puts a new current value over an existing secret, keeping the old one as AWSPREVIOUS', async () => {
    const id = name();
    const first = await store.putCurrent(id, value('first'));
    const secondValue = value('second');
    const second = await store.putCurrent(id, secondValue);
    expect(second.versionId).not.toBe(first.versionId);
    expect(await store.readCurrent(id)).toEqual({ versionId: second.versionId, secretString: secondValue });
    const versions = await store.listVersions(id);
    expect(stagesOf(versions, second.versionId)).toEqual([AWSCURRENT]);
    expect(stagesOf(versions, first.versionId)).toEqual([AWSPREVIOUS]);
  });

  it('returns no pending version when no rotation left one', async () => {
    const id = name();
    await store.putCurrent(id, value('current'));
    expect(await store.readPending(id)).toBeUndefined();
  });

  it('writes a pending version under the rotation id and reads it back, leaving AWSCURRENT alone', async () => {
    const id = name();
    const current = value('current');
    const before = await store.putCurrent(id, current);
    const rotationId = randomUUID();
    const next = value('next');

    expect(await store.putPending(id, rotationId, next)).toEqual({ versionId: rotationId });

    expect(await store.readPending(id)).toEqual({ versionId: rotationId, secretString: next });
    expect(await store.readVersion(id, rotationId)).toEqual({ versionId: rotationId, secretString: next });
    expect(await store.readCurrent(id)).toEqual({ versionId: before.versionId, secretString: current });
    const versions = await store.listVersions(id);
    expect(stagesOf(versions, rotationId)).toEqual([AWSPENDING]);
    expect(versions.find((v) => v.versionId === rotationId)?.createdAt).toBeInstanceOf(Date);
  });

  it('lands a retried pending write of the same rotation on the same version, leaving one pending version', async () => {
    const id = name();
    await store.putCurrent(id, value('current'));
    const rotationId = randomUUID();
    const next = value('next');
    await store.putPending(id, rotationId, next);

    expect(await store.putPending(id, rotationId, next)).toEqual({ versionId: rotationId });

    const versions = await store.listVersions(id);
    expect(labelled(versions, AWSPENDING)).toEqual([rotationId]);
    expect(versions).toHaveLength(2);
    expect(await store.readPending(id)).toEqual({ versionId: rotationId, secretString: next });
  });

  it('refuses the same rotation id with a different value, keeps the first value and echoes neither', async () => {
    const id = name();
    await store.putCurrent(id, value('current'));
    const rotationId = randomUUID();
    const firstToken = token('first');
    const first = JSON.stringify({ token: firstToken });
    await store.putPending(id, rotationId, first);
    const otherToken = token('second');
    const other = JSON.stringify({ token: otherToken });

    const error = await failure(store.putPending(id, rotationId, other));

    expect(error).toBeInstanceOf(SecretConflictError);
    expect(error.permanent).toBe(true);
    expect(error.message).toContain(id);
    expect(error.message).toContain('put-pending');
    for (const secret of [firstToken, otherToken]) {
      expect(error.message).not.toContain(secret);
    }
    expect(await store.readPending(id)).toEqual({ versionId: rotationId, secretString: first });
  });

  it('moves AWSPENDING to a later rotation', async () => {
    const id = name();
    await store.putCurrent(id, value('current'));
    const first = randomUUID();
    const second = randomUUID();
    await store.putPending(id, first, value('first'));
    const secondValue = value('second');

    await store.putPending(id, second, secondValue);

    expect(labelled(await store.listVersions(id), AWSPENDING)).toEqual([second]);
    expect(await store.readPending(id)).toEqual({ versionId: second, secretString: secondValue });
  });

  it('gives AWSPENDING back to a rotation whose write is retried after another rotation took it', async () => {
    const id = name();
    await store.putCurrent(id, value('current'));
    const first = randomUUID();
    const firstValue = value('first');
    await store.putPending(id, first, firstValue);
    await store.putPending(id, randomUUID(), value('second'));

    expect(await store.putPending(id, first, firstValue)).toEqual({ versionId: first });

    expect(labelled(await store.listVersions(id), AWSPENDING)).toEqual([first]);
  });

  it('promotes the pending version: it becomes AWSCURRENT, the old one AWSPREVIOUS, and AWSPENDING is gone', async () => {
    const id = name();
    const old = await store.putCurrent(id, value('old'));
    const rotationId = randomUUID();
    const next = value('next');
    await store.putPending(id, rotationId, next);

    await store.promote(id, rotationId);

    const versions = await store.listVersions(id);
    expect(stagesOf(versions, rotationId)).toEqual([AWSCURRENT]);
    expect(stagesOf(versions, old.versionId)).toEqual([AWSPREVIOUS]);
    expect(labelled(versions, AWSPENDING)).toEqual([]);
    expect(await store.readCurrent(id)).toEqual({ versionId: rotationId, secretString: next });
    expect(await store.readPending(id)).toBeUndefined();
  });

  it('promotes twice harmlessly, as a resumed job repeats its finish step', async () => {
    const id = name();
    const old = await store.putCurrent(id, value('old'));
    const rotationId = randomUUID();
    await store.putPending(id, rotationId, value('next'));
    await store.promote(id, rotationId);
    const once = await store.listVersions(id);

    await store.promote(id, rotationId);

    const twice = await store.listVersions(id);
    expect(twice.map((v) => [v.versionId, v.stages.toSorted()])).toEqual(once.map((v) => [v.versionId, v.stages.toSorted()]));
    expect(stagesOf(twice, rotationId)).toEqual([AWSCURRENT]);
    expect(stagesOf(twice, old.versionId)).toEqual([AWSPREVIOUS]);
  });

  it('finishes a promote that stopped after moving AWSCURRENT by removing the leftover AWSPENDING', async () => {
    const id = name();
    const old = await store.putCurrent(id, value('old'));
    const rotationId = randomUUID();
    await store.putPending(id, rotationId, value('next'));
    // A crash between promote's two calls: AWSCURRENT moved, AWSPENDING still on the new version.
    await client.send(
      new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: AWSCURRENT, MoveToVersionId: rotationId, RemoveFromVersionId: old.versionId }),
    );
    expect(stagesOf(await store.listVersions(id), rotationId)).toEqual([AWSCURRENT, AWSPENDING]);

    await store.promote(id, rotationId);

    const versions = await store.listVersions(id);
    expect(stagesOf(versions, rotationId)).toEqual([AWSCURRENT]);
    expect(stagesOf(versions, old.versionId)).toEqual([AWSPREVIOUS]);
  });

  it('keeps a promoted version current when its pending write is retried afterwards', async () => {
    const id = name();
    await store.putCurrent(id, value('old'));
    const rotationId = randomUUID();
    const next = value('next');
    await store.putPending(id, rotationId, next);
    await store.promote(id, rotationId);

    expect(await store.putPending(id, rotationId, next)).toEqual({ versionId: rotationId });

    const versions = await store.listVersions(id);
    expect(stagesOf(versions, rotationId)).toEqual([AWSCURRENT]);
    expect(labelled(versions, AWSPENDING)).toEqual([]);
  });

  it('refuses to promote a version that does not exist and leaves AWSCURRENT where it was', async () => {
    const id = name();
    const current = await store.putCurrent(id, value('current'));
    const missing = randomUUID();

    const error = await failure(store.promote(id, missing));

    expect(error).toBeInstanceOf(SecretConflictError);
    expect(error.message).toContain(missing);
    expect((await store.readCurrent(id)).versionId).toBe(current.versionId);
  });

  it('raises SecretNotFoundError naming the secret and the operation for every read of a missing secret', async () => {
    const id = name();
    const reads: Array<[string, () => Promise<unknown>]> = [
      ['read-current', () => store.readCurrent(id)],
      ['read-pending', () => store.readPending(id)],
      ['read-version', () => store.readVersion(id, randomUUID())],
      ['list-versions', () => store.listVersions(id)],
    ];
    for (const [operation, read] of reads) {
      const error = await failure(read());
      expect(error, operation).toBeInstanceOf(SecretNotFoundError);
      expect(error.message).toContain(`${operation} "${id}"`);
      expect(error.permanent).toBe(true);
      expect(error.secretId).toBe(id);
    }
  });

  it('raises SecretNotFoundError for writes and promotion of a missing secret, without the value', async () => {
    const id = name();
    const secret = value('never-stored');
    const pendingError = await failure(store.putPending(id, randomUUID(), secret));
    expect(pendingError).toBeInstanceOf(SecretNotFoundError);
    expect(pendingError.message).not.toContain(secret);
    expect(await failure(store.promote(id, randomUUID()))).toBeInstanceOf(SecretNotFoundError);
  });

  it('raises SecretNotFoundError for an unknown version of an existing secret', async () => {
    const id = name();
    await store.putCurrent(id, value('current'));
    const missing = randomUUID();
    const error = await failure(store.readVersion(id, missing));
    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(error.message).toContain(`read-version "${id}"`);
  });

  it('refuses to stage or promote on a secret scheduled for deletion, without echoing the value', async () => {
    const id = name();
    const current = value('current');
    await store.putCurrent(id, current);
    const rotationId = randomUUID();
    await store.putPending(id, rotationId, value('next'));
    await client.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 7 }));
    const secret = value('late');

    const putError = await failure(store.putPending(id, randomUUID(), secret));
    const promoteError = await failure(store.promote(id, rotationId));
    const readError = await failure(store.readCurrent(id));

    for (const error of [putError, promoteError, readError]) {
      expect(error).toBeInstanceOf(SecretConflictError);
      expect(error.permanent).toBe(true);
      expect(error.message).toContain(id);
      expect(error.message).not.toContain(secret);
      expect(error.message).not.toContain(current);
    }
    expect(promoteError.message).toMatch(/scheduled for deletion/);
  });

  it('creates a missing secret with the rotation id as its first, current version; a retry finds it done; other content is a conflict', async () => {
    const id = name();
    const rotationId = randomUUID();
    const first = value('created');
    expect(await store.create(id, rotationId, first)).toEqual({ versionId: rotationId });
    expect(await store.readCurrent(id)).toEqual({ versionId: rotationId, secretString: first });
    expect(await store.create(id, rotationId, first)).toEqual({ versionId: rotationId });
    const conflict = await failure(store.create(id, rotationId, value('other')));
    expect(conflict).toBeInstanceOf(SecretConflictError);
    expect(conflict.message).toBe(`create "${id}": already exists with other content`);
    // Promoting the first version is a no-op: it is current already.
    await store.promote(id, rotationId);
    expect(stagesOf(await store.listVersions(id), rotationId)).toEqual([AWSCURRENT]);
  });
});
