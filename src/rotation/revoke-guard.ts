import { SecretNotFoundError } from '../secrets/errors.ts';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type SecretStore, type StoredSecret } from '../secrets/secret-store.ts';
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

/** When Secrets Manager stored a rotation's version (the rotation id is its version id); null: never stored. */
export async function versionDate(ctx: Pick<GuardContext, 'secrets' | 'secretId'>, rotationId: string, cache: Map<string, Date | null>): Promise<Date | null> {
  const known = cache.get(rotationId);
  if (known !== undefined) return known;
  let date: Date | null;
  try {
    date = (await ctx.secrets.versionCreatedAt(ctx.secretId, rotationId)) ?? new Date(0);
  } catch (error) {
    if (!(error instanceof SecretNotFoundError)) throw error;
    date = null;
  }
  cache.set(rotationId, date);
  return date;
}

/**
 * When the overlap windows protecting `item` end; undefined when none protects it now. Every
 * credential the rotator made after `item` replaced it or a later generation, so the window runs
 * from the latest such replacement: its provider `created_at`, or the date Secrets Manager stored
 * it when that is later. Over-protecting is safe; a revoke deferred is revoked later.
 */
export async function protectedUntil(ctx: GuardContext, item: ListedCredential, cache: Map<string, Date | null>): Promise<Date | undefined> {
  let until = 0;
  // Redis's record of the last rotation (exact, but lost with Redis): only ever adds protection.
  if (ctx.status.previousRef === item.ref && ctx.status.previousRevokeAt) until = Date.parse(ctx.status.previousRevokeAt) || 0;
  if (ctx.overlapMs > 0) {
    for (const successor of ctx.listing) {
      if (successor === item || !successor.marker || successor.createdAt.getTime() <= item.createdAt.getTime()) continue;
      if (ownershipOf(successor, ctx) === 'foreign') continue;
      const stored = await versionDate(ctx, successor.marker.rotationId, cache);
      const replacedAt = Math.max(successor.createdAt.getTime(), stored?.getTime() ?? 0);
      until = Math.max(until, replacedAt + ctx.overlapMs);
    }
  }
  return until > ctx.now.getTime() ? new Date(until) : undefined;
}
