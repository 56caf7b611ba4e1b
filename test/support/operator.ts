import { randomUUID } from 'node:crypto';
import type { SecretStore } from '../../src/secrets/secret-store.ts';

/**
 * What an operator's `aws secretsmanager put-secret-value` does: a new version becomes AWSCURRENT
 * and the version that was current becomes AWSPREVIOUS. The emulator (moto) gets this wrong once a
 * secret's AWSCURRENT was moved by UpdateSecretVersionStage (the new version and the old one both
 * end up labelled AWSCURRENT), so the same end state is reached here in the two calls a rotation
 * uses: a labelled version, then the label move.
 */
export async function operatorWrite(store: Pick<SecretStore, 'putPending' | 'promote'>, secretId: string, secretString: string): Promise<string> {
  const versionId = randomUUID();
  await store.putPending(secretId, versionId, secretString);
  await store.promote(secretId, versionId);
  return versionId;
}
