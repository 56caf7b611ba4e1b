import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log/logger.ts';
import { ProviderAuthError } from '../providers/errors.ts';
import { SecretNotFoundError } from '../secrets/errors.ts';
import { AWSPENDING, type SecretStore } from '../secrets/secret-store.ts';
import type { CredentialLock, HeldLock } from './credential-lock.ts';
import { CredentialBusyError, LeaseLostError, RevokeDeferredError, RotationStepError, WeakerCredentialError } from './errors.ts';
import { runFenced } from './fence.ts';
import { describeRevoke, reap, revokeReplaced, settle } from './retire.ts';
import type { GuardSecrets } from './revoke-guard.ts';
import type { Inspection, RotationProvider } from './rotation-provider.ts';
import type { RotationRecord, RotationStateStore } from './rotation-state.ts';
import { recheckUnrevoked, unrevokedRefs } from './unrevoked.ts';

const DAY_MS = 86_400_000;

/** The inventory fields the protocol reads; each rotatable kind has them. */
export interface RotatableCredential {
  id: string;
  secretId: string;
  /** Overlap before the previous credential is revoked; 0 = right after promotion. */
  revokePreviousAfterMs: number;
}

export interface RevokeRequest {
  credentialId: string;
  rotationId: string;
  previousRef: string;
}

export interface RotationDeps {
  secrets: Pick<SecretStore, 'readCurrent' | 'readVersion' | 'putPending' | 'promote' | 'create'> & GuardSecrets;
  state: RotationStateStore;
  /** This deployment's scope (the queue prefix): written into every marker, and the reaper's bound. */
  scope: string;
  lock: CredentialLock;
  /** Enqueues the delayed revoke of the previous credential; one per rotation however often it is called. */
  scheduleRevoke(request: RevokeRequest, delayMs: number): Promise<void>;
  now(): Date;
  /**
   * Waits before asking again when the provider refuses a credential it created a moment ago (it
   * may not know it everywhere yet). Default: 2 s, then 5 s; after those the refusal stands.
   */
  freshRefusalDelaysMs?: readonly number[];
}

const FRESH_REFUSAL_DELAYS_MS = [2_000, 5_000];

export interface RotationOutcome {
  action: 'rotated' | 'not-due' | 'already-done';
  summary: string;
  rotationId?: string;
  expiresAt?: string;
  daysToExpiry?: number;
  previousState?: string;
  /** Replaced credentials still valid at the provider, to revoke by hand (provider ids); unset when not checked. */
  unrevoked?: string[];
}

/** What a delayed revoke (revokePrevious) did with the replaced credential. */
export interface RevokeOutcome {
  rotationId: string;
  summary: string;
  previousState: string;
  /** Replaced credentials still valid at the provider, to revoke by hand (provider ids). */
  unrevoked: string[];
}

export function daysUntil(at: Date, now: Date): number {
  return Math.floor((at.getTime() - now.getTime()) / DAY_MS);
}

/** Runs `fn` as the named step: any failure comes out as a RotationStepError naming credential and step. */
async function step<T>(credentialId: string, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RotationStepError) throw error;
    throw new RotationStepError(credentialId, name, error);
  }
}

/** AWSCURRENT, parsed; a missing secret stands as the provider's `missingSecret()` where it has one. */
async function readCurrentSecret<S>(deps: RotationDeps, provider: RotationProvider<never, S>, secretId: string): Promise<S> {
  try {
    return provider.parseSecret((await deps.secrets.readCurrent(secretId)).secretString, secretId);
  } catch (error) {
    if (error instanceof SecretNotFoundError && provider.missingSecret) return provider.missingSecret();
    throw error;
  }
}

/**
 * Runs `fn` as the lock's holder, fenced: every provider and Secrets Manager call inside checks the
 * lease first and is aborted when it is lost (fence.ts), and every state write is compare-and-set
 * against the holder's token.
 */
async function withLock<T>(lock: CredentialLock, credentialId: string, fn: (held: HeldLock) => Promise<T>): Promise<T> {
  const held = await lock.acquire(credentialId);
  if (!held) throw new CredentialBusyError(credentialId);
  try {
    return await runFenced(held, () => fn(held));
  } finally {
    await held.release();
  }
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
  request: { jobId: string; force: boolean; logger: Logger },
): Promise<RotationOutcome> {
  const { id, secretId } = credential;
  const log = request.logger.child({ credentialId: id });
  return withLock(deps.lock, id, async (held) => {
    const status = await deps.state.readStatus(id);
    let record = await deps.state.get(id);
    if (!record && (status.lastRotationJobId === request.jobId || (await deps.state.tookPart(id, request.jobId)))) {
      // BullMQ runs again a job that began or resumed a rotation now finished (its completion was
      // lost, or it stalled): never a second rotation from it.
      return { action: 'already-done', summary: `this job already took part in a rotation (last: ${status.lastRotationId ?? 'unknown'}); not starting another` };
    }
    if (!record) {
      const current = await step(id, 'read-secret', () => readCurrentSecret(deps, provider, secretId));
      const now = deps.now();
      const inspection = await step(id, 'inspect', () => provider.inspect(credential, current, now));
      const expiry = inspection.expiresAt
        ? { expiresAt: inspection.expiresAt.toISOString(), daysToExpiry: daysUntil(inspection.expiresAt, now) }
        : {};
      await deps.state.updateStatus(
        id,
        { lastCheckAt: now.toISOString(), expiresAt: expiry.expiresAt, daysToExpiry: expiry.daysToExpiry?.toString() },
        held.token,
      );
      await reap(deps, provider, credential, current, log, () => held.assertHeld());
      const unrevoked = await recheckUnrevoked(deps.state, provider, credential, current, status, now, log);
      if (!inspection.due && !request.force) {
        const summary = `not due: ${inspection.reason}`;
        await deps.state.updateStatus(id, { lastResult: 'not-due', lastSummary: summary }, held.token);
        log.info({ ...expiry }, 'rotation: not due');
        return { action: 'not-due', summary, ...expiry, unrevoked };
      }
      record = {
        credentialId: id,
        rotationId: randomUUID(),
        jobId: request.jobId,
        step: 'create',
        startedAt: now.toISOString(),
        previousRef: inspection.ref,
        forced: !inspection.due,
      };
      await deps.state.addRotationJob(id, request.jobId);
      await deps.state.save(record, held.token);
      log.info({ rotationId: record.rotationId, previousRef: record.previousRef, forced: record.forced, reason: inspection.reason }, 'rotation: started');
      return continueRotation(deps, provider, credential, record, held, log, { current, inspection });
    }
    log.info({ rotationId: record.rotationId, step: record.step, startedBy: record.jobId }, 'rotation: resuming');
    await deps.state.addRotationJob(id, request.jobId);
    // Before promotion the replaced credential is still current: its days to expiry keep counting.
    if (record.step !== 'revoke') await refreshExpiry(deps, provider, credential, held, log);
    return continueRotation(deps, provider, credential, record, held, log);
  });
}

/**
 * A resumed rotation re-reads the current credential's expiry, so that a rotation stuck for days
 * does not show (nor alert with) the days it began with. Best effort: the rotation goes on without.
 */
async function refreshExpiry<C extends RotatableCredential, S>(deps: RotationDeps, provider: RotationProvider<C, S>, credential: C, held: HeldLock, log: Logger): Promise<void> {
  // Only kinds whose credentials expire.
  if (!provider.expiryOf) return;
  try {
    const now = deps.now();
    const inspection = await provider.inspect(credential, await readCurrentSecret(deps, provider, credential.secretId), now);
    if (!inspection.expiresAt) return;
    const fields = { lastCheckAt: now.toISOString(), expiresAt: inspection.expiresAt.toISOString(), daysToExpiry: String(daysUntil(inspection.expiresAt, now)) };
    await deps.state.updateStatus(credential.id, fields, held.token);
  } catch (error) {
    if (error instanceof LeaseLostError) throw error;
    log.warn({ err: { type: (error as Error).name, message: (error as Error).message } }, 'rotation: could not refresh the current credential\'s expiry; resuming without');
  }
}

async function readVersionIfStored(deps: RotationDeps, secretId: string, versionId: string): Promise<string | undefined> {
  try {
    return (await deps.secrets.readVersion(secretId, versionId)).secretString;
  } catch (error) {
    if (error instanceof SecretNotFoundError) return undefined;
    throw error;
  }
}

async function continueRotation<C extends RotatableCredential, S>(
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
      const issued = await step(id, 'create', () => provider.issue(credential, current, context));
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
        await step(id, 'create', () => provider.revoke(credential, current, ref));
        log.info({ rotationId, ref }, 'rotation: a credential this rotation made before a crash, never stored, deleted');
      }
      await advance('test', { newRef: issued.ref });
    });
  }
  if (record.step === 'test') {
    await abandonOnPermanent(async () => {
      const pending = await step(id, 'test', readPending);
      const current = fresh?.current ?? (await step(id, 'read-secret', () => readCurrentSecret(deps, provider, secretId)));
      await step(id, 'test', () => testFresh(deps, log, () => provider.test(credential, pending, { current, previousRef: record.previousRef, capabilitiesChecked }))).catch(
        async (error: unknown) => {
          if (error instanceof RotationStepError && error.cause instanceof WeakerCredentialError) {
            // Stored but never promoted: off AWSPENDING first (no stage may hold a revoked credential), then deleted.
            held.assertHeld();
            await deps.secrets.unlabel(secretId, AWSPENDING, rotationId);
            await provider.revoke(credential, current, error.cause.ref).catch(() => undefined);
          }
          throw error;
        },
      );
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
    await step(id, 'revoke', () => deps.scheduleRevoke({ credentialId: id, rotationId, previousRef: record.previousRef }, Math.max(0, at.getTime() - now.getTime())));
    return { state: `revoke scheduled for ${at.toISOString()}`, revokeAt: at.toISOString() };
  };
  if (record.previousRef === '') {
    previous = { state: describeRevoke({ state: 'nothing-to-revoke' }, ''), revokeAt: '' };
  } else if (credential.revokePreviousAfterMs > 0) {
    previous = await scheduleAt(new Date(now.getTime() + credential.revokePreviousAfterMs));
  } else {
    try {
      const fence = () => held.assertHeld();
      const verdict = await step(id, 'revoke', () => revokeReplaced(deps, provider, credential, acting, { rotationId, previousRef: record.previousRef }, fence));
      if (verdict.action === 'deferred') previous = await scheduleAt(verdict.until);
      else previous = { state: await settle(deps, id, record.previousRef, verdict, log), revokeAt: '' };
    } catch (error) {
      revokeFailure = error instanceof RotationStepError ? error : new RotationStepError(id, 'revoke', error);
      // A transient failure is retried with the rotation still recorded at the revoke step.
      if (!revokeFailure.permanent) throw revokeFailure;
      previous = { state: `revoke failed: ${revokeFailure.message}`, revokeAt: '' };
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
  await deps.state.updateStatus(id, {
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
  }, held.token);
  await deps.state.clear(id, rotationId, held.token);
  log.info({ rotationId, previousState: previous.state, daysToExpiry: outcome.daysToExpiry }, 'rotation: finished');
  const finished = await deps.state.readStatus(id);
  // A rotation that began without a known credential (a lost secret) deletes nothing in its run.
  if (record.previousRef !== '') await reap(deps, provider, credential, acting, log, () => held.assertHeld());
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
      log.info({ until: verdict.until.toISOString() }, 'rotation: revoke deferred to the end of an overlap window');
      throw new RevokeDeferredError(credential.id, verdict.until);
    }
    const state = await step(credential.id, 'revoke', () => settle(deps, credential.id, request.previousRef, verdict, log));
    const status = await deps.state.readStatus(credential.id);
    if (status.previousRef === request.previousRef) await deps.state.updateStatus(credential.id, { previousState: state, previousRevokeAt: '' }, held.token);
    log.info({ state }, 'rotation: previous credential handled');
    const unrevoked = unrevokedRefs(await deps.state.readStatus(credential.id));
    return { rotationId: request.rotationId, previousState: state, summary: `previous ${request.previousRef}: ${state}`, unrevoked };
  });
}
