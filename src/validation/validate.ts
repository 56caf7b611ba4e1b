import type { CredentialBase } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { RotationStateStore } from '../state/rotation-state.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { parseSecret, type SecretShape } from '../secrets/secret-values.ts';
import { ValidationError, type CredentialValidator, type ValidationResult } from './validator.ts';

export interface ValidateDeps {
  secrets: Pick<SecretStore, 'readCurrent'>;
  state: Pick<RotationStateStore, 'updateStatus'>;
  now(): Date;
}

/**
 * Validates one credential against its provider and records the outcome and its time for status
 * and metrics. A failure is rethrown (a ValidationError says which kind, and what to do).
 */
export async function validateCredential<C extends CredentialBase, S>(
  deps: ValidateDeps,
  kind: { secret: SecretShape<S>; validator: CredentialValidator<C, S> },
  credential: C,
  logger: Logger,
): Promise<ValidationResult> {
  const { validator } = kind;
  const stored = await deps.secrets.readCurrent(credential.secretId);
  const secret = parseSecret(kind.secret, stored.secretString, { secretId: credential.secretId });
  const at = deps.now().toISOString();
  try {
    const result = await validator.validate(credential, secret);
    await deps.state.updateStatus(credential.id, { lastCheckAt: at, lastResult: 'valid', lastSummary: result.summary, lastValidAt: at });
    logger.info({ credentialId: credential.id, kind: credential.kind, summary: result.summary }, 'validation: credential works');
    return result;
  } catch (error) {
    if (error instanceof ValidationError) {
      await deps.state.updateStatus(credential.id, { lastCheckAt: at, lastResult: error.kind, lastSummary: error.message });
    }
    throw error;
  }
}
