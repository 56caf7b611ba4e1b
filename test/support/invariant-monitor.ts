import type { SecretStore } from '../../src/secrets/secret-store.ts';

/**
 * Watches one credential against the invariant of the rotation protocol:
 *
 *   AWSCURRENT always holds a credential that works, and no credential is revoked or deleted while
 *   it is in any stage of its secret, or before the overlap window of the rotation that replaced
 *   it has ended.
 *
 * A credential is known by its key (a Credly token's value, an OAuth application's client id),
 * which is what a stage's value names in every accepted secret form. Around every provider call
 * that may destroy something, the monitor reads every labelled version of every secret the
 * credential was ever stored in (after a rename consumers still read the old one), notes which
 * credentials were alive, and after the call judges each one that died. A stage that holds the
 * credential a rotation replaced stops protecting it once that rotation's window has ended: that
 * is the revoke the protocol exists to make (AWSPREVIOUS always holds the replaced credential).
 *
 * Keys never leave this module in a message: violations name the stage and the generation only.
 */
export interface CredentialProbe {
  /** The key a stored value names, in any accepted form (bare token, {"token"}, the full written form). */
  keyOf(secretString: string): string | undefined;
  /** Keys of the credential's credentials alive at the provider (the rotator's and the original). */
  liveKeys(): Set<string>;
  /**
   * When the provider created the credential (ms). A replaced credential's window is counted from
   * its successor's creation, the earliest instant the rotator itself can date it from after a
   * Redis loss; unknown: from the promotion.
   */
  createdAt?(key: string): number | undefined;
}

export interface MonitorOptions {
  store: Pick<SecretStore, 'listVersions' | 'readVersion' | 'readCurrent'>;
  probe: CredentialProbe;
  /** The credential's overlap window (revokePreviousAfter), in ms. */
  windowMs: number;
  now?: () => number;
}

type Stage = 'AWSCURRENT' | 'AWSPENDING' | 'AWSPREVIOUS';
const STAGES: readonly Stage[] = ['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS'];

export interface InvariantMonitor {
  /** Adds a secret whose stages count (the credential's secretId, and any earlier one). */
  watchSecret(secretId: string): void;
  /** Runs a provider call under watch: whatever it destroys is judged against stages and windows. */
  guard<T>(label: string, fn: () => Promise<T>): Promise<T>;
  /** Called around a promotion: the credential AWSCURRENT held before is replaced from now on. */
  promoting<T>(secretId: string, fn: () => Promise<T>): Promise<T>;
  /** A label for a credential in messages: its generation number, never its value. */
  nameOf(key: string): string;
  /** Judges deaths since the last look (a catch-all for calls made outside `guard`). */
  sweep(label: string): Promise<void>;
  /** AWSCURRENT of `secretId` names a live credential; a violation is recorded otherwise. */
  checkCurrentWorks(secretId: string, label: string): Promise<void>;
  /** Credentials replaced by a rotation whose window has not ended yet. */
  openWindows(): number;
  readonly violations: string[];
  /** How many credentials died, in total, and how many of them were judged allowed. */
  readonly deaths: { total: number };
}

export function createInvariantMonitor(options: MonitorOptions): InvariantMonitor {
  const { store, probe, windowMs } = options;
  const now = options.now ?? (() => Date.now());
  const secrets = new Set<string>();
  const replacedUntil = new Map<string, number>();
  const generations = new Map<string, number>();
  const violations: string[] = [];
  const deaths = { total: 0 };
  let alive = probe.liveKeys();

  const nameOf = (key: string) => {
    if (!generations.has(key)) generations.set(key, generations.size);
    return `generation ${generations.get(key)!}`;
  };
  for (const key of alive) nameOf(key);

  async function stagesNow(): Promise<Map<string, Array<{ secretId: string; stage: Stage }>>> {
    const held = new Map<string, Array<{ secretId: string; stage: Stage }>>();
    for (const secretId of secrets) {
      const versions = await store.listVersions(secretId).catch(() => []);
      for (const version of versions) {
        const stages = version.stages.filter((s): s is Stage => (STAGES as readonly string[]).includes(s));
        if (!stages.length) continue;
        const value = await store.readVersion(secretId, version.versionId).catch(() => undefined);
        const key = value && probe.keyOf(value.secretString);
        if (key === undefined) continue;
        held.set(key, [...(held.get(key) ?? []), ...stages.map((stage) => ({ secretId, stage }))]);
      }
    }
    return held;
  }

  function judge(label: string, held: Map<string, Array<{ secretId: string; stage: Stage }>>, at: number): void {
    const live = probe.liveKeys();
    for (const key of alive) {
      if (live.has(key)) continue;
      deaths.total += 1;
      const until = replacedUntil.get(key);
      const windowOver = until !== undefined && at >= until;
      if (until !== undefined && !windowOver) {
        violations.push(`${label}: ${nameOf(key)} was revoked ${until - at} ms before the window of the rotation that replaced it ended`);
      }
      for (const { secretId, stage } of held.get(key) ?? []) {
        // The replaced credential sits in AWSPREVIOUS by design; once its window is over it may go.
        if (stage === 'AWSPREVIOUS' && windowOver) continue;
        violations.push(`${label}: ${nameOf(key)} was revoked while ${stage} of ${secretId} held it`);
      }
    }
    for (const key of live) nameOf(key);
    alive = live;
  }

  const currentKey = async (secretId: string) => {
    const value = await store.readCurrent(secretId).catch(() => undefined);
    return value && probe.keyOf(value.secretString);
  };

  return {
    violations,
    deaths,
    nameOf,
    watchSecret: (secretId) => void secrets.add(secretId),
    async guard(label, fn) {
      const held = await stagesNow();
      judge(`before ${label}`, held, now());
      try {
        return await fn();
      } finally {
        judge(label, held, now());
      }
    },
    async promoting(secretId, fn) {
      const before = await currentKey(secretId);
      const result = await fn();
      const after = await currentKey(secretId);
      // The latest rotation that replaced a credential sets its window.
      if (before !== undefined && after !== undefined && after !== before) {
        const from = probe.createdAt?.(after) ?? now();
        replacedUntil.set(before, Math.max(replacedUntil.get(before) ?? 0, from + windowMs));
      }
      return result;
    },
    openWindows: () => [...replacedUntil.values()].filter((until) => until > now()).length,
    async sweep(label) {
      judge(label, await stagesNow(), now());
    },
    async checkCurrentWorks(secretId, label) {
      const key = await currentKey(secretId);
      if (key === undefined) violations.push(`${label}: AWSCURRENT of ${secretId} holds no readable credential`);
      else if (!probe.liveKeys().has(key)) violations.push(`${label}: AWSCURRENT of ${secretId} holds ${nameOf(key)}, which does not work`);
    },
  };
}
