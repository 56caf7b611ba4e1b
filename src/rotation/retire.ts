import type { Logger } from '../log/logger.ts';
import { AWSPREVIOUS } from '../secrets/secret-store.ts';
import {
  holds,
  madeForAnotherSecret,
  ownershipOf,
  protectedUntil,
  readStages,
  stagesHolding,
  newGuardCache,
  versionDate,
  type GuardCache,
  type GuardContext,
  type GuardSecrets,
  type StageValues,
} from './revoke-guard.ts';
import { LeaseLostError, RevokeRefusedError } from './errors.ts';
import { previousStateText } from './previous-state.ts';
import { describeNotRevoked, noteUnrevoked } from './unrevoked.ts';
import type { ListedCredential, RevokeResult, RotationProvider } from './rotation-provider.ts';
import type { RotationStateStore } from '../state/rotation-state.ts';

/**
 * Revoking what rotations replaced and reaping what they left behind, both through the revoke
 * guard: every delete is judged immediately before it is sent.
 */

export interface RetireDeps {
  secrets: GuardSecrets;
  state: Pick<RotationStateStore, 'readStatus' | 'updateStatus'>;
  /** This deployment's scope (the queue prefix). */
  scope: string;
  now(): Date;
}

/**
 * The lock holder a retire step acts for: `assertHeld` before each delete, and `token` for its
 * status writes, compare-and-set against the lock like every write later decisions depend on.
 */
export interface RetireHolder {
  readonly token: string;
  assertHeld(): void;
}

export interface RetirableCredential {
  id: string;
  secretId: string;
  revokePreviousAfterMs: number;
}

export type RevokeVerdict =
  /** Sent to the provider; `result` says what it answered. */
  | { action: 'revoked'; result: RevokeResult }
  /** The provider no longer lists it. */
  | { action: 'gone' }
  /** A stage of the secret holds it (a person put it back, or a rotation is pending with it): never revoked. */
  | { action: 'cancelled'; reason: string }
  /** Inside an overlap window: to be tried again at `until`. */
  | { action: 'deferred'; until: Date; reason: string }
  /** Not provably the credential this rotation replaced, or no credential to act with. */
  | { action: 'refused'; reason: string };

function context(deps: RetireDeps, credential: RetirableCredential, listing: ListedCredential[], status: GuardContext['status']): GuardContext {
  return {
    secrets: deps.secrets,
    secretId: credential.secretId,
    credentialId: credential.id,
    scope: deps.scope,
    overlapMs: credential.revokePreviousAfterMs,
    now: deps.now(),
    status,
    listing,
  };
}

/**
 * Why `target` is not provably the credential rotation `rotationId` of this credential replaced;
 * undefined when it is. Redis only names the ids: the proof is at the provider (the replacing
 * credential's marker, this deployment's, names the target; the target carries this deployment's
 * marker) and in Secrets Manager (the rotation stored its version; a credential the rotator did not
 * make must have been held by a version of this secret).
 */
async function unproven(ctx: GuardContext, target: ListedCredential, rotationId: string, stages: StageValues, cache: GuardCache): Promise<string | undefined> {
  const own = ownershipOf(target, ctx);
  if (madeForAnotherSecret(target, ctx)) {
    return 'its marker names another secret (another deployment at the same queue prefix, or this credential under an earlier secretId): revoke it by hand if it is this one';
  }
  if (own === 'foreign') return 'it carries the marker of another credential or deployment';
  const replacer = ctx.listing.find((x) => x.ref !== target.ref && x.marker?.rotationId === rotationId && ownershipOf(x, ctx) !== 'foreign');
  // The replacing credential's marker names what it replaced. Once it is gone too (revoked by a
  // later rotation's revoke, which may run first), the secret's history is the proof left.
  const replaces = replacer?.marker?.replaces;
  if (replaces !== undefined && replaces !== target.ref) return `rotation ${rotationId} replaced ${replaces === '' ? 'no known credential' : replaces}, not it`;
  if ((await versionDate(ctx, rotationId, cache)) === null) return `rotation ${rotationId} stored no version in the secret`;
  if (own === 'ours' || stagesHolding(stages, target).length > 0) return undefined;
  // Not made by this deployment (the first token, put in by a person; or marked before scopes):
  // it must have been this credential's value at some time.
  for (const version of await ctx.secrets.listVersions(ctx.secretId, { includeDeprecated: true })) {
    if (version.versionId === rotationId) continue;
    const stored = await ctx.secrets.readVersion(ctx.secretId, version.versionId).catch(() => undefined);
    if (stored && holds(stored.secretString, target)) return undefined;
  }
  return 'it was never held by a version of this secret';
}

/**
 * The revoke of the credential `request.rotationId` replaced, judged by the guard immediately
 * before it is sent, and sent when allowed. `fence` is called before every write.
 */
export async function revokeReplaced<C extends RetirableCredential, S>(
  deps: RetireDeps,
  provider: RotationProvider<C, S>,
  credential: C,
  acting: S,
  request: { rotationId: string; previousRef: string },
  fence: () => void = () => undefined,
): Promise<RevokeVerdict> {
  if (!provider.hasCredential(acting)) return { action: 'refused', reason: 'no known acting credential: the secret is missing, empty or malformed' };
  const listing = await provider.list(credential, acting);
  const target = listing.find((x) => x.ref === request.previousRef);
  if (!target) return { action: 'gone' };
  const ctx = context(deps, credential, listing, await deps.state.readStatus(credential.id));
  const cache = newGuardCache();
  let stages = await readStages(deps.secrets, credential.secretId);
  const refusal = await unproven(ctx, target, request.rotationId, stages, cache);
  if (refusal) return { action: 'refused', reason: refusal };
  const pinned = stagesHolding(stages, target).filter((s) => s !== AWSPREVIOUS);
  if (pinned.length) return { action: 'cancelled', reason: `${pinned.join(' and ')} holds it` };
  const until = await protectedUntil(ctx, target, cache);
  if (until) return { action: 'deferred', until, reason: `inside the overlap window of a later rotation until ${until.toISOString()}` };
  const previous = stages.get(AWSPREVIOUS);
  if (previous && holds(previous.secretString, target)) {
    // Promotion left the replaced credential labelled AWSPREVIOUS. The label goes first, so that no
    // stage ever holds a revoked credential; then every stage is read again.
    fence();
    await deps.secrets.unlabel(credential.secretId, AWSPREVIOUS, previous.versionId);
    stages = await readStages(deps.secrets, credential.secretId);
    const still = stagesHolding(stages, target);
    if (still.length) return { action: 'cancelled', reason: `${still.join(' and ')} holds it` };
  }
  fence();
  return { action: 'revoked', result: await provider.revoke(credential, acting, target.ref) };
}

/**
 * Deletes the credential's orphans: what this deployment made for it that no stage holds and no
 * overlap window protects. Runs only while no rotation of the credential is live, and only with a
 * known acting credential. Left alone, and named for a person: credentials marked before markers
 * carried a scope, and whatever was made before a recreation from a lost secret (it may still be
 * in use under a secret the rotator no longer knows). Best effort: the next run tries again.
 */
export async function reap<C extends RetirableCredential, S>(
  deps: RetireDeps,
  provider: RotationProvider<C, S>,
  credential: C,
  acting: S,
  log: Logger,
  held: RetireHolder,
): Promise<string[]> {
  if (!provider.hasCredential(acting)) {
    log.info('rotation: no known acting credential (the secret is missing, empty or malformed): nothing reaped in this run');
    return [];
  }
  const deleted: string[] = [];
  try {
    const listing = await provider.list(credential, acting);
    const owner = { credentialId: credential.id, scope: deps.scope, secretId: credential.secretId };
    const own = (x: ListedCredential) => ownershipOf(x, owner);
    const recreatedFromLoss = Math.max(0, ...listing.filter((x) => own(x) === 'ours' && x.marker?.replaces === '').map((x) => x.createdAt.getTime()));
    // What an earlier run left alone stays so: the recreation that dated it may itself have been
    // rotated away and deleted since, taking the date out of the listing.
    const remembered = new Set(((await deps.state.readStatus(credential.id)).leftAlone ?? '').split(' ').filter(Boolean));
    const beforeLoss = (x: ListedCredential) => x.createdAt.getTime() < recreatedFromLoss || remembered.has(x.ref);
    const leftAlone = listing.filter((x) => own(x) === 'legacy' || madeForAnotherSecret(x, owner) || (own(x) === 'ours' && beforeLoss(x))).map((x) => x.ref);
    // The acting credential is AWSCURRENT: left out here already, so a run with nothing else reads no stages.
    const actingRef = provider.refOf(acting);
    const candidates = listing.filter((x) => own(x) === 'ours' && x.ref !== actingRef && !beforeLoss(x));
    if (leftAlone.length) {
      log.warn(
        { refs: leftAlone },
        'rotation: earlier credentials left alone for a person to confirm (made before a recreation from a lost secret, before markers named a deployment and a secret, or for a secret of another name)',
      );
    }
    // Kept current in status ('' clears it once a person has deleted them).
    await deps.state.updateStatus(credential.id, { leftAlone: leftAlone.join(' ') }, held.token);
    if (!candidates.length) return deleted;
    const ctx = context(deps, credential, listing, await deps.state.readStatus(credential.id));
    const cache = newGuardCache();
    const waiting: string[] = [];
    for (const orphan of candidates) {
      if (await protectedUntil(ctx, orphan, cache)) {
        waiting.push(orphan.ref);
        continue;
      }
      // The stages are read again before each delete: a person may have put an orphan back while
      // the one before it was being deleted.
      const stages = await readStages(deps.secrets, credential.secretId);
      if (stagesHolding(stages, orphan).length) continue;
      held.assertHeld();
      const result = await provider.revoke(credential, acting, orphan.ref);
      // Only what the provider confirms gone counts; a provider without revoke ends the round.
      if (result.state === 'revoked' || result.state === 'already-gone') deleted.push(orphan.ref);
      else if (result.state === 'left-to-expire') break;
    }
    if (waiting.length) log.info({ refs: waiting }, 'rotation: orphans inside an overlap window, left until a check after it ends');
    if (deleted.length) log.info({ deleted }, 'rotation: orphans deleted');
  } catch (error) {
    // A holder that lost its lock stops: its job is retried under the lock.
    if (error instanceof LeaseLostError) throw error;
    log.warn({ err: { type: (error as Error).name, message: (error as Error).message } }, 'rotation: orphan reaping failed; the next run tries again');
  }
  return deleted;
}

/**
 * The delete of a credential a rotation made and never promoted (weaker than the one it replaces,
 * or made before a crash and never stored), judged like every other delete immediately before it
 * is sent: the provider's listing, then the secret's stages, read just now. Kept while a stage holds
 * it (a person may have put it there); refused unless it carries this deployment's marker for this
 * credential. `fence` is called just before the delete.
 */
export async function deleteUnpromoted<C extends RetirableCredential, S>(
  deps: Pick<RetireDeps, 'secrets' | 'scope'>,
  provider: RotationProvider<C, S>,
  credential: C,
  acting: S,
  ref: string,
  fence: () => void = () => undefined,
): Promise<Exclude<RevokeVerdict, { action: 'deferred' }>> {
  if (!provider.hasCredential(acting)) return { action: 'refused', reason: 'no known acting credential: the secret is missing, empty or malformed' };
  const target = (await provider.list(credential, acting)).find((x) => x.ref === ref);
  if (!target) return { action: 'gone' };
  if (ownershipOf(target, { credentialId: credential.id, scope: deps.scope, secretId: credential.secretId }) !== 'ours')
    return { action: 'refused', reason: "it does not carry this deployment's marker for this credential" };
  const holding = stagesHolding(await readStages(deps.secrets, credential.secretId), target);
  if (holding.length) return { action: 'cancelled', reason: `${holding.join(' and ')} holds it` };
  fence();
  return { action: 'revoked', result: await provider.revoke(credential, acting, ref) };
}

export function describeRevoke(result: RevokeResult, ref: string): string {
  switch (result.state) {
    case 'not-revoked':
      return describeNotRevoked(ref, result);
    case 'revoked':
      return previousStateText.revoked();
    case 'already-gone':
      return previousStateText.alreadyGone();
    case 'nothing-to-revoke':
      return previousStateText.nothingToRevoke();
    case 'left-to-expire':
      return previousStateText.leftToExpire(result.expiresAt);
  }
}

/**
 * What a judged revoke comes to, for the outcome and the status. A cancelled revoke (a stage holds
 * the credential) is logged with why, and recorded in status; a refused one fails for good. The
 * status writes are the lock holder's (`lockToken`): a holder that lost its lock writes nothing.
 */
export async function settle(
  deps: { state: Pick<RotationStateStore, 'readStatus' | 'updateStatus'>; now(): Date },
  credentialId: string,
  ref: string,
  verdict: Exclude<RevokeVerdict, { action: 'deferred' }>,
  log: Logger,
  lockToken: string,
): Promise<string> {
  switch (verdict.action) {
    case 'revoked':
      // Still listed after the DELETE: kept in status for a person to revoke by hand.
      if (verdict.result.state === 'not-revoked') await noteUnrevoked(deps.state, credentialId, ref, lockToken);
      return describeRevoke(verdict.result, ref);
    case 'gone':
      return describeRevoke({ state: 'already-gone' }, ref);
    case 'cancelled': {
      const state = previousStateText.kept(verdict.reason);
      log.warn({ ref, reason: verdict.reason }, 'rotation: revoke cancelled, a stage of the secret holds the credential');
      await deps.state.updateStatus(credentialId, { revokeCancelled: `${ref}: ${verdict.reason} (${deps.now().toISOString()})` }, lockToken);
      return state;
    }
    case 'refused':
      throw new RevokeRefusedError(credentialId, ref, verdict.reason);
  }
}
