import type { DegreedConfig, LearnlinkConfig } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { RotationStateStore } from '../rotation/rotation-state.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { parseSecretValue, type DegreedSecret, type LearnlinkSecret } from '../secrets/secret-values.ts';
import { ValidationError, type CredentialValidator, type ValidationResult } from './validator.ts';

/** The validated kinds and their validators; a kind missing here fails to compile. */
export interface ValidatorRegistry {
  'degreed-client-credentials': CredentialValidator<DegreedConfig, DegreedSecret>;
  'learnlink-client-credentials': CredentialValidator<LearnlinkConfig, LearnlinkSecret>;
}

export interface ValidateDeps {
  secrets: Pick<SecretStore, 'readCurrent'>;
  state: Pick<RotationStateStore, 'updateStatus'>;
  now(): Date;
}

/**
 * Validates one credential against its provider and records the outcome and its time for status
 * and metrics. A failure is rethrown (a ValidationError says which kind, and what to do).
 */
export async function validateCredential<C extends DegreedConfig | LearnlinkConfig, S>(
  deps: ValidateDeps,
  validator: CredentialValidator<C, S>,
  credential: C,
  logger: Logger,
): Promise<ValidationResult> {
  const stored = await deps.secrets.readCurrent(credential.secretId);
  // The registry pairs each kind with the validator of that kind's secret shape.
  const secret = parseSecretValue(credential.kind, stored.secretString, { secretId: credential.secretId }) as S;
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
