import type { SecretStore } from '../../src/secrets/secret-store.ts';

/**
 * Watches one credential against the invariant of the rotation protocol:
 *
 *   AWSCURRENT always holds a credential that works, and no credential is revoked or deleted while
 *   it is in any stage of its secret, or before the overlap window of the rotation that replaced
 *   it has ended.
 *
 * A credential is known by its key (a Credly token's value, an OAuth application's client id),
 * which is what a stage's value names in every accepted secret form. The monitor knows what every
 * stage of every secret the credential is stored in holds (after a rename consumers may still read
 * the old one), reread after each write, and after every provider call judges each credential
 * that died. A stage that holds the
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
  /**
   * When each of `alive` that the rotator made for this credential and its secret after `key`, by
   * another rotation, was created (ms). Every such credential replaced `key` or a later generation,
   * so `key` stays protected until the latest of them plus the window: after a Redis loss nothing
   * else can tell which one replaced it (the revoke guard's rule, docs/design.md).
   */
  madeAfter?(key: string, alive: ReadonlySet<string>): number[];
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
  /** A secret that nobody reads any more (an operator moved it and its consumers). */
  unwatchSecret(secretId: string): void;
  /**
   * Rereads the stages of every watched secret. Called after every write to Secrets Manager (by a
   * holder or by the test as an operator): stages change only then, so between two writes the
   * last reading is exact, and judging a provider call costs no call of its own.
   */
  refresh(): Promise<void>;
  /** Runs a provider call under watch: whatever it destroys is judged against the stages and windows. */
  guard<T>(label: string, fn: () => Promise<T>): Promise<T>;
  /** Called around a promotion: the credential AWSCURRENT held before is replaced from now on. */
  promoting<T>(secretId: string, fn: () => Promise<T>, versionId?: string): Promise<T>;
  /** A version a holder made AWSCURRENT (a promotion, or the first version of a secret created by a rotation). */
  notePromoted(versionId: string): void;
  /** Versions (rotation ids) holders made AWSCURRENT. */
  readonly promoted: ReadonlySet<string>;
  /** From now on `key` must not die: a violation names `why` if it does. `lasting`: whatever happens after. */
  protect(key: string, why: string, lasting?: boolean): void;
  /** Ends every protection `protect` set that is not lasting (what made them true has changed). */
  unprotectAll(): void;
  /** A label for a credential in messages: its generation number, never its value. */
  nameOf(key: string): string;
  /** Judges deaths since the last look (a catch-all for calls made outside `guard`). */
  sweep(label: string): Promise<void>;
  /**
   * Takes the credentials alive now as they are, judging no death since the last look: another
   * deployment acted meanwhile, under its own monitor, which judged what it deleted.
   */
  overlook(): void;
  /** AWSCURRENT of `secretId` names a live credential; a violation is recorded otherwise. */
  checkCurrentWorks(secretId: string, label: string): Promise<void>;
  /** Credentials replaced by a rotation whose window has not ended yet. */
  openWindows(): number;
  /** When the first window still open ends (ms), if any is. */
  nextWindowEnd(): number | undefined;
  /** The stages of watched secrets that held `key` at the last reading. */
  stagesOf(key: string): ReadonlyArray<{ secretId: string; stage: string }>;
  /** The most windows open at once right after a promotion: 2 means a third generation inside one window. */
  readonly mostOpenAtPromotion: { value: number };
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
  const mostOpenAtPromotion = { value: 0 };
  const promoted = new Set<string>();
  const protectedKeys = new Map<string, { why: string; lasting: boolean }>();
  let alive = probe.liveKeys();

  const nameOf = (key: string) => {
    if (!generations.has(key)) generations.set(key, generations.size);
    return `generation ${generations.get(key)!}`;
  };
  for (const key of alive) nameOf(key);

  // Versions never change once written: their keys are read once.
  const versionKeys = new Map<string, string | null>();
  type Held = Map<string, Array<{ secretId: string; stage: Stage }>>;
  let held: Held = new Map();

  /** Rereads which credential each stage of each watched secret holds. */
  async function refresh(): Promise<void> {
    const next: Held = new Map();
    for (const secretId of secrets) {
      const versions = await store.listVersions(secretId).catch(() => []);
      for (const version of versions) {
        const stages = version.stages.filter((s): s is Stage => (STAGES as readonly string[]).includes(s));
        if (!stages.length) continue;
        const cacheKey = `${secretId}\n${version.versionId}`;
        if (!versionKeys.has(cacheKey)) {
          const value = await store.readVersion(secretId, version.versionId).catch(() => undefined);
          versionKeys.set(cacheKey, (value && probe.keyOf(value.secretString)) ?? null);
        }
        const key = versionKeys.get(cacheKey);
        if (!key) continue;
        next.set(key, [...(next.get(key) ?? []), ...stages.map((stage) => ({ secretId, stage }))]);
      }
    }
    held = next;
  }

  function judge(label: string, at: number): void {
    const live = probe.liveKeys();
    for (const key of alive) {
      if (live.has(key)) continue;
      deaths.total += 1;
      const kept = protectedKeys.get(key);
      if (kept !== undefined) violations.push(`${label}: ${nameOf(key)} was deleted although ${kept.why}`);
      const until = replacedUntil.get(key);
      const windowOver = until !== undefined && at >= until;
      if (until !== undefined && !windowOver) {
        violations.push(`${label}: ${nameOf(key)} was revoked ${until - at} ms before the window of the rotation that replaced it ended`);
      } else if (windowMs > 0 && probe.madeAfter) {
        const latest = Math.max(0, ...probe.madeAfter(key, alive));
        if (latest > 0 && at < latest + windowMs)
          violations.push(`${label}: ${nameOf(key)} was revoked ${latest + windowMs - at} ms before the window of the latest credential made after it ended`);
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
    mostOpenAtPromotion,
    promoted,
    notePromoted: (versionId) => void promoted.add(versionId),
    protect: (key, why, lasting = false) => void protectedKeys.set(key, { why, lasting }),
    unprotectAll: () => {
      for (const [key, { lasting }] of protectedKeys) if (!lasting) protectedKeys.delete(key);
    },
    nameOf,
    watchSecret: (secretId) => void secrets.add(secretId),
    unwatchSecret: (secretId) => void secrets.delete(secretId),
    refresh,
    async guard(label, fn) {
      judge(`before ${label}`, now());
      try {
        return await fn();
      } finally {
        judge(label, now());
      }
    },
    async promoting(secretId, fn, versionId) {
      const before = await currentKey(secretId);
      const result = await fn();
      if (versionId !== undefined) promoted.add(versionId);
      await refresh();
      const after = await currentKey(secretId);
      // The latest rotation that replaced a credential sets its window.
      if (before !== undefined && after !== undefined && after !== before) {
        const from = probe.createdAt?.(after) ?? now();
        replacedUntil.set(before, Math.max(replacedUntil.get(before) ?? 0, from + windowMs));
        mostOpenAtPromotion.value = Math.max(mostOpenAtPromotion.value, [...replacedUntil.values()].filter((until) => until > now()).length);
      }
      return result;
    },
    openWindows: () => [...replacedUntil.values()].filter((until) => until > now()).length,
    nextWindowEnd: () => {
      const open = [...replacedUntil.values()].filter((until) => until > now());
      return open.length ? Math.min(...open) : undefined;
    },
    stagesOf: (key) => held.get(key) ?? [],
    async sweep(label) {
      judge(label, now());
      await refresh();
    },
    overlook: () => {
      alive = probe.liveKeys();
      for (const key of alive) nameOf(key);
    },
    async checkCurrentWorks(secretId, label) {
      const key = await currentKey(secretId);
      if (key === undefined) violations.push(`${label}: AWSCURRENT of ${secretId} holds no readable credential`);
      else if (!probe.liveKeys().has(key)) violations.push(`${label}: AWSCURRENT of ${secretId} holds ${nameOf(key)}, which does not work`);
    },
  };
}
