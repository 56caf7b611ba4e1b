import { audit } from '../log/audit.ts';
import type { Logger } from '../log/logger.ts';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from '../secrets/store-types.ts';
import {
  holds,
  madeForAnotherSecret,
  ownershipOf,
  protectedUntil,
  currentSeen,
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
import { describeNotRevoked, noteUnrevoked, unprovenRefs, unrevokedRefs } from './unrevoked.ts';
import type { ListedCredential, RevokeResult, RotationProvider } from './rotation-provider.ts';
import type { CredentialStatus, RotationStateStore } from '../state/rotation-state.ts';

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
  /**
   * Inside an overlap window: to be tried again at `until`. `seen`: the current version found
   * without a record of its promotion, for the caller to record under its lock (`recordSeen`).
   */
  | { action: 'deferred'; until: Date; reason: string; seen?: Pick<CredentialStatus, 'currentSeenVersion' | 'currentSeenAt'> }
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
  // The secret named it by id under a client id that is not its own (a check found it so): it is
  // not provably this secret's, whoever replaced it since; kept, and already named for a person.
  if (unprovenRefs(ctx.status).includes(target.ref))
    return { action: 'cancelled', reason: 'the secret named it by id under another client id: not provably its own, left for a person (unproven)' };
  const cache = newGuardCache();
  let stages = await readStages(deps.secrets, credential.secretId);
  const refusal = await unproven(ctx, target, request.rotationId, stages, cache);
  if (refusal) return { action: 'refused', reason: refusal };
  const pinned = stagesHolding(stages, target).filter((s) => s !== AWSPREVIOUS);
  if (pinned.length) return { action: 'cancelled', reason: `${pinned.join(' and ')} holds it` };
  const until = await protectedUntil(ctx, target, cache);
  if (until) {
    const seen = await currentSeen(ctx, cache);
    return { action: 'deferred', until, reason: `inside the overlap window of a later rotation until ${until.toISOString()}`, ...(seen ? { seen } : {}) };
  }
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

/** One version of the secret's history, oldest first: what outlives Redis in Secrets Manager. */
interface HistoryVersion {
  versionId: string;
  /** Secrets Manager's CreatedDate (ms); 0 when it gave none. */
  createdAt: number;
  stages: string[];
  /** Undefined when the version could not be read. Never logged. */
  secretString?: string;
}

/**
 * Every version of the secret, deprecated ones included, each read once; oldest first. Each date is
 * GetSecretValue's CreatedDate (the emulator's listing reports the time of the listing instead).
 */
async function readHistory(secrets: GuardSecrets, secretId: string): Promise<HistoryVersion[]> {
  const history: HistoryVersion[] = [];
  for (const v of await secrets.listVersions(secretId, { includeDeprecated: true })) {
    const stored = await secrets.readVersion(secretId, v.versionId).catch(() => undefined);
    const createdAt = await secrets.versionCreatedAt(secretId, v.versionId).catch(() => undefined);
    history.push({ versionId: v.versionId, createdAt: createdAt?.getTime() ?? 0, stages: v.stages, ...(stored ? { secretString: stored.secretString } : {}) });
  }
  return history.sort((a, b) => a.createdAt - b.createdAt);
}

/**
 * Why a credential this deployment made for this secret is left for a person, from durable facts
 * only (the listing, the markers, the secret's versions); undefined when it is not. See
 * docs/design.md, "What stays alive": made before a recreation from a lost secret, as the listing
 * shows it (a later credential of ours marked `replaces=-`), or as the secret's history still shows
 * it once that recreation is gone — the secret's versions begin after it and none is its rotation's
 * (the secret was deleted or renamed away and made again since), or a version made after it holds
 * no credential (the secret was emptied or overwritten in place since).
 */
function madeBeforeLoss(
  x: ListedCredential,
  ours: ListedCredential[],
  history: HistoryVersion[],
  hasCredential: (secretString: string) => boolean,
): string | undefined {
  const made = x.createdAt.getTime();
  if (ours.some((y) => y.marker?.replaces === '' && y.createdAt.getTime() > made)) return 'made before a recreation from a lost secret';
  const stored = history.some((v) => v.versionId === x.marker?.rotationId);
  if (!stored && history.length && made < history[0]!.createdAt) return "made before the secret's first version (the secret was made again since)";
  if (history.some((v) => v.createdAt > made && (v.secretString === undefined || !hasCredential(v.secretString))))
    return 'made before a version of the secret that holds no credential (the secret was lost in place since)';
  return undefined;
}

/** Records what a deferred verdict found (`seen`), fenced by the caller's lock token. */
export async function recordSeen(deps: Pick<RetireDeps, 'state'>, credentialId: string, verdict: RevokeVerdict, lockToken: string): Promise<void> {
  if (verdict.action === 'deferred' && verdict.seen) await deps.state.updateStatus(credentialId, verdict.seen, lockToken);
}

/**
 * Deletes the credential's orphans: what this deployment made for it that no stage holds and no
 * overlap window protects. Runs only while no rotation of the credential is live, and only with a
 * known acting credential. Left alone, and named for a person (`leftAlone`): credentials marked
 * before markers carried a scope and a secret digest, credentials marked for a secret of another
 * name, and whatever was made before a recreation from a lost secret (it may still be in use under a
 * secret the rotator no longer knows) — decided from the listing, the markers and the secret's
 * versions, so that it holds after Redis is lost; `leftAlone` in Redis only ever adds to it.
 *
 * A credential the rotator did not make (the first one a person stored) that a version of this
 * secret held, that no current or pending stage holds now, is what a rotation replaced; its revoke
 * may have been lost with Redis. Where a listed credential of ours names it as replaced (and the
 * guard's proof holds: the rotation's version is in the secret), it is revoked through the guard,
 * after the overlap window; otherwise, when a rotation of this deployment wrote the secret after
 * it, it is named in `unrevoked` (revoke by hand). Best effort: the next run tries again.
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
    // The acting credential is AWSCURRENT: left out here already, so a run with nothing else reads no stages.
    const actingRef = provider.refOf(acting);
    const ours = listing.filter((x) => own(x) === 'ours');
    const byHand = listing.filter((x) => own(x) === 'unmarked' && x.ref !== actingRef);
    // The secret's history, read only when something needs it.
    let history: HistoryVersion[] | undefined;
    const readHistoryOnce = async () => (history ??= await readHistory(deps.secrets, credential.secretId));
    const hasCredential = (secretString: string) => {
      try {
        return provider.hasCredential(provider.parseSecret(secretString, credential.secretId));
      } catch {
        return false;
      }
    };
    // Redis's record of what an earlier run left alone: a cache of the rule below, which only ever adds to it.
    const remembered = new Set(((await deps.state.readStatus(credential.id)).leftAlone ?? '').split(' ').filter(Boolean));
    const beforeLoss = new Set<string>();
    // Only a kind that recreates from a lost secret (an OAuth application) has a recreation to be made before.
    const recreates = provider.missingSecret !== undefined;
    for (const x of ours) {
      if (x.ref === actingRef) continue;
      if (remembered.has(x.ref) || madeBeforeLoss(x, ours, recreates ? await readHistoryOnce() : [], hasCredential)) beforeLoss.add(x.ref);
    }
    const leftAlone = listing.filter((x) => own(x) === 'legacy' || madeForAnotherSecret(x, owner) || beforeLoss.has(x.ref)).map((x) => x.ref);
    const candidates = ours.filter((x) => x.ref !== actingRef && !beforeLoss.has(x.ref));
    if (leftAlone.length) {
      log.warn(
        { refs: leftAlone },
        'rotation: earlier credentials left alone for a person to confirm (made before a recreation from a lost secret, before markers named a deployment and a secret, or for a secret of another name)',
      );
    }
    // Kept current in status ('' clears it once a person has deleted them).
    await deps.state.updateStatus(credential.id, { leftAlone: leftAlone.join(' ') }, held.token);
    if (candidates.length) {
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
        audit(log, 'credential.revoked', {
          ...(orphan.marker ? { rotationId: orphan.marker.rotationId } : {}),
          ref: orphan.ref,
          state: result.state,
          by: 'reaper',
        });
        // Only what the provider confirms gone counts; a provider without revoke ends the round.
        if (result.state === 'revoked' || result.state === 'already-gone') deleted.push(orphan.ref);
        else if (result.state === 'left-to-expire') break;
      }
      if (waiting.length) log.info({ refs: waiting }, 'rotation: orphans inside an overlap window, left until a check after it ends');
      const seen = await currentSeen(ctx, cache);
      if (seen) await deps.state.updateStatus(credential.id, seen, held.token);
    }
    if (byHand.length) deleted.push(...(await retireReplacedByHand(deps, provider, credential, acting, log, held, { byHand, ours, history: readHistoryOnce })));
    if (deleted.length) log.info({ deleted }, 'rotation: orphans deleted');
  } catch (error) {
    // A holder that lost its lock stops: its job is retried under the lock.
    if (error instanceof LeaseLostError) throw error;
    log.warn({ err: { type: (error as Error).name, message: (error as Error).message } }, 'rotation: orphan reaping failed; the next run tries again');
  }
  return deleted;
}

/**
 * Credentials a person made that this secret held and a rotation replaced, whose revoke was never
 * sent (Redis lost with the delayed revoke job): revoked through the guard where a listed credential
 * of ours names the one it replaced, else named in `unrevoked` when a rotation of this deployment
 * wrote the secret after it. Returns what was revoked.
 */
async function retireReplacedByHand<C extends RetirableCredential, S>(
  deps: RetireDeps,
  provider: RotationProvider<C, S>,
  credential: C,
  acting: S,
  log: Logger,
  held: RetireHolder,
  facts: { byHand: ListedCredential[]; ours: ListedCredential[]; history: () => Promise<HistoryVersion[]> },
): Promise<string[]> {
  const status = await deps.state.readStatus(credential.id);
  // Named already: to revoke by hand, or not provably this secret's (never revoked, never named to revoke).
  const unproven = new Set(unprovenRefs(status));
  const named = new Set([...unrevokedRefs(status), ...unproven]);
  const unprovenItems = facts.byHand.filter((y) => unproven.has(y.ref));
  const pending = new Set([status.previousRef].filter((ref) => ref && status.previousRevokeAt));
  const history = await facts.history();
  const revoked: string[] = [];
  for (const x of facts.byHand) {
    if (named.has(x.ref)) continue;
    const holding = history.filter((v) => v.secretString !== undefined && holds(v.secretString, x));
    // Another integration's credential, or this one's in use now: not for the rotator.
    if (!holding.length || holding.some((v) => v.stages.includes(AWSCURRENT) || v.stages.includes(AWSPENDING))) continue;
    // A version that also names a credential not provably the secret's (an application by id, another
    // by client id) proves neither: the person who sorts out the one sorts out the other.
    if (holding.some((v) => unprovenItems.some((y) => y !== x && holds(v.secretString!, y)))) continue;
    const replacer = facts.ours.find((y) => y.marker?.replaces === x.ref);
    if (replacer) {
      const verdict = await revokeReplaced(deps, provider, credential, acting, { rotationId: replacer.marker!.rotationId, previousRef: x.ref }, () =>
        held.assertHeld(),
      );
      await recordSeen(deps, credential.id, verdict, held.token);
      if (verdict.action === 'revoked') {
        audit(log, 'credential.revoked', { rotationId: replacer.marker!.rotationId, ref: x.ref, state: verdict.result.state, by: 'reaper' });
        log.info(
          { ref: x.ref, rotationId: replacer.marker!.rotationId, state: verdict.result.state },
          'rotation: a replaced credential whose revoke was never sent, revoked',
        );
        if (verdict.result.state === 'not-revoked') await noteUnrevoked(deps.state, credential.id, x.ref, held.token);
        else if (verdict.result.state === 'revoked' || verdict.result.state === 'already-gone') revoked.push(x.ref);
        continue;
      }
      // Inside a window (its revoke job, or a later check, revokes it), kept by a stage, or gone.
      if (verdict.action !== 'refused') continue;
    }
    // No proof this deployment replaced it; named only where a rotation of ours wrote the secret after it.
    const last = Math.max(...holding.map((v) => v.createdAt));
    const rotations = new Set(facts.ours.map((y) => y.marker!.rotationId));
    if (pending.has(x.ref) || !history.some((v) => v.createdAt >= last && !holding.includes(v) && rotations.has(v.versionId))) continue;
    held.assertHeld();
    await noteUnrevoked(deps.state, credential.id, x.ref, held.token);
    log.warn(
      { ref: x.ref },
      'rotation: a replaced credential was never revoked and no record proves which rotation replaced it: replaced, not revoked, revoke it by hand',
    );
  }
  return revoked;
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
  /** The rotation that replaced `ref`, for the audit line. */
  rotationId?: string,
): Promise<string> {
  const of = rotationId === undefined ? {} : { rotationId };
  switch (verdict.action) {
    case 'revoked':
      audit(log, 'credential.revoked', { ...of, ref, state: verdict.result.state, by: 'revoke' });
      // Still listed after the DELETE: kept in status for a person to revoke by hand.
      if (verdict.result.state === 'not-revoked') await noteUnrevoked(deps.state, credentialId, ref, lockToken);
      return describeRevoke(verdict.result, ref);
    case 'gone':
      return describeRevoke({ state: 'already-gone' }, ref);
    case 'cancelled': {
      const state = previousStateText.kept(verdict.reason);
      log.warn({ ref, reason: verdict.reason }, 'rotation: revoke cancelled, a stage of the secret holds the credential');
      audit(log, 'revoke.cancelled', { ...of, ref, why: verdict.reason });
      await deps.state.updateStatus(credentialId, { revokeCancelled: `${ref}: ${verdict.reason} (${deps.now().toISOString()})` }, lockToken);
      return state;
    }
    case 'refused':
      audit(log, 'revoke.refused', { ...of, ref, why: verdict.reason });
      throw new RevokeRefusedError(credentialId, ref, verdict.reason);
  }
}
