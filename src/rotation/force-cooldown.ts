import { SecretNotFoundError } from '../secrets/errors.ts';
import { AWSCURRENT, type SecretStore } from '../secrets/store-types.ts';

/** Where a forced rotation stands against the credential's `forceCooldown`. */
export interface ForceCooldown {
  /** The AWSCURRENT version the cooldown runs from: one cooldown per version. */
  versionId: string;
  /** When that version was created, by Secrets Manager. */
  createdAt: Date;
  /** When a forced rotation becomes possible: `createdAt` plus the cooldown. */
  possibleAt: Date;
}

/**
 * The cooldown a forced rotation is inside, or undefined when it may run: no cooldown (`0s`), no
 * AWSCURRENT yet, or AWSCURRENT older than the cooldown. Dated by Secrets Manager — the version's
 * own creation date — never by Redis, which a forged job or a flush can change. The date comes from
 * GetSecretValue by version id: ListSecretVersionIds is the listing, and an emulator may date its
 * entries with the time of the listing.
 */
export async function forceCooldownOf(
  secrets: Pick<SecretStore, 'listVersions' | 'versionCreatedAt'>,
  secretId: string,
  cooldownMs: number,
  now: Date,
): Promise<ForceCooldown | undefined> {
  if (cooldownMs <= 0) return undefined;
  let versions;
  try {
    versions = await secrets.listVersions(secretId);
  } catch (error) {
    if (error instanceof SecretNotFoundError) return undefined;
    throw error;
  }
  const current = versions.find((v) => v.stages.includes(AWSCURRENT));
  if (!current) return undefined;
  const createdAt = await secrets.versionCreatedAt(secretId, current.versionId);
  // Secrets Manager dates every version; without a date there is nothing to count from.
  if (!createdAt) return undefined;
  const possibleAt = new Date(createdAt.getTime() + cooldownMs);
  return possibleAt.getTime() > now.getTime() ? { versionId: current.versionId, createdAt, possibleAt } : undefined;
}
