import { SecretNotFoundError } from '../secrets/errors.ts';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type SecretStore, type StoredSecret } from '../secrets/store-types.ts';
import { secretDigest, type ListedCredential } from './rotation-provider.ts';
import type { CredentialStatus } from '../state/rotation-state.ts';

/**
 * What decides, immediately before any revoke or delete, whether a credential may go (the
 * invariant: no credential is revoked while a stage of its secret holds it, nor before the overlap
 * window of the rotation that replaced it has ended, nor unless it is provably this credential's).
 * Every fact is read fresh: the provider's listing, the secret's stages by VersionStage, and the
 * version dates; Redis only ever adds protection.
 */

export const STAGES = [AWSCURRENT, AWSPENDING, AWSPREVIOUS] as const;

export type GuardSecrets = Pick<SecretStore, 'readStage' | 'readVersion' | 'versionCreatedAt' | 'unlabel' | 'listVersions'>;

export interface GuardContext {
  secrets: GuardSecrets;
  secretId: string;
  credentialId: string;
  /** This deployment's scope (the queue prefix), as written into markers. */
  scope: string;
  /** The credential's `revokePreviousAfter`. */
  overlapMs: number;
  now: Date;
  status: CredentialStatus;
  /** The provider's listing, read just now. */
  listing: ListedCredential[];
}

/**
 * `ours`: made by this deployment for this credential and this secret. `legacy`: made for this
 * credential, with this deployment's scope or none, before markers carried the part that would
 * tell (a scope, then the secret's digest): maybe another deployment's. `foreign`: another
 * credential's, deployment's, or secret's — another deployment left at the default queue prefix, or
 * this credential under an earlier secret name (see `madeForAnotherSecret`). `unmarked`: not made
 * by the rotator (a token put in by a person).
 */
export type Ownership = 'ours' | 'legacy' | 'foreign' | 'unmarked';

/** Whose credentials count as ours: this credential, this deployment's scope, this secret. */
export type Owner = Pick<GuardContext, 'credentialId' | 'scope' | 'secretId'>;

export function ownershipOf(item: ListedCredential, owner: Owner): Ownership {
  const m = item.marker;
  if (!m) return 'unmarked';
  if (m.credentialId !== owner.credentialId) return 'foreign';
  if (m.scope === undefined) return 'legacy';
  if (m.scope !== owner.scope) return 'foreign';
  if (m.secret === undefined) return 'legacy';
  return m.secret === secretDigest(owner.secretId) ? 'ours' : 'foreign';
}

/**
 * Foreign only by the secret's digest: this credential id and this deployment's scope, made for a
 * secret of another name — another deployment left at the same queue prefix, or this one before its
 * `secretId` was renamed. Never deleted; named for a person, like legacy ones.
 */
export function madeForAnotherSecret(item: ListedCredential, owner: Owner): boolean {
  const m = item.marker;
  return m?.credentialId === owner.credentialId && m.scope === owner.scope && m.secret !== undefined && m.secret !== secretDigest(owner.secretId);
}

/** Stage → the version it labels, each read fresh by its label. */
export type StageValues = Map<string, StoredSecret>;

export async function readStages(secrets: Pick<SecretStore, 'readStage' | 'listVersions'>, secretId: string): Promise<StageValues> {
  // Which labels exist, in one call; each is then read by its label, so a label moved meanwhile is read where it is now.
  const labelled = new Set((await secrets.listVersions(secretId)).flatMap((v) => v.stages));
  const values: StageValues = new Map();
  for (const stage of STAGES.filter((s) => labelled.has(s))) {
    const stored = await secrets.readStage(secretId, stage);
    if (stored) values.set(stage, stored);
  }
  return values;
}

/**
 * Whether a stored value holds the credential, in whatever form a person wrote it: its value
 * anywhere in the text (JSON of any shape, a bare token), or its id as a top-level field.
 */
export function holds(secretString: string, item: ListedCredential): boolean {
  if (item.values.some((v) => v !== '' && secretString.includes(v))) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null) return false;
  return Object.values(parsed).some((v) => (typeof v === 'string' || typeof v === 'number') && String(v) === item.ref);
}

export function stagesHolding(stages: StageValues, item: ListedCredential): string[] {
  return [...stages].filter(([, stored]) => holds(stored.secretString, item)).map(([stage]) => stage);
}

/**
 * What one judgement reads once: when each rotation's version was stored (null: never), and the
 * promotions (`promotionsOf`).
 */
export interface GuardCache {
  dates: Map<string, Date | null>;
  promotions?: Promise<Promotions>;
}

export function newGuardCache(): GuardCache {
  return { dates: new Map() };
}

/** When Secrets Manager stored a rotation's version (the rotation id is its version id); null: never stored. */
export async function versionDate(ctx: Pick<GuardContext, 'secrets' | 'secretId'>, rotationId: string, cache: GuardCache): Promise<Date | null> {
  const known = cache.dates.get(rotationId);
  if (known !== undefined) return known;
  let date: Date | null;
  try {
    date = (await ctx.secrets.versionCreatedAt(ctx.secretId, rotationId)) ?? new Date(0);
  } catch (error) {
    if (!(error instanceof SecretNotFoundError)) throw error;
    date = null;
  }
  cache.dates.set(rotationId, date);
  return date;
}

/**
 * The labels of the secret's versions now, and the latest time by which every promotion so far had
 * happened. Secrets Manager keeps no date of a label move: a version's CreatedDate (AWS and the
 * emulator alike) is when the rotation stored it as AWSPENDING, before its test and promotion. The
 * promotion time is known only from Redis: the rotation records `lastRotationId` and
 * `lastRotatedAt` right after its promotion, so while the version labelled AWSCURRENT is that
 * rotation's, every promotion so far happened by `lastRotatedAt`. Otherwise (Redis lost, or the
 * current version put there by someone else) the later bound: when a check first found that
 * version current (`currentSeenAt`, recorded by `noteCurrentSeen`), else now. Lost again with Redis,
 * the bound only moves later: a window may last longer, never shorter.
 */
export interface Promotions {
  labels: Map<string, string[]>;
  latestBy: number;
  /** The AWSCURRENT version, when its promotion time is neither recorded nor seen before (latestBy is now). */
  unseenCurrent?: string;
}

export function promotionsOf(ctx: GuardContext, cache: GuardCache): Promise<Promotions> {
  cache.promotions ??= (async () => {
    const versions = await ctx.secrets.listVersions(ctx.secretId);
    const current = versions.find((v) => v.stages.includes(AWSCURRENT));
    const recorded = ctx.status.lastRotatedAt ? Date.parse(ctx.status.lastRotatedAt) : NaN;
    const labels = new Map(versions.map((v) => [v.versionId, v.stages]));
    if (current !== undefined && current.versionId === ctx.status.lastRotationId && !Number.isNaN(recorded)) return { labels, latestBy: recorded };
    const seen = ctx.status.currentSeenAt ? Date.parse(ctx.status.currentSeenAt) : NaN;
    if (current !== undefined && current.versionId === ctx.status.currentSeenVersion && !Number.isNaN(seen))
      return { labels, latestBy: Math.min(seen, ctx.now.getTime()) };
    return { labels, latestBy: ctx.now.getTime(), ...(current ? { unseenCurrent: current.versionId } : {}) };
  })();
  return cache.promotions;
}

/**
 * What to record after a judgement that found AWSCURRENT's promotion time unknown: the version and
 * now, the later bound of its promotion for every judgement after (`promotionsOf`). Undefined when
 * there is nothing to record.
 */
export async function currentSeen(ctx: GuardContext, cache: GuardCache): Promise<Pick<CredentialStatus, 'currentSeenVersion' | 'currentSeenAt'> | undefined> {
  if (!cache.promotions) return undefined;
  const { unseenCurrent } = await cache.promotions;
  return unseenCurrent ? { currentSeenVersion: unseenCurrent, currentSeenAt: ctx.now.toISOString() } : undefined;
}

/**
 * When the overlap windows protecting `item` end; undefined when none protects it now. Every
 * credential the rotator made after `item` replaced it or a later generation, so the window runs
 * from the latest such replacement's promotion (docs/glossary.md): a successor whose version was
 * promoted — labelled AWSCURRENT or AWSPREVIOUS, or no longer labelled, which may have been
 * promoted — counts from the latest time by which it was (`promotionsOf`); one only pending, or
 * never stored, from when it was made or stored. Never from earlier than its provider `created_at`
 * and its version's CreatedDate. Over-protecting is safe; a revoke deferred is revoked later.
 */
export async function protectedUntil(ctx: GuardContext, item: ListedCredential, cache: GuardCache): Promise<Date | undefined> {
  let until = 0;
  // Redis's record of the last rotation (exact, but lost with Redis): only ever adds protection.
  if (ctx.status.previousRef === item.ref && ctx.status.previousRevokeAt) until = Date.parse(ctx.status.previousRevokeAt) || 0;
  if (ctx.overlapMs > 0) {
    for (const successor of ctx.listing) {
      if (successor === item || !successor.marker || successor.createdAt.getTime() <= item.createdAt.getTime()) continue;
      if (ownershipOf(successor, ctx) === 'foreign') continue;
      const stored = await versionDate(ctx, successor.marker.rotationId, cache);
      let replacedAt = Math.max(successor.createdAt.getTime(), stored?.getTime() ?? 0);
      if (stored !== null) {
        const promotions = await promotionsOf(ctx, cache);
        const labels = promotions.labels.get(successor.marker.rotationId) ?? [];
        const onlyPending = labels.includes(AWSPENDING) && !labels.includes(AWSCURRENT) && !labels.includes(AWSPREVIOUS);
        if (!onlyPending) replacedAt = Math.max(replacedAt, promotions.latestBy);
      }
      until = Math.max(until, replacedAt + ctx.overlapMs);
    }
  }
  return until > ctx.now.getTime() ? new Date(until) : undefined;
}
