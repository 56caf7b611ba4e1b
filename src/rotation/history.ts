import { SecretNotFoundError } from '../secrets/errors.ts';
import type { SecretStore } from '../secrets/store-types.ts';
import type { CredentialStatus } from '../state/rotation-state.ts';
import { factsOf, type RotationTrigger } from './facts.ts';
import { readCurrentSecret } from './protocol.ts';
import type { RotationProvider } from './rotation-provider.ts';

/**
 * A credential's rotation history, rebuilt from what outlives Redis: the facts every rotation
 * writes into its Secrets Manager version (src/rotation/facts.ts), and the provider's listing for
 * what is still live. Redis, when it still knows, only adds when a pending revoke falls due.
 * Ids, times and the words people gave; never a secret value.
 */
export interface HistoryEntry {
  /** When Secrets Manager stored the rotation's version (ISO). */
  at: string;
  rotationId: string;
  trigger: RotationTrigger;
  actor: string | null;
  reason: string | null;
  /** The provider id of the credential the rotation made. */
  credentialRef: string | null;
  /** The provider id of the credential it replaced; null when it recreated from a lost secret. */
  replacedRef: string | null;
  /** The version's staging labels now (AWSCURRENT, AWSPREVIOUS…; none once superseded). */
  stages: string[];
  /**
   * Whether the replaced credential is gone from the provider: `true` (no longer listed), `false`
   * (still listed), `pending` (still listed, its revoke due at `revokeAt`), `unknown` (the
   * listing could not be read), null (nothing was replaced).
   */
  revoked: boolean | 'pending' | 'unknown' | null;
  revokeAt?: string;
}

export interface History {
  credentialId: string;
  secretId: string;
  /** Newest first. */
  entries: HistoryEntry[];
  /** How far back Secrets Manager can see. */
  reach: {
    /** Versions Secrets Manager still keeps for the secret, deprecated ones included. */
    versions: number;
    /** Of them, versions no rotation wrote (a person's, or a rotator's before facts were written). */
    withoutFacts: number;
    /** When the oldest version kept was stored (ISO); null when the secret has none. */
    oldest: string | null;
    note: string;
  };
  /** Why the listing could not be read, when it could not (every `revoked` is then `unknown`). */
  listingError?: string;
}

export const REACH_NOTE =
  'Secrets Manager keeps the versions a label holds and, beyond them, a bounded number of deprecated versions it deletes as needed: ' +
  'older rotations are in the audit log (audit events rotation.promoted and credential.revoked, docs/audit.md)';

export interface HistoryDeps {
  secrets: Pick<SecretStore, 'listVersions' | 'readVersion' | 'versionCreatedAt' | 'readCurrent'>;
}

export async function readHistory<C extends { id: string; secretId: string }, S>(
  deps: HistoryDeps,
  provider: Pick<RotationProvider<C, S>, 'parseSecret' | 'refOf' | 'list' | 'missingSecret'>,
  credential: C,
  status: CredentialStatus | undefined,
  options: { limit?: number } = {},
): Promise<History> {
  const { secretId } = credential;
  let versions: Awaited<ReturnType<HistoryDeps['secrets']['listVersions']>> = [];
  try {
    versions = await deps.secrets.listVersions(secretId, { includeDeprecated: true });
  } catch (error) {
    if (!(error instanceof SecretNotFoundError)) throw error;
  }
  const entries: HistoryEntry[] = [];
  // When each rotation began, to order two versions Secrets Manager dated in the same second.
  const began = new Map<HistoryEntry, string>();
  let withoutFacts = 0;
  let oldest: number | undefined;
  for (const version of versions) {
    const stored = await deps.secrets.readVersion(secretId, version.versionId).catch(() => undefined);
    const at = (await deps.secrets.versionCreatedAt(secretId, version.versionId).catch(() => undefined)) ?? version.createdAt;
    if (at && (oldest === undefined || at.getTime() < oldest)) oldest = at.getTime();
    const facts = stored && factsOf(stored.secretString);
    if (!stored || !facts) {
      withoutFacts += 1;
      continue;
    }
    let credentialRef: string | null = null;
    try {
      credentialRef = provider.refOf(provider.parseSecret(stored.secretString, secretId)) ?? null;
    } catch {
      // A value that no longer reads as the kind's: its facts still tell the rotation.
    }
    const entry: HistoryEntry = {
      at: (at ?? new Date(facts.startedAt)).toISOString(),
      rotationId: facts.id,
      trigger: facts.trigger,
      actor: facts.actor,
      reason: facts.reason,
      credentialRef,
      replacedRef: facts.replaced,
      stages: version.stages,
      revoked: facts.replaced === null ? null : 'unknown',
    };
    entries.push(entry);
    began.set(entry, facts.startedAt);
  }
  entries.sort((a, b) => b.at.localeCompare(a.at) || (began.get(b) ?? '').localeCompare(began.get(a) ?? ''));
  const shown = options.limit === undefined ? entries : entries.slice(0, options.limit);

  let listingError: string | undefined;
  if (shown.some((e) => e.replacedRef !== null)) {
    try {
      const acting = await readCurrentSecret(deps, provider, secretId);
      const listed = new Set((await provider.list(credential, acting)).map((x) => x.ref));
      for (const entry of shown) {
        if (entry.replacedRef === null) continue;
        if (!listed.has(entry.replacedRef)) entry.revoked = true;
        else if (status?.previousRef === entry.replacedRef && status.previousRevokeAt) {
          entry.revoked = 'pending';
          entry.revokeAt = status.previousRevokeAt;
        } else entry.revoked = false;
      }
    } catch (error) {
      // The name of what failed, never its text: a provider's answer may echo anything.
      listingError = `the provider's listing could not be read (${(error as Error).name})`;
    }
  }
  return {
    credentialId: credential.id,
    secretId,
    entries: shown,
    reach: { versions: versions.length, withoutFacts, oldest: oldest === undefined ? null : new Date(oldest).toISOString(), note: REACH_NOTE },
    ...(listingError ? { listingError } : {}),
  };
}
