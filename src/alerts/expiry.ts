import type { CredentialBase } from '../config/index.ts';
import { asKindConfig, type KindRuntimes } from '../kinds/kind.ts';
import type { Logger } from '../log/logger.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { CredentialStatus, RotationStateStore } from '../state/rotation-state.ts';

const DAY_MS = 86_400_000;

/**
 * When a credential runs out, for the alerts that count down to it (a failure's `critical` flag,
 * escalation): what Redis recorded at the last inspect, or, when Redis has lost it, what the stored
 * secret says. A Credly token's secret carries its `expiresAt` (the rotator writes it back with
 * every new token); an OAuth application has no expiry of its own, and counts from its managing
 * token's (`expiryFrom`): once that token expires nothing can recreate the application or delete
 * what it replaced. Only the date leaves this module: the secret value is parsed in memory and
 * dropped, and a read that fails is logged by its error's class alone.
 */
export type ExpiryReader = (credential: Pick<CredentialBase, 'id' | 'kind'>, status: CredentialStatus) => Promise<Expiry | undefined>;

/** An expiry, and the credential it is the expiry of (`expiryFrom`: an application's managing token). */
export interface Expiry {
  at: Date;
  of: string;
}

export interface ExpiryReaderOptions {
  credentials: readonly CredentialBase[];
  kinds: KindRuntimes;
  secrets: Pick<SecretStore, 'readCurrent'>;
  state: Pick<RotationStateStore, 'readStatus'>;
  logger: Logger;
}

function parsed(at: string | undefined): Date | undefined {
  const time = at ? Date.parse(at) : NaN;
  return Number.isNaN(time) ? undefined : new Date(time);
}

export function createExpiryReader(options: ExpiryReaderOptions): ExpiryReader {
  const { kinds, secrets, state, logger } = options;
  const byId = new Map(options.credentials.map((c) => [c.id, c]));

  // The expiry the stored value carries, for kinds whose stored value says so.
  async function stored(credential: CredentialBase): Promise<Date | undefined> {
    const runtime = kinds.get(credential.kind);
    if (runtime?.mode !== 'rotate' || !runtime.rotator.expiryOf) return undefined;
    try {
      const value = runtime.rotator.parseSecret((await secrets.readCurrent(credential.secretId)).secretString, credential.secretId);
      return runtime.rotator.expiryOf(value);
    } catch (error) {
      logger.warn({ credentialId: credential.id, err: { type: (error as Error).name } }, 'alerts: could not read the expiry from the stored secret');
      return undefined;
    }
  }

  return async (credential, status) => {
    // The inventory's entry: its kind's fields (`managedBy`) are what `expiryFrom` reads.
    const entry = byId.get(credential.id);
    const runtime = entry && kinds.get(entry.kind);
    if (!entry || runtime?.mode !== 'rotate') return undefined;
    const ownerId = runtime.definition.expiryFrom?.(asKindConfig(entry)) ?? credential.id;
    const owner = byId.get(ownerId);
    if (!owner) return undefined;
    // Redis first (the provider's listing, as the last inspect read it); the secret when Redis has none.
    const recorded = ownerId === credential.id ? status : await state.readStatus(ownerId).catch((): CredentialStatus => ({}));
    const at = parsed(recorded.expiresAt) ?? (await stored(owner));
    return at ? { at, of: ownerId } : undefined;
  };
}

/** Whole days from `now` to `at`, counted down from the expiry time (as daysToExpiryOf does). */
export function daysTo(at: Date, now: Date): number {
  return Math.floor((at.getTime() - now.getTime()) / DAY_MS);
}
