import { createKinds } from '../composition-root.ts';
import type { RotatableConfig } from '../kinds/kind.ts';
import { readHistory, type History, type HistoryEntry } from '../rotation/history.ts';
import { createSecretStore, createSecretsManagerClient } from '../secrets/secret-store.ts';
import { createRotationStateStore, type CredentialStatus } from '../state/rotation-state.ts';
import { connectRedis } from './connect-redis.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { loadConfiguration } from './load-config.ts';
import { selectCredential } from './select.ts';
import { printTable } from './table.ts';

const revokedText = (e: HistoryEntry) =>
  e.revoked === null ? '-' : e.revoked === 'pending' ? `pending (${e.revokeAt ?? '?'})` : e.revoked === true ? 'yes' : e.revoked === false ? 'NO' : 'unknown';

function printHistory(history: History, redisRead: boolean): void {
  console.log(`${history.credentialId} (secret ${history.secretId}): ${history.entries.length} rotation(s)`);
  if (history.entries.length)
    printTable(
      ['AT', 'ROTATION', 'TRIGGER', 'ACTOR', 'REASON', 'CREDENTIAL', 'REPLACED', 'REVOKED', 'STAGES'],
      history.entries.map((e) => [
        e.at,
        e.rotationId,
        e.trigger,
        e.actor ?? '-',
        e.reason ?? '-',
        e.credentialRef ?? '-',
        e.replacedRef ?? '-',
        revokedText(e),
        e.stages.join(',') || '-',
      ]),
    );
  if (history.listingError) console.log(`revoked: unknown — ${history.listingError}`);
  if (!redisRead) console.log('Redis could not be read: a revoke still pending shows as NO');
  const { versions, withoutFacts, oldest } = history.reach;
  console.log(
    `Secrets Manager keeps ${versions} version(s) of the secret${oldest ? `, the oldest stored ${oldest}` : ''}` +
      `${withoutFacts ? ` (${withoutFacts} written by no rotation)` : ''}. ${history.reach.note}.`,
  );
}

/**
 * `rotator history <credential-id>`: the credential's rotations, newest first, rebuilt from the
 * facts each rotation wrote into its Secrets Manager version and the provider's listing; works
 * with an empty (or unreachable) Redis, which only adds when a pending revoke falls due. Read-only;
 * no secret value is printed.
 */
export async function historyCommand(options: {
  configPath?: string | undefined;
  credentialId: string;
  limit?: number | undefined;
  json: boolean;
}): Promise<number> {
  const { env, inventory } = loadConfiguration(options);
  const credential = selectCredential(inventory, options.credentialId);
  const store = createSecretStore(createSecretsManagerClient());
  const runtime = createKinds({ inventory, secrets: store, requestTimeoutMs: env.requestTimeoutMs, scope: env.queuePrefix }).get(credential.kind);
  if (runtime?.mode !== 'rotate')
    throw new UsageError(
      `credential "${credential.id}" is of kind ${credential.kind}, which the rotator validates and never rotates: it has no rotation history`,
    );
  // Redis only adds the time a pending revoke falls due: the history stands without it.
  let status: CredentialStatus | undefined;
  let redisRead = false;
  try {
    const redis = await connectRedis(env.redis, env.queuePrefix, { allowPlaintext: env.allowPlaintextRedis });
    try {
      status = await createRotationStateStore(redis, env.queuePrefix).readStatus(credential.id);
      redisRead = true;
    } finally {
      redis.disconnect();
    }
  } catch {
    // Unreachable: said below, and in --json as "redis": "unreachable".
  }
  const history = await readHistory({ secrets: store }, runtime.rotator, credential as RotatableConfig, status, { limit: options.limit });
  if (options.json) console.log(JSON.stringify({ ...history, redis: redisRead ? 'read' : 'unreachable' }, null, 2));
  else printHistory(history, redisRead);
  return EXIT.ok;
}
