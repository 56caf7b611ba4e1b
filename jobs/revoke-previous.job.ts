import { z } from 'zod';
import type { CredentialBase } from '../src/config/index.ts';
import { revokePrevious, type RevokeOutcome } from '../src/rotation/rotate.ts';
import { RotatorError } from '../src/errors/rotator-error.ts';
import type { RotatableConfig } from '../src/kinds/kind.ts';
import { credentialIdField, findCredential, runtimeOf, type CheckCredentialDeps } from './check-credential.job.ts';
import type { JobDefinition, RevokeJobOutcome } from './job.ts';

export const revokePreviousPayload = z.strictObject({
  credentialId: credentialIdField,
  rotationId: z.uuid(),
  /** Provider id of the credential to revoke (a token's uuid, an application's number), never its value. */
  previousRef: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a provider id'),
});

function revokeJobOutcome(credential: CredentialBase, outcome: RevokeOutcome): RevokeJobOutcome {
  return {
    status: 'success',
    credentialId: credential.id,
    kind: credential.kind,
    action: 'revoke-handled',
    summary: outcome.summary,
    rotationId: outcome.rotationId,
    previousState: outcome.previousState,
    // Set only when something is left to revoke by hand: the worker then warns.
    ...(outcome.unrevoked.length ? { unrevoked: outcome.unrevoked.join(',') } : {}),
  };
}

/**
 * Revokes the credential a rotation replaced, once its overlap window (`revokePreviousAfter`) is
 * over. Enqueued delayed by the rotation, with a job id per rotation so it exists once. Its data
 * comes from Redis and is trusted for nothing: the revoke guard sends the revoke only for a
 * credential provably replaced by that rotation of this credential (rotation/retire.ts).
 */
export const revokePreviousJob: JobDefinition<'revoke-previous', typeof revokePreviousPayload, CheckCredentialDeps> = {
  name: 'revoke-previous',
  schema: revokePreviousPayload,
  async handle(deps, payload, { logger }) {
    const credential = findCredential(deps.inventory, payload.credentialId);
    const rotationDeps = { ...deps.rotation, secrets: deps.secrets };
    const runtime = runtimeOf(deps.kinds, credential);
    if (runtime.mode !== 'rotate') throw new RotatorError(`credential "${credential.id}" is a ${credential.kind}: nothing to revoke`, { permanent: true });
    const outcome = await revokePrevious(rotationDeps, runtime.rotator, credential as RotatableConfig, payload, logger);
    return revokeJobOutcome(credential, outcome);
  },
};
