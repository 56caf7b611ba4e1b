import { z } from 'zod';
import type { CredentialBase, Inventory } from '../src/config/index.ts';
import { RotatorError } from '../src/errors/rotator-error.ts';
import type { KindRuntime, KindRuntimes, RotatableConfig } from '../src/kinds/kind.ts';
import { actorField, reasonField } from '../src/rotation/facts.ts';
import { checkAndRotate, type RotationDeps, type RotationOutcome } from '../src/rotation/rotate.ts';
import { validateCredential } from '../src/validation/validate.ts';
import type { JobDefinition, RotationJobOutcome, ValidationJobOutcome } from './job.ts';

export const CREDENTIAL_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const credentialIdField = z.string().regex(CREDENTIAL_ID_PATTERN, 'must be a credential id from the inventory');

/** Payloads carry ids only: never a secret, never a URL. */
export const checkCredentialPayload = z.strictObject({
  credentialId: credentialIdField,
  trigger: z.enum(['schedule', 'manual', 'startup']),
  /** Rotate even when not due. */
  force: z.boolean().default(false),
  /** Who asked (`rotator trigger --actor`, else ROTATOR_ACTOR, else user@host): into the rotation's facts. */
  actor: actorField.optional(),
  /** Why (`rotator trigger --reason`). */
  reason: reasonField.optional(),
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
  /** Every kind's runtime (its rotation provider or validator), by kind. */
  kinds: KindRuntimes;
}

export function findCredential(inventory: Pick<Inventory, 'credentials'>, id: string): CredentialBase {
  const credential = inventory.credentials.find((c) => c.id === id);
  if (!credential) throw new UnknownCredentialError(id);
  return credential;
}

/** The runtime of a credential's kind; its configuration was read by that kind's schema. */
export function runtimeOf(kinds: KindRuntimes, credential: CredentialBase): KindRuntime {
  const runtime = kinds.get(credential.kind);
  if (!runtime) throw new RotatorError(`credential "${credential.id}" is of kind ${credential.kind}, which this rotator does not know`, { permanent: true });
  return runtime;
}

function rotationJobOutcome(credential: CredentialBase, outcome: RotationOutcome): RotationJobOutcome {
  return {
    status: outcome.action === 'not-due' || outcome.action === 'force-refused' ? 'skipped' : 'success',
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
    ...(outcome.cooldown ? { possibleAt: outcome.cooldown.possibleAt, currentVersionId: outcome.cooldown.versionId } : {}),
  };
}

function validated(credential: CredentialBase, result: { summary: string }): ValidationJobOutcome {
  return { status: 'success', credentialId: credential.id, kind: credential.kind, action: 'validated', summary: result.summary };
}

/**
 * The job a schedule or `rotator trigger` fires for one credential: a rotated kind is rotated when
 * due (or forced), or repaired when its secret is lost or refused; a validated kind is proven to
 * still work.
 */
export const checkCredentialJob: JobDefinition<'check-credential', typeof checkCredentialPayload, CheckCredentialDeps> = {
  name: 'check-credential',
  schema: checkCredentialPayload,
  async handle(deps, payload, { jobId, logger }) {
    const credential = findCredential(deps.inventory, payload.credentialId);
    const rotationDeps = { ...deps.rotation, secrets: deps.secrets };
    const runtime = runtimeOf(deps.kinds, credential);
    if (runtime.mode === 'rotate') {
      const request = { jobId, force: payload.force, logger, trigger: payload.trigger, actor: payload.actor, reason: payload.reason };
      // A rotated kind's schema gives every field the protocol reads (RotatableConfig).
      const outcome = await checkAndRotate(rotationDeps, runtime.rotator, credential as RotatableConfig, request);
      return rotationJobOutcome(credential, outcome);
    }
    const result = await validateCredential(rotationDeps, { secret: runtime.definition.secret, validator: runtime.validator }, credential, logger);
    return validated(credential, result);
  },
};
