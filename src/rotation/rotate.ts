import { randomUUID } from 'node:crypto';
import { audit } from '../log/audit.ts';
import type { Logger } from '../log/logger.ts';
import type { HeldLock } from '../lease/credential-lock.ts';
import { AWSCURRENT, AWSPREVIOUS } from '../secrets/store-types.ts';
import { SecretNotFoundError } from '../secrets/errors.ts';
import { FORCE_REFUSED } from '../state/rotation-state.ts';
import { LeaseLostError, RevokeDeferredError } from './errors.ts';
import { reap, recordSeen, revokeReplaced, settle } from './retire.ts';
import type { RotationProvider } from './rotation-provider.ts';
import { noteUnproven, recheckUnrevoked, unrevokedRefs } from './unrevoked.ts';

import { continueRotation } from './continue-rotation.ts';
import { forceCooldownOf } from './force-cooldown.ts';
import { triggerOf } from './facts.ts';
import { formatDuration } from '../config/index.ts';
import {
  daysUntil,
  readCurrentSecret,
  step,
  withLock,
  type RevokeOutcome,
  type RevokeRequest,
  type RotatableCredential,
  type RotationDeps,
  type RotationOutcome,
} from './protocol.ts';

export { daysUntil, type RevokeOutcome, type RevokeRequest, type RotatableCredential, type RotationDeps, type RotationOutcome } from './protocol.ts';
/** What a job asks of a check: its id, whether forced, and who asked and why (into the rotation's facts). */
export interface RotationRequest {
  jobId: string;
  force: boolean;
  logger: Logger;
  /** What fired the job; the schedule when unsaid. */
  trigger?: 'schedule' | 'manual' | 'startup';
  actor?: string | undefined;
  reason?: string | undefined;
}

/**
 * The rotation protocol of docs/design.md for one credential: inspect; when due (or forced) create →
 * store as AWSPENDING → test → promote → revoke. Every step is recorded in Redis before the next
 * begins, and every step is idempotent, so a job resumed after a crash — by whichever worker —
 * continues the same rotation. Only the lock holder acts.
 */
export async function checkAndRotate<C extends RotatableCredential, S>(
  deps: RotationDeps,
  provider: RotationProvider<C, S>,
  credential: C,
  request: RotationRequest,
): Promise<RotationOutcome> {
  const { id, secretId } = credential;
  const log = request.logger.child({ credentialId: id });
  return withLock(deps.lock, id, async (held) => {
    const status = await deps.state.readStatus(id);
    let record = await deps.state.get(id);
    if (!record) {
      // BullMQ runs again a job that began or resumed a rotation now finished (its completion was
      // lost, or it stalled): never a second rotation from it. Done only when Secrets Manager shows
      // that rotation's version promoted; a rotation whose record was never saved (the lease lost
      // just before, a Redis error) stored nothing, and the job rotates for real.
      const took = (await deps.state.rotationOfJob(id, request.jobId)) ?? (status.lastRotationJobId === request.jobId ? status.lastRotationId : undefined);
      if (took && (await step(id, 'read-secret', () => wasPromoted(deps, secretId, took)))) {
        return {
          action: 'already-done',
          rotationId: took,
          summary: `this job already took part in rotation ${took}, promoted in Secrets Manager; not starting another`,
        };
      }
      if (took) log.info({ rotationId: took }, 'rotation: the rotation this job took part in was never promoted; checking again');
    }
    if (!record) {
      const current = await step(id, 'read-secret', () => readCurrentSecret(deps, provider, secretId));
      const now = deps.now();
      const inspection = await step(id, 'inspect', () => provider.inspect(credential, current, now));
      const expiry = inspection.expiresAt ? { expiresAt: inspection.expiresAt.toISOString(), daysToExpiry: daysUntil(inspection.expiresAt, now) } : {};
      await deps.state.updateStatus(
        id,
        { lastCheckAt: now.toISOString(), expiresAt: expiry.expiresAt, daysToExpiry: expiry.daysToExpiry?.toString() },
        held.token,
      );
      await reap(deps, provider, credential, current, log, held);
      // Read again: the reaper may have named a replaced credential whose revoke was lost with Redis.
      const unrevoked = await recheckUnrevoked(deps.state, provider, credential, current, await deps.state.readStatus(id), now, log, held.token);
      await recheckUnrevoked(deps.state, provider, credential, current, status, now, log, held.token, 'unproven');
      if (inspection.unproven) await noteUnproven(deps.state, id, inspection.unproven, log);
      if (!inspection.due && !request.force) {
        const summary = `not due: ${inspection.reason}`;
        await deps.state.updateStatus(id, { lastResult: 'not-due', lastSummary: summary }, held.token);
        log.info({ ...expiry }, 'rotation: not due');
        return { action: 'not-due', summary, ...expiry, unrevoked };
      }
      if (!inspection.due) {
        // Forced only: refused while AWSCURRENT is younger than the cooldown. Nothing is created, nothing revoked.
        const cooldown = await step(id, 'read-secret', () => forceCooldownOf(deps.secrets, secretId, credential.forceCooldownMs, now));
        if (cooldown) {
          const possibleAt = cooldown.possibleAt.toISOString();
          const summary =
            `forced rotation refused: AWSCURRENT (version ${cooldown.versionId}, created ${cooldown.createdAt.toISOString()}) is younger than ` +
            `forceCooldown (${formatDuration(credential.forceCooldownMs)}); a forced rotation is possible at ${possibleAt}`;
          await deps.state.updateStatus(id, { lastResult: FORCE_REFUSED, lastSummary: summary }, held.token);
          log.warn({ versionId: cooldown.versionId, possibleAt, ...expiry }, 'rotation: forced rotation refused inside the cooldown');
          return { action: 'force-refused', summary, cooldown: { versionId: cooldown.versionId, possibleAt }, ...expiry, unrevoked };
        }
      }
      record = {
        credentialId: id,
        rotationId: randomUUID(),
        jobId: request.jobId,
        step: 'create',
        startedAt: now.toISOString(),
        previousRef: inspection.ref,
        forced: !inspection.due,
        trigger: triggerOf({ trigger: request.trigger ?? 'schedule' }, { previousRef: inspection.ref, due: inspection.due }),
        ...(request.actor ? { actor: request.actor } : {}),
        ...(request.reason ? { reason: request.reason } : {}),
      };
      await deps.state.addRotationJob(id, request.jobId, record.rotationId);
      await deps.state.save(record, held.token);
      log.info(
        { rotationId: record.rotationId, previousRef: record.previousRef, forced: record.forced, trigger: record.trigger, reason: inspection.reason },
        'rotation: started',
      );
      audit(log, record.trigger === 'recreate' ? 'recreate.started' : 'rotation.started', {
        rotationId: record.rotationId,
        trigger: record.trigger,
        actor: record.actor ?? null,
        reason: record.reason ?? null,
        replacedRef: record.previousRef || null,
      });
      return continueRotation(deps, provider, credential, record, held, log, { current, inspection });
    }
    log.info({ rotationId: record.rotationId, step: record.step, startedBy: record.jobId }, 'rotation: resuming');
    await deps.state.addRotationJob(id, request.jobId, record.rotationId);
    // Before promotion the replaced credential is still current: its days to expiry keep counting.
    if (record.step !== 'revoke') await refreshExpiry(deps, provider, credential, held, log);
    return continueRotation(deps, provider, credential, record, held, log);
  });
}

/**
 * Whether rotation `rotationId` was promoted: its version (the rotation id is the version id) is
 * labelled AWSCURRENT, or AWSPREVIOUS once the next value went current. A version never promoted
 * carries AWSPENDING or no label; a secret or version that does not exist was never promoted.
 */
async function wasPromoted(deps: RotationDeps, secretId: string, rotationId: string): Promise<boolean> {
  try {
    const version = (await deps.secrets.listVersions(secretId)).find((v) => v.versionId === rotationId);
    return version !== undefined && version.stages.some((s) => s === AWSCURRENT || s === AWSPREVIOUS);
  } catch (error) {
    if (error instanceof SecretNotFoundError) return false;
    throw error;
  }
}

/**
 * A resumed rotation re-reads the current credential's expiry, so that a rotation stuck for days
 * does not show (nor alert with) the days it began with. Best effort: the rotation goes on without.
 */
async function refreshExpiry<C extends RotatableCredential, S>(
  deps: RotationDeps,
  provider: RotationProvider<C, S>,
  credential: C,
  held: HeldLock,
  log: Logger,
): Promise<void> {
  // Only kinds whose credentials expire.
  if (!provider.expiryOf) return;
  try {
    const now = deps.now();
    const inspection = await provider.inspect(credential, await readCurrentSecret(deps, provider, credential.secretId), now);
    if (!inspection.expiresAt) return;
    const fields = {
      lastCheckAt: now.toISOString(),
      expiresAt: inspection.expiresAt.toISOString(),
      daysToExpiry: String(daysUntil(inspection.expiresAt, now)),
    };
    await deps.state.updateStatus(credential.id, fields, held.token);
  } catch (error) {
    if (error instanceof LeaseLostError) throw error;
    log.warn(
      { err: { type: (error as Error).name, message: (error as Error).message } },
      "rotation: could not refresh the current credential's expiry; resuming without",
    );
  }
}

/**
 * The delayed revoke after an overlap window, judged by the revoke guard: never what a stage of
 * the secret holds, never inside a later rotation's window (deferred to its end), never an id that
 * is not provably the credential the named rotation replaced, whatever the job says.
 */
export async function revokePrevious<C extends RotatableCredential, S>(
  deps: RotationDeps,
  provider: RotationProvider<C, S>,
  credential: C,
  request: RevokeRequest,
  logger: Logger,
): Promise<RevokeOutcome> {
  const log = logger.child({ credentialId: credential.id, rotationId: request.rotationId, previousRef: request.previousRef });
  return withLock(deps.lock, credential.id, async (held) => {
    const current = await step(credential.id, 'read-secret', () => readCurrentSecret(deps, provider, credential.secretId));
    const fence = () => held.assertHeld();
    const verdict = await step(credential.id, 'revoke', () => revokeReplaced(deps, provider, credential, current, request, fence));
    if (verdict.action === 'deferred') {
      await recordSeen(deps, credential.id, verdict, held.token);
      log.info({ until: verdict.until.toISOString() }, 'rotation: revoke deferred to the end of an overlap window');
      audit(log, 'revoke.deferred', { rotationId: request.rotationId, ref: request.previousRef, until: verdict.until.toISOString(), why: verdict.reason });
      throw new RevokeDeferredError(credential.id, verdict.until);
    }
    const state = await step(credential.id, 'revoke', () => settle(deps, credential.id, request.previousRef, verdict, log, held.token, request.rotationId));
    const status = await deps.state.readStatus(credential.id);
    if (status.previousRef === request.previousRef) await deps.state.updateStatus(credential.id, { previousState: state, previousRevokeAt: '' }, held.token);
    log.info({ state }, 'rotation: previous credential handled');
    const unrevoked = unrevokedRefs(await deps.state.readStatus(credential.id));
    return { rotationId: request.rotationId, previousState: state, summary: `previous ${request.previousRef}: ${state}`, unrevoked };
  });
}
