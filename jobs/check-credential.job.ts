import { z } from 'zod';
import type { CredentialConfig, Inventory } from '../src/config/index.ts';
import { RotatorError } from '../src/errors/rotator-error.ts';
import { parseSecretValue } from '../src/secrets/secret-values.ts';
import type { SecretStore } from '../src/secrets/secret-store.ts';
import type { JobDefinition } from './job.ts';

export const CREDENTIAL_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Payloads carry ids only: never a secret, never a URL. */
export const checkCredentialPayload = z.strictObject({
  credentialId: z.string().regex(CREDENTIAL_ID_PATTERN, 'must be a credential id from the inventory'),
  trigger: z.enum(['schedule', 'manual', 'startup']),
  force: z.boolean().default(false),
});
export type CheckCredentialPayload = z.infer<typeof checkCredentialPayload>;

export class UnknownCredentialError extends RotatorError {
  constructor(credentialId: string) {
    super(`credential "${credentialId}" is not in the inventory`, { permanent: true });
  }
}

export interface CheckCredentialDeps {
  inventory: Pick<Inventory, 'credentials'>;
  secrets: Pick<SecretStore, 'readCurrent'>;
}

export function findCredential(inventory: Pick<Inventory, 'credentials'>, id: string): CredentialConfig {
  const credential = inventory.credentials.find((c) => c.id === id);
  if (!credential) throw new UnknownCredentialError(id);
  return credential;
}

/**
 * The check a schedule fires for one credential. This first form proves the stored secret is
 * readable and has the shape its kind needs; the provider steps (rotate when due, validate at the
 * provider) build on it.
 */
export const checkCredentialJob: JobDefinition<'check-credential', typeof checkCredentialPayload, CheckCredentialDeps> = {
  name: 'check-credential',
  schema: checkCredentialPayload,
  async handle(deps, payload, { logger }) {
    const credential = findCredential(deps.inventory, payload.credentialId);
    const stored = await deps.secrets.readCurrent(credential.secretId);
    // Throws a permanent SecretFormatError naming the field, never the value.
    parseSecretValue(credential.kind, stored.secretString);
    logger.info(
      { credentialId: credential.id, kind: credential.kind, secretId: credential.secretId, versionId: stored.versionId },
      'check: stored secret is readable and well-formed',
    );
    return {
      status: 'success',
      credentialId: credential.id,
      kind: credential.kind,
      step: 'read-secret',
      secretVersionId: stored.versionId,
      summary: 'secret readable and well-formed',
    };
  },
};
