import { z } from 'zod';
import type { CredentialConfig, Inventory } from '../src/config/index.ts';
import { RotatorError } from '../src/errors/rotator-error.ts';
import { checkAndRotate, type RotationDeps, type RotationOutcome } from '../src/rotation/rotate.ts';
import type { RotatorRegistry } from '../src/rotation/registry.ts';
import { validateCredential, type ValidatorRegistry } from '../src/validation/validate.ts';
import type { JobDefinition, RotationJobOutcome, ValidationJobOutcome } from './job.ts';

export const CREDENTIAL_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const credentialIdField = z.string().regex(CREDENTIAL_ID_PATTERN, 'must be a credential id from the inventory');

/** Payloads carry ids only: never a secret, never a URL. */
export const checkCredentialPayload = z.strictObject({
  credentialId: credentialIdField,
  trigger: z.enum(['schedule', 'manual', 'startup']),
  /** Rotate even when not due. */
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
  secrets: RotationDeps['secrets'];
  rotation: Omit<RotationDeps, 'secrets'>;
  rotators: RotatorRegistry;
  validators: ValidatorRegistry;
}

export function findCredential(inventory: Pick<Inventory, 'credentials'>, id: string): CredentialConfig {
  const credential = inventory.credentials.find((c) => c.id === id);
  if (!credential) throw new UnknownCredentialError(id);
  return credential;
}

function rotationJobOutcome(credential: CredentialConfig, outcome: RotationOutcome): RotationJobOutcome {
  return {
    status: outcome.action === 'not-due' ? 'skipped' : 'success',
    credentialId: credential.id,
    kind: credential.kind,
    action: outcome.action,
    summary: outcome.summary,
    rotationId: outcome.rotationId,
    expiresAt: outcome.expiresAt,
    daysToExpiry: outcome.daysToExpiry,
    previousState: outcome.previousState,
    // Provider ids left to revoke by hand ('' when none; unset when not checked): the worker warns on them.
    unrevoked: outcome.unrevoked?.join(','),
  };
}

function validated(credential: CredentialConfig, result: { summary: string }): ValidationJobOutcome {
  return { status: 'success', credentialId: credential.id, kind: credential.kind, action: 'validated', summary: result.summary };
}

/**
 * The job a schedule or `rotator trigger` fires for one credential: rotate a Credly token when it
 * is due (or forced); recreate a Credly OAuth application whose secret is lost or refused (or
 * forced); prove Degreed and Learn.link credentials still work.
 */
export const checkCredentialJob: JobDefinition<'check-credential', typeof checkCredentialPayload, CheckCredentialDeps> = {
  name: 'check-credential',
  schema: checkCredentialPayload,
  async handle(deps, payload, { jobId, logger }) {
    const credential = findCredential(deps.inventory, payload.credentialId);
    const rotationDeps = { ...deps.rotation, secrets: deps.secrets };
    const request = { jobId, force: payload.force, logger };
    switch (credential.kind) {
      case 'credly-authorization-token':
        return rotationJobOutcome(credential, await checkAndRotate(rotationDeps, deps.rotators[credential.kind], credential, request));
      case 'credly-oauth-application':
        return rotationJobOutcome(credential, await checkAndRotate(rotationDeps, deps.rotators[credential.kind], credential, request));
      case 'degreed-client-credentials':
        return validated(credential, await validateCredential(rotationDeps, deps.validators[credential.kind], credential, logger));
      case 'learnlink-client-credentials':
        return validated(credential, await validateCredential(rotationDeps, deps.validators[credential.kind], credential, logger));
    }
  },
};
