import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { LeaseLostError } from '../lease/fence.ts';
import { fenced } from './fenced-client.ts';
import { AWSCURRENT, AWSPENDING, type CreateSecretOptions, type SecretStore, type SecretVersion, type StoredSecret } from './store-types.ts';

import {
  InvalidRotationIdError,
  SecretConflictError,
  SecretNotFoundError,
  SecretStoreError,
  SecretStoreUnavailableError,
  mapSecretsManagerError,
  type SecretOperation,
} from './errors.ts';

export { createSecretsManagerClient, type SecretsManagerClientOptions } from './secrets-manager-client.ts';

export { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type SecretStore, type SecretVersion, type StoredSecret } from './store-types.ts';

/** A ClientRequestToken needs 32–64 characters; rotation ids are UUIDs (36). */
const ROTATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Sender = Pick<SecretsManagerClient, 'send'>;
type ReadBy = { VersionStage: string } | { VersionId: string };

function errorName(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
}

interface SecretState {
  /** Version id → staging labels, for versions that carry at least one label. */
  stages: Map<string, string[]>;
  deleted: boolean;
}

export function createSecretStore(unfenced: Sender): SecretStore {
  const client = fenced(unfenced);
  async function call<T>(secretId: string, operation: SecretOperation, send: () => Promise<T>, sensitive: string[] = []): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      throw mapSecretsManagerError(error, secretId, operation, sensitive);
    }
  }

  // Always by stage or by id: the emulator may answer a bare GetSecretValue with a stale version.
  async function read(secretId: string, operation: SecretOperation, by: ReadBy): Promise<StoredSecret> {
    const out = await call(secretId, operation, () => client.send(new GetSecretValueCommand({ SecretId: secretId, ...by })));
    if (out.SecretString === undefined || !out.VersionId) {
      throw new SecretStoreError('holds a binary value (SecretBinary), not a SecretString', { secretId, operation, permanent: true });
    }
    return { versionId: out.VersionId, secretString: out.SecretString };
  }

  // GetSecretValue's CreatedDate: the emulator's ListSecretVersionIds reports the time of the listing instead.
  async function versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined> {
    const out = await call(secretId, 'read-version', () => client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId })));
    return out.CreatedDate;
  }

  async function state(secretId: string, operation: SecretOperation): Promise<SecretState> {
    const out = await call(secretId, operation, () => client.send(new DescribeSecretCommand({ SecretId: secretId })));
    return { stages: new Map(Object.entries(out.VersionIdsToStages ?? {})), deleted: out.DeletedDate !== undefined };
  }

  function holding(stages: Map<string, string[]>, stage: string): string | undefined {
    for (const [versionId, labels] of stages) if (labels.includes(stage)) return versionId;
    return undefined;
  }

  async function moveStage(secretId: string, operation: SecretOperation, stage: string, to?: string, from?: string): Promise<void> {
    await call(secretId, operation, () =>
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: stage,
          ...(to ? { MoveToVersionId: to } : {}),
          ...(from ? { RemoveFromVersionId: from } : {}),
        }),
      ),
    );
  }

  function versionIdOf(out: { VersionId?: string | undefined }, secretId: string, operation: SecretOperation): string {
    if (!out.VersionId) throw new SecretStoreError('the answer named no version id', { secretId, operation, permanent: true });
    return out.VersionId;
  }

  async function readStage(secretId: string, stage: string, operation: SecretOperation = 'read-stage'): Promise<StoredSecret | undefined> {
    try {
      return await read(secretId, operation, { VersionStage: stage });
    } catch (error) {
      if (!(error instanceof SecretNotFoundError)) throw error;
    }
    // Secrets Manager says "not found" both for a missing secret and for a missing label. Only the
    // latter means "no such version"; a missing secret stays an error (it throws here).
    const holder = holding((await state(secretId, operation)).stages, stage);
    return holder === undefined ? undefined : read(secretId, operation, { VersionStage: stage });
  }

  async function unlabel(secretId: string, stage: string, versionId: string): Promise<void> {
    const { stages } = await state(secretId, 'unlabel');
    if (!(stages.get(versionId) ?? []).includes(stage)) return;
    await moveStage(secretId, 'unlabel', stage, undefined, versionId).catch((error: unknown) =>
      confirmDone(error, secretId, (after) => !(after.get(versionId) ?? []).includes(stage)),
    );
  }

  async function putPending(secretId: string, rotationId: string, secretString: string): Promise<{ versionId: string }> {
    if (!ROTATION_ID.test(rotationId)) throw new InvalidRotationIdError(secretId);
    // Real Secrets Manager refuses a reused token with other content (ResourceExistsException),
    // but the emulator silently overwrites it: compare first, so both behave the same.
    const existing = await read(secretId, 'put-pending', { VersionId: rotationId }).catch((error: unknown) => {
      if (error instanceof SecretNotFoundError) return undefined;
      throw error;
    });
    if (existing) {
      if (existing.secretString !== secretString) {
        throw new SecretConflictError(`version ${rotationId} already holds a different value (one rotation id, one value)`, {
          secretId,
          operation: 'put-pending',
          permanent: true,
        });
      }
      const { stages } = await state(secretId, 'put-pending');
      const labels = stages.get(rotationId) ?? [];
      // Already pending, or already promoted by a resumed job that got past finish: nothing to move.
      if (!labels.includes(AWSPENDING) && !labels.includes(AWSCURRENT)) {
        await moveStage(secretId, 'put-pending', AWSPENDING, rotationId, holding(stages, AWSPENDING));
      }
      return { versionId: rotationId };
    }
    // Naming AWSPENDING takes the label off any earlier rotation's version and leaves AWSCURRENT alone.
    const out = await call(
      secretId,
      'put-pending',
      () =>
        client.send(new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: rotationId, SecretString: secretString, VersionStages: [AWSPENDING] })),
      [secretString],
    );
    return { versionId: versionIdOf(out, secretId, 'put-pending') };
  }

  async function promote(secretId: string, versionId: string): Promise<void> {
    const { stages, deleted } = await state(secretId, 'promote');
    if (deleted) throw new SecretConflictError('the secret is scheduled for deletion', { secretId, operation: 'promote', permanent: true });
    const labels = stages.get(versionId);
    if (!labels) {
      throw new SecretConflictError(`version ${versionId} does not exist or carries no staging label`, {
        secretId,
        operation: 'promote',
        permanent: true,
      });
    }
    const current = holding(stages, AWSCURRENT);
    if (current !== versionId) {
      await moveStage(secretId, 'promote', AWSCURRENT, versionId, current).catch((error: unknown) =>
        confirmDone(error, secretId, (after) => holding(after, AWSCURRENT) === versionId),
      );
    }
    // Removed second: a crash between the two calls leaves the pending label, so a resumed job sees
    // its rotation unfinished and repeats promote. Only this version's label is touched.
    if (labels.includes(AWSPENDING)) {
      await moveStage(secretId, 'promote', AWSPENDING, undefined, versionId).catch((error: unknown) =>
        confirmDone(error, secretId, (after) => !(after.get(versionId) ?? []).includes(AWSPENDING)),
      );
    }
  }

  // A write whose answer was lost is retried by the SDK, and the retry of a label move that already
  // happened is refused. When the labels are already where they were meant to go, the move is done.
  async function confirmDone(error: unknown, secretId: string, done: (stages: Map<string, string[]>) => boolean): Promise<void> {
    const after = await state(secretId, 'promote').catch(() => undefined);
    if (after && done(after.stages)) return;
    throw error;
  }

  async function listVersions(secretId: string, options: { includeDeprecated?: boolean } = {}): Promise<SecretVersion[]> {
    const versions: SecretVersion[] = [];
    const seen = new Set<string>();
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await call(secretId, 'list-versions', () =>
        client.send(
          new ListSecretVersionIdsCommand({
            SecretId: secretId,
            MaxResults: 100,
            ...(options.includeDeprecated ? { IncludeDeprecated: true } : {}),
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      ).catch((error: unknown) => confirmNotFound(error, secretId, token));
      for (const v of page.Versions ?? []) {
        if (!v.VersionId) continue;
        versions.push({ versionId: v.VersionId, stages: v.VersionStages ?? [], ...(v.CreatedDate ? { createdAt: v.CreatedDate } : {}) });
      }
      nextToken = page.NextToken || undefined;
      // A server that hands back a token twice would otherwise loop for ever.
      if (nextToken !== undefined && !seen.add(nextToken)) break;
    } while (nextToken);
    return versions;
  }

  // The emulator answers ListSecretVersionIds for a missing secret with an HTML 500 page. Before
  // calling that an outage, ask DescribeSecret, which reports a missing secret properly.
  async function confirmNotFound(error: unknown, secretId: string, token: string | undefined): Promise<never> {
    if (error instanceof SecretStoreUnavailableError && token === undefined) {
      const missing = await state(secretId, 'list-versions').then(
        () => false,
        (probe: unknown) => probe instanceof SecretNotFoundError,
      );
      if (missing) throw new SecretNotFoundError('not found', { secretId, operation: 'list-versions', permanent: true, cause: error });
    }
    throw error;
  }

  async function putCurrent(secretId: string, secretString: string): Promise<{ versionId: string }> {
    const sensitive = [secretString];
    // Without VersionStages, Secrets Manager labels the new version AWSCURRENT and the old one AWSPREVIOUS.
    const put = () =>
      call(secretId, 'put-current', () => client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: secretString })), sensitive);
    try {
      return { versionId: versionIdOf(await put(), secretId, 'put-current') };
    } catch (error) {
      if (!(error instanceof SecretNotFoundError)) throw error;
    }
    let created;
    try {
      created = await client.send(new CreateSecretCommand({ Name: secretId, SecretString: secretString }));
    } catch (error) {
      // Someone else created it in between: put the value as a new version instead.
      if (errorName(error) === 'ResourceExistsException') return { versionId: versionIdOf(await put(), secretId, 'put-current') };
      throw mapSecretsManagerError(error, secretId, 'put-current', sensitive);
    }
    return { versionId: versionIdOf(created, secretId, 'put-current') };
  }

  async function create(secretId: string, rotationId: string, secretString: string, options: CreateSecretOptions = {}): Promise<{ versionId: string }> {
    if (!ROTATION_ID.test(rotationId)) throw new InvalidRotationIdError(secretId);
    const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    try {
      const out = await client.send(
        new CreateSecretCommand({
          Name: secretId,
          SecretString: secretString,
          ClientRequestToken: rotationId,
          ...(options.kmsKeyId ? { KmsKeyId: options.kmsKeyId } : {}),
          ...(tags.length ? { Tags: tags } : {}),
        }),
      );
      return { versionId: versionIdOf(out, secretId, 'create') };
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      if (errorName(error) !== 'ResourceExistsException') throw mapSecretsManagerError(error, secretId, 'create', [secretString]);
    }
    // Created before (a retry whose first answer was lost): done if it holds this very version.
    const existing = await read(secretId, 'create', { VersionId: rotationId }).catch((error: unknown) => {
      if (error instanceof LeaseLostError) throw error;
      return undefined;
    });
    if (existing?.secretString === secretString) return { versionId: rotationId };
    throw new SecretConflictError('already exists with other content', { secretId, operation: 'create', permanent: true });
  }

  return {
    create,
    readCurrent: (secretId) => read(secretId, 'read-current', { VersionStage: AWSCURRENT }),
    readPending: (secretId) => readStage(secretId, AWSPENDING, 'read-pending'),
    readStage: (secretId, stage) => readStage(secretId, stage),
    unlabel,
    readVersion: (secretId, versionId) => read(secretId, 'read-version', { VersionId: versionId }),
    versionCreatedAt,
    putPending,
    promote,
    listVersions,
    putCurrent,
  };
}
