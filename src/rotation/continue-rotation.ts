import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log/logger.ts';
import { ProviderAuthError } from '../errors/provider-errors.ts';
import { SecretNotFoundError } from '../secrets/errors.ts';
import { AWSPENDING } from '../secrets/store-types.ts';
import type { HeldLock } from '../lease/credential-lock.ts';
import { LeaseLostError, RotationStepError, WeakerCredentialError } from './errors.ts';
import { deleteUnpromoted, describeRevoke, reap, recordSeen, revokeReplaced, settle } from './retire.ts';
import type { Inspection, RotationProvider } from './rotation-provider.ts';
import type { RotationRecord, RotationStep } from '../state/rotation-state.ts';
import { withFacts } from './facts.ts';
import { audit } from '../log/audit.ts';
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

/** One rotation as this run drives it: what every step reads, and how a step hands over to the next. */
interface Rotation<C extends RotatableCredential, S> {
  deps: RotationDeps;
  provider: RotationProvider<C, S>;
  credential: C;
  held: HeldLock;
  log: Logger;
  /** Set when the rotation began in this run: the current value it read, and its inspection, a moment ago. */
  fresh?: { current: S; inspection: Inspection } | undefined;
  /** Set when this very run created the new credential and compared its rights with the old one's. */
  capabilitiesChecked: boolean;
}

/** Steps 2 to 4 of the protocol (docs/design.md, "The rotation protocol"): each returns the record at its next step. */
type Step = <C extends RotatableCredential, S>(r: Rotation<C, S>, record: RotationRecord) => Promise<RotationRecord>;

/** The record at its next step, saved under the lock: a run taking over resumes there. */
async function advance(
  r: Rotation<RotatableCredential, unknown>,
  record: RotationRecord,
  next: RotationStep,
  extra: Partial<RotationRecord> = {},
): Promise<RotationRecord> {
  r.held.assertHeld();
  const advanced = { ...record, ...extra, step: next };
  await r.deps.state.save(advanced, r.held.token);
  return advanced;
}

/** The new credential, from this rotation's version (the rotation id is its version id). */
async function readPending<C extends RotatableCredential, S>(r: Rotation<C, S>, rotationId: string): Promise<S> {
  const stored = await r.deps.secrets.readVersion(r.credential.secretId, rotationId);
  return r.provider.parseSecret(stored.secretString, r.credential.secretId);
}

/** The current value: the one this run read a moment ago, else read now. */
async function currentValue<C extends RotatableCredential, S>(r: Rotation<C, S>): Promise<S> {
  return r.fresh?.current ?? (await step(r.credential.id, 'read-secret', () => readCurrentSecret(r.deps, r.provider, r.credential.secretId)));
}

/**
 * A step that fails for good before promotion abandons the rotation: AWSCURRENT still holds the
 * old, working credential, and whatever was created becomes an orphan for the reaper.
 */
async function abandonOnPermanent<T>(r: Rotation<RotatableCredential, unknown>, rotationId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RotationStepError && error.permanent) {
      await r.deps.state.clear(r.credential.id, rotationId, r.held.token);
      audit(r.log, 'rotation.abandoned', { rotationId, why: error.cause instanceof Error ? error.cause.name : error.name });
    }
    throw error;
  }
}

/**
 * A new credential weaker than the one it replaces, never promoted: deleted through the guard, best
 * effort (what is left is the reaper's). A stage holding it keeps it, and says so.
 */
async function discard<C extends RotatableCredential, S>(r: Rotation<C, S>, rotationId: string, acting: S, ref: string): Promise<void> {
  const verdict = await deleteUnpromoted(r.deps, r.provider, r.credential, acting, ref, () => r.held.assertHeld()).catch((error: unknown) => {
    if (error instanceof LeaseLostError) throw error;
    return { action: 'failed' as const, reason: (error as Error).name };
  });
  if (verdict.action === 'revoked')
    audit(r.log, 'credential.revoked', {
      rotationId,
      ref,
      state: verdict.result.state,
      by: 'revoke',
      why: 'weaker than the credential it would replace; never promoted',
    });
  if (verdict.action === 'revoked' || verdict.action === 'gone') r.log.info({ rotationId, ref }, 'rotation: the weaker new credential deleted');
  else r.log.warn({ rotationId, ref, verdict: verdict.action, reason: verdict.reason }, 'rotation: the weaker new credential kept');
}

/** 2. create: a new credential from the provider, stored as AWSPENDING in the same step. */
const create: Step = (r, record) =>
  abandonOnPermanent(r, record.rotationId, async () => {
    const { id, secretId } = r.credential;
    const { rotationId } = record;
    // A rotation that began in this run has stored nothing yet; a resumed one may have.
    const stored = r.fresh ? undefined : await step(id, 'create', () => readVersionIfStored(r.deps, secretId, rotationId));
    // Stored before a crash: never create a second credential for one rotation.
    if (stored !== undefined) return advance(r, record, 'test', { newRef: r.provider.refOf(r.provider.parseSecret(stored, secretId)) ?? '' });
    const current = await currentValue(r);
    const context = {
      rotationId,
      startedAt: record.startedAt,
      firstAttempt: r.fresh !== undefined,
      scope: r.deps.scope,
      previousRef: record.previousRef,
      ...(r.fresh ? { inspection: r.fresh.inspection } : {}),
    };
    const issued = await step(id, 'create', () => r.provider.issue(r.credential, current, context)).catch(async (error: unknown) => {
      // Weaker than the credential it replaces: never stored, deleted through the guard (a
      // failure leaves it to the reaper).
      if (error instanceof RotationStepError && error.cause instanceof WeakerCredentialError) await discard(r, rotationId, current, error.cause.ref);
      throw error;
    });
    r.held.assertHeld();
    // Stored at once, in the step that received it: a crash from here on leaves it findable.
    // With the rotation's facts beside the kind's fields: its history outlives Redis.
    const value = withFacts(r.provider.serializeSecret(issued.secret, secretId), {
      id: rotationId,
      trigger: record.trigger,
      startedAt: record.startedAt,
      actor: record.actor ?? null,
      reason: record.reason ?? null,
      replaced: record.previousRef || null,
    });
    await step(id, 'store', () =>
      r.deps.secrets.putPending(secretId, rotationId, value).catch((error: unknown) => {
        // No secret yet (kinds that start from nothing): this version is its first, and current.
        if (error instanceof SecretNotFoundError && r.provider.missingSecret)
          return r.deps.secrets.create(secretId, rotationId, value, { kmsKeyId: r.credential.kmsKeyId, tags: r.credential.tags });
        throw error;
      }),
    );
    r.capabilitiesChecked = issued.capabilitiesChecked === true;
    r.log.info({ rotationId, newRef: issued.ref }, 'rotation: new credential created and stored as AWSPENDING');
    audit(r.log, 'credential.created', { rotationId, ref: issued.ref });
    // This rotation's version now holds the new credential: what it made before can never be stored.
    for (const ref of issued.unusable ?? []) {
      r.held.assertHeld();
      const verdict = await step(id, 'create', () => deleteUnpromoted(r.deps, r.provider, r.credential, current, ref, () => r.held.assertHeld()));
      if (verdict.action === 'revoked') {
        audit(r.log, 'credential.revoked', { rotationId, ref, state: verdict.result.state, by: 'revoke', why: 'made before a crash and never stored' });
        r.log.info({ rotationId, ref }, 'rotation: a credential this rotation made before a crash, never stored, deleted');
      } else
        r.log.warn(
          { rotationId, ref, verdict: verdict.action, ...('reason' in verdict ? { reason: verdict.reason } : {}) },
          'rotation: a credential this rotation made before a crash kept',
        );
    }
    return advance(r, record, 'test', { newRef: issued.ref });
  });

/** 3. test: the pending credential works, with at least the rights of the one it replaces. */
const test: Step = (r, record) =>
  abandonOnPermanent(r, record.rotationId, async () => {
    const { id, secretId } = r.credential;
    const { rotationId } = record;
    const pending = await step(id, 'test', () => readPending(r, rotationId));
    const current = await currentValue(r);
    await step(id, 'test', () =>
      testFresh(r.deps, r.log, () =>
        r.provider.test(r.credential, pending, { current, previousRef: record.previousRef, capabilitiesChecked: r.capabilitiesChecked }),
      ),
    ).catch(async (error: unknown) => {
      if (error instanceof RotationStepError && error.cause instanceof WeakerCredentialError) {
        // Stored but never promoted: off AWSPENDING first (no stage may hold a revoked credential), then deleted.
        r.held.assertHeld();
        await r.deps.secrets.unlabel(secretId, AWSPENDING, rotationId);
        await discard(r, rotationId, current, error.cause.ref);
      }
      throw error;
    });
    r.log.info({ rotationId }, 'rotation: new credential works');
    return advance(r, record, 'finish');
  });

/** 4. finish: AWSCURRENT moves to the pending version; the old one becomes AWSPREVIOUS. */
const finish: Step = async (r, record) => {
  r.held.assertHeld();
  await step(r.credential.id, 'finish', () => r.deps.secrets.promote(r.credential.secretId, record.rotationId));
  r.log.info({ rotationId: record.rotationId }, 'rotation: new credential promoted to AWSCURRENT');
  audit(r.log, 'rotation.promoted', {
    rotationId: record.rotationId,
    ...(record.newRef ? { ref: record.newRef } : {}),
    replacedRef: record.previousRef || null,
  });
  return advance(r, record, 'revoke');
};

/** The steps before revoke, by the step a record is at. */
const STEPS: Record<Exclude<RotationStep, 'revoke'>, Step> = { create, test, finish };

/** What became of the replaced credential in the revoke step; `failure` when its revoke failed for good. */
interface RevokeResult {
  state: string;
  revokeAt: string;
  failure?: RotationStepError;
}

/**
 * 5. revoke: the replaced credential, through the guard — at once with no overlap window, else a
 * delayed `revoke-previous` job at the window's end (or at a later rotation's, when the guard defers).
 */
async function revoke<C extends RotatableCredential, S>(r: Rotation<C, S>, record: RotationRecord, acting: S, now: Date): Promise<RevokeResult> {
  const { id } = r.credential;
  const { rotationId, previousRef } = record;
  const scheduleAt = async (at: Date): Promise<RevokeResult> => {
    await step(id, 'revoke', () => r.deps.scheduleRevoke({ credentialId: id, rotationId, previousRef }, Math.max(0, at.getTime() - now.getTime())));
    audit(r.log, 'revoke.scheduled', { rotationId, ref: previousRef, until: at.toISOString() });
    return { state: previousStateText.scheduled(at), revokeAt: at.toISOString() };
  };
  if (previousRef === '') return { state: describeRevoke({ state: 'nothing-to-revoke' }, ''), revokeAt: '' };
  if (r.credential.revokePreviousAfterMs > 0) return scheduleAt(new Date(now.getTime() + r.credential.revokePreviousAfterMs));
  try {
    const verdict = await step(id, 'revoke', () =>
      revokeReplaced(r.deps, r.provider, r.credential, acting, { rotationId, previousRef }, () => r.held.assertHeld()),
    );
    if (verdict.action === 'deferred') {
      await recordSeen(r.deps, id, verdict, r.held.token);
      audit(r.log, 'revoke.deferred', { rotationId, ref: previousRef, until: verdict.until.toISOString(), why: verdict.reason });
      return await scheduleAt(verdict.until);
    }
    return { state: await settle(r.deps, id, previousRef, verdict, r.log, r.held.token, rotationId), revokeAt: '' };
  } catch (error) {
    const failure = error instanceof RotationStepError ? error : new RotationStepError(id, 'revoke', error);
    // A transient failure is retried with the rotation still recorded at the revoke step.
    if (!failure.permanent) throw failure;
    return { state: previousStateText.revokeFailed(failure.message), revokeAt: '', failure };
  }
}

/**
 * Drives a recorded rotation from its step to its end (docs/design.md, "The rotation protocol"):
 * create, test and finish each hand the record, saved at its next step, to the next; then the
 * revoke step, the status, and the reaper. A run resumed after a crash starts at the recorded step.
 */
export async function continueRotation<C extends RotatableCredential, S>(
  deps: RotationDeps,
  provider: RotationProvider<C, S>,
  credential: C,
  initial: RotationRecord,
  held: HeldLock,
  log: Logger,
  /** Set when the rotation began in this run: the current value it read, and its inspection, a moment ago. */
  fresh?: { current: S; inspection: Inspection },
): Promise<RotationOutcome> {
  const r: Rotation<C, S> = { deps, provider, credential, held, log, fresh, capabilitiesChecked: false };
  let record = initial;
  while (record.step !== 'revoke') record = await STEPS[record.step](r, record);
  const { id } = credential;
  const { rotationId } = record;
  const acting = await step(id, 'revoke', () => readPending(r, rotationId));
  const now = deps.now();
  const previous = await revoke(r, record, acting, now);
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
  if (previous.failure) throw previous.failure;
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
