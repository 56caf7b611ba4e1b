import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log/logger.ts';
import { ProviderAuthError } from '../errors/provider-errors.ts';
import { SecretNotFoundError } from '../secrets/errors.ts';
import { AWSPENDING } from '../secrets/store-types.ts';
import type { HeldLock } from '../lease/credential-lock.ts';
import { LeaseLostError, RotationStepError, WeakerCredentialError } from './errors.ts';
import { deleteUnpromoted, describeRevoke, reap, recordSeen, revokeReplaced, settle } from './retire.ts';
import type { Inspection, RotationProvider } from './rotation-provider.ts';
import type { RotationRecord } from '../state/rotation-state.ts';
import { unrevokedRefs } from './unrevoked.ts';
import { previousStateText } from './previous-state.ts';

import { daysUntil, FRESH_REFUSAL_DELAYS_MS, readCurrentSecret, step, type RotatableCredential, type RotationDeps, type RotationOutcome } from './protocol.ts';

async function readVersionIfStored(deps: RotationDeps, secretId: string, versionId: string): Promise<string | undefined> {
  try {
    return (await deps.secrets.readVersion(secretId, versionId)).secretString;
  } catch (error) {
    if (error instanceof SecretNotFoundError) return undefined;
    throw error;
  }
}

export async function continueRotation<C extends RotatableCredential, S>(
  deps: RotationDeps,
  provider: RotationProvider<C, S>,
  credential: C,
  record: RotationRecord,
  held: HeldLock,
  log: Logger,
  /** Set when the rotation began in this run: the current value it read, and its inspection, a moment ago. */
  fresh?: { current: S; inspection: Inspection },
): Promise<RotationOutcome> {
  const { id, secretId } = credential;
  const { rotationId } = record;
  const advance = async (next: RotationRecord['step'], extra: Partial<RotationRecord> = {}) => {
    held.assertHeld();
    record = { ...record, ...extra, step: next };
    await deps.state.save(record, held.token);
  };
  const readPending = async () => {
    const stored = await deps.secrets.readVersion(secretId, rotationId);
    return provider.parseSecret(stored.secretString, secretId);
  };
  // A rotation that fails for good before promotion is abandoned: AWSCURRENT still holds the old,
  // working credential, and whatever was created becomes an orphan for the reaper.
  const abandonOnPermanent = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof RotationStepError && error.permanent) await deps.state.clear(id, rotationId, held.token);
      throw error;
    }
  };

  const fence = () => held.assertHeld();
  // A new credential weaker than the one it replaces, never promoted: deleted through the guard,
  // best effort (what is left is the reaper's). A stage holding it keeps it, and says so.
  const discard = async (acting: S, ref: string) => {
    const verdict = await deleteUnpromoted(deps, provider, credential, acting, ref, fence).catch((error: unknown) => {
      if (error instanceof LeaseLostError) throw error;
      return { action: 'failed' as const, reason: (error as Error).name };
    });
    if (verdict.action === 'revoked' || verdict.action === 'gone') log.info({ rotationId, ref }, 'rotation: the weaker new credential deleted');
    else log.warn({ rotationId, ref, verdict: verdict.action, reason: verdict.reason }, 'rotation: the weaker new credential kept');
  };
  // Set when this very run created the new credential and compared its rights with the old one's.
  let capabilitiesChecked = false;
  if (record.step === 'create') {
    await abandonOnPermanent(async () => {
      // A rotation that began in this run has stored nothing yet; a resumed one may have.
      const stored = fresh ? undefined : await step(id, 'create', () => readVersionIfStored(deps, secretId, rotationId));
      if (stored !== undefined) {
        // Stored before a crash: never create a second credential for one rotation.
        await advance('test', { newRef: provider.refOf(provider.parseSecret(stored, secretId)) ?? '' });
        return;
      }
      const current = fresh?.current ?? (await step(id, 'read-secret', () => readCurrentSecret(deps, provider, secretId)));
      const context = {
        rotationId,
        startedAt: record.startedAt,
        firstAttempt: fresh !== undefined,
        scope: deps.scope,
        previousRef: record.previousRef,
        ...(fresh ? { inspection: fresh.inspection } : {}),
      };
      const issued = await step(id, 'create', () => provider.issue(credential, current, context)).catch(async (error: unknown) => {
        // Weaker than the credential it replaces: never stored, deleted through the guard (a
        // failure leaves it to the reaper).
        if (error instanceof RotationStepError && error.cause instanceof WeakerCredentialError) await discard(current, error.cause.ref);
        throw error;
      });
      held.assertHeld();
      // Stored at once, in the step that received it: a crash from here on leaves it findable.
      const value = provider.serializeSecret(issued.secret, secretId);
      await step(id, 'store', () =>
        deps.secrets.putPending(secretId, rotationId, value).catch((error: unknown) => {
          // No secret yet (kinds that start from nothing): this version is its first, and current.
          if (error instanceof SecretNotFoundError && provider.missingSecret) return deps.secrets.create(secretId, rotationId, value);
          throw error;
        }),
      );
      capabilitiesChecked = issued.capabilitiesChecked === true;
      log.info({ rotationId, newRef: issued.ref }, 'rotation: new credential created and stored as AWSPENDING');
      // This rotation's version now holds the new credential: what it made before can never be stored.
      for (const ref of issued.unusable ?? []) {
        held.assertHeld();
        const verdict = await step(id, 'create', () => deleteUnpromoted(deps, provider, credential, current, ref, fence));
        if (verdict.action === 'revoked') log.info({ rotationId, ref }, 'rotation: a credential this rotation made before a crash, never stored, deleted');
        else
          log.warn(
            { rotationId, ref, verdict: verdict.action, ...('reason' in verdict ? { reason: verdict.reason } : {}) },
            'rotation: a credential this rotation made before a crash kept',
          );
      }
      await advance('test', { newRef: issued.ref });
    });
  }
  if (record.step === 'test') {
    await abandonOnPermanent(async () => {
      const pending = await step(id, 'test', readPending);
      const current = fresh?.current ?? (await step(id, 'read-secret', () => readCurrentSecret(deps, provider, secretId)));
      await step(id, 'test', () =>
        testFresh(deps, log, () => provider.test(credential, pending, { current, previousRef: record.previousRef, capabilitiesChecked })),
      ).catch(async (error: unknown) => {
        if (error instanceof RotationStepError && error.cause instanceof WeakerCredentialError) {
          // Stored but never promoted: off AWSPENDING first (no stage may hold a revoked credential), then deleted.
          held.assertHeld();
          await deps.secrets.unlabel(secretId, AWSPENDING, rotationId);
          await discard(current, error.cause.ref);
        }
        throw error;
      });
      log.info({ rotationId }, 'rotation: new credential works');
      await advance('finish');
    });
  }
  if (record.step === 'finish') {
    held.assertHeld();
    await step(id, 'finish', () => deps.secrets.promote(secretId, rotationId));
    log.info({ rotationId }, 'rotation: new credential promoted to AWSCURRENT');
    await advance('revoke');
  }
  // record.step is 'revoke' here.
  const acting = await step(id, 'revoke', readPending);
  const now = deps.now();
  let previous: { state: string; revokeAt: string };
  let revokeFailure: RotationStepError | undefined;
  const scheduleAt = async (at: Date) => {
    await step(id, 'revoke', () =>
      deps.scheduleRevoke({ credentialId: id, rotationId, previousRef: record.previousRef }, Math.max(0, at.getTime() - now.getTime())),
    );
    return { state: previousStateText.scheduled(at), revokeAt: at.toISOString() };
  };
  if (record.previousRef === '') {
    previous = { state: describeRevoke({ state: 'nothing-to-revoke' }, ''), revokeAt: '' };
  } else if (credential.revokePreviousAfterMs > 0) {
    previous = await scheduleAt(new Date(now.getTime() + credential.revokePreviousAfterMs));
  } else {
    try {
      const verdict = await step(id, 'revoke', () =>
        revokeReplaced(deps, provider, credential, acting, { rotationId, previousRef: record.previousRef }, fence),
      );
      if (verdict.action === 'deferred') {
        await recordSeen(deps, id, verdict, held.token);
        previous = await scheduleAt(verdict.until);
      } else previous = { state: await settle(deps, id, record.previousRef, verdict, log, held.token), revokeAt: '' };
    } catch (error) {
      revokeFailure = error instanceof RotationStepError ? error : new RotationStepError(id, 'revoke', error);
      // A transient failure is retried with the rotation still recorded at the revoke step.
      if (!revokeFailure.permanent) throw revokeFailure;
      previous = { state: previousStateText.revokeFailed(revokeFailure.message), revokeAt: '' };
    }
  }
  // The new credential's expiry is in the stored value where the kind has one: no provider call.
  const expiresAt = provider.expiryOf?.(acting);
  const outcome: RotationOutcome = {
    action: 'rotated',
    rotationId,
    summary: `rotated: new credential ${record.newRef ?? ''} in AWSCURRENT; previous ${record.previousRef}: ${previous.state}`,
    previousState: previous.state,
    ...(expiresAt ? { expiresAt: expiresAt.toISOString(), daysToExpiry: daysUntil(expiresAt, now) } : {}),
  };
  await deps.state.updateStatus(
    id,
    {
      lastResult: 'rotated',
      lastSummary: outcome.summary,
      lastRotationId: rotationId,
      lastRotationJobId: record.jobId,
      lastRotatedAt: now.toISOString(),
      lastCheckAt: now.toISOString(),
      expiresAt: outcome.expiresAt ?? '',
      daysToExpiry: outcome.daysToExpiry?.toString() ?? '',
      previousRef: record.previousRef,
      previousRevokeAt: previous.revokeAt,
      previousState: previous.state,
    },
    held.token,
  );
  await deps.state.clear(id, rotationId, held.token);
  log.info({ rotationId, previousState: previous.state, daysToExpiry: outcome.daysToExpiry }, 'rotation: finished');
  const finished = await deps.state.readStatus(id);
  // A rotation that began without a known credential (a lost secret) deletes nothing in its run.
  if (record.previousRef !== '') await reap(deps, provider, credential, acting, log, held);
  if (revokeFailure) throw revokeFailure;
  return { ...outcome, unrevoked: unrevokedRefs(finished) };
}

/**
 * The test of a credential made a moment ago. A refusal (401) may only mean the provider has not
 * spread it yet: asked again after the delays, a bounded number of times, before it counts.
 */
async function testFresh(deps: RotationDeps, log: Logger, test: () => Promise<void>): Promise<void> {
  const delays = deps.freshRefusalDelaysMs ?? FRESH_REFUSAL_DELAYS_MS;
  for (let n = 0; ; n += 1) {
    try {
      return await test();
    } catch (error) {
      const refused = error instanceof ProviderAuthError && error.status === 401;
      if (!refused || n >= delays.length) throw error;
      log.warn({ attempt: n + 1, waitMs: delays[n] }, 'rotation: the new credential was refused right after creation; asking again');
      await delay(delays[n]);
    }
  }
}
