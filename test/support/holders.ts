import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobRegistry, type JobDependencies, type JobName, type JobOutcome } from '../../jobs/index.ts';
import { type Inventory } from '../../src/config/index.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { createJobDependencies, createKinds } from '../../src/composition-root.ts';
import type { Logger } from '../../src/log/logger.ts';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { secretDigest, type RotatorMarker } from '../../src/rotation/rotation-provider.ts';
import { createQueue } from '../../src/queue/producer.ts';
import { createCredentialLock, lockKey, type CredentialLock, type HeldLock } from '../../src/lease/credential-lock.ts';
import type { RotationStateStore } from '../../src/state/rotation-state.ts';
import { createSecretStore, createSecretsManagerClient, type SecretStore } from '../../src/secrets/secret-store.ts';
import { statusKey } from '../../src/state/rotation-state.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import type { CredlyFake } from '../fakes/credly.fake.ts';
import { captureLogger } from './capture-logger.ts';
import { createInvariantMonitor, type CredentialProbe, type InvariantMonitor } from './invariant-monitor.ts';
import type { CredentialConfig } from '../../src/kinds/registry.ts';
import type { VirtualClock } from './virtual-clock.ts';

const DAY = 86_400_000;

/**
 * Holders of one credential, in process, against real Redis, moto and the Credly fake over HTTP.
 * A holder is the job handlers with their real dependencies, except that every call through the
 * provider and secret-store interfaces first passes a gate (a step boundary: the test may pause,
 * crash or fail the holder there) and is watched by the credential's invariant monitor.
 */
export interface Gate {
  /** Called before the holder's next provider or Secrets Manager call; may wait, or throw. */
  before(label: string): Promise<void>;
}
export const OPEN_GATE: Gate = { before: async () => undefined };

/** Pauses its holder before call number `at` (0-based), or its first call labelled `at`, until `resume()`; counts every call. */
export class Pauser implements Gate {
  readonly calls: string[] = [];
  private at: number | string = -1;
  private hit: ((label: string) => void) | undefined;
  private release: (() => void) | undefined;
  /** Resolves with the call's label once the holder waits before it. */
  pauseAt(at: number | string): Promise<string> {
    this.at = at;
    return new Promise((resolve) => (this.hit = resolve));
  }
  resume(): void {
    this.release?.();
  }
  async before(label: string): Promise<void> {
    const n = this.calls.push(label) - 1;
    if (typeof this.at === 'number' ? n !== this.at : label !== this.at) return;
    this.at = -1;
    this.hit?.(label);
    await new Promise<void>((resolve) => (this.release = resolve));
  }
}

export type RotatableKind = 'credly-authorization-token' | 'credly-oauth-application';

export interface WorldOptions {
  kind: RotatableKind;
  /** revokePreviousAfter, as the inventory writes it (`0s`, `1h`, `800ms`). */
  window: string;
  windowMs: number;
  /** Age of the token in the secret (tokens only); default 100 days: not due, so rotations are forced. */
  tokenAgeDays?: number;
  /**
   * The clock of the jobs, the monitor and Secrets Manager's version dates; it must be the Credly
   * fake's clock too. Default: the real clock.
   */
  clock?: VirtualClock;
  /** The credential lock's lifetime; default 30 s. */
  lockDurationMs?: number;
  /**
   * Another deployment of `of`'s credential: the same Credly organization and credential id, its
   * own inventory, Redis keys under `prefix` (`of`'s own for a deployment left at the same queue
   * prefix: then the caller passes a Redis of its own), its own secret `secretId` in Secrets
   * Manager's `region` (default: its own name, in the default region), its own first credential,
   * made by hand, and (for an application) its own managing token.
   */
  anotherDeploymentOf?: { of: World; prefix?: string; secretId?: string; region?: string };
}

export interface Holder {
  deps: JobDependencies;
  run(name: JobName, payload: Record<string, unknown>, jobId?: string): Promise<JobOutcome>;
  /** The holder's lease, as a partition from Redis would take it. */
  lease: HolderLease;
}

/**
 * A holder's lock is renewed over a connection the test can cut: renewals then fail as they would
 * in a partition, and the lock code itself must notice that its lease is no longer proven.
 */
export interface HolderLease {
  /** From now on the lock's Redis calls (acquire, renew, release) fail. */
  cut(): void;
  heal(): void;
  /** Resolves true once the held lock's signal aborts (the holder knows its lease is lost), false after `deadlineMs`. */
  lostWithin(deadlineMs: number): Promise<boolean>;
}

export interface HolderOptions {
  /** This holder's lock lifetime; default the world's. */
  lockDurationMs?: number;
}

export interface World {
  kind: RotatableKind;
  /** revokePreviousAfter as the inventory writes it, and the credential lock's lifetime (WorldOptions). */
  window: string;
  lockDurationMs: number | undefined;
  credentialId: string;
  organizationId: string;
  prefix: string;
  /** The world's clock, when not the real one. */
  clock: VirtualClock | undefined;
  /** The secret the inventory names now. */
  secretId: string;
  store: SecretStore;
  monitor: InvariantMonitor;
  logs: string[];
  logger: Logger;
  /** The live credentials the rotator made for this credential (by its marker: this deployment's scope and one of its secrets). */
  liveMadeByRotator(): number;
  /**
   * Keys of this deployment's live credentials: the first one a person stored, and every one its
   * rotations made (its scope and one of its secrets' digests in the marker).
   */
  ownKeys(): Set<string>;
  /** Keys of every live credential of the kind on the organization, whoever made it. */
  liveKeys(): Set<string>;
  /** Why each live credential the rotator made for this credential is still alive (`LiveCensus`). */
  liveCensus(): Promise<LiveCensus>;
  /** Every secret value of the world, for leak searches. */
  secretValues(): string[];
  holder(gate?: Gate, options?: HolderOptions): Holder;
  /** Points the inventory at another secret (a renamed or replaced secret). */
  renameSecret(secretId: string): void;
  close(): Promise<void>;
}

/**
 * The live credentials the rotator made for one credential, each counted under the first rule that
 * lets it live (docs/design.md, "What stays alive"): a stage of a secret consumers read holds it;
 * an overlap window protects it — a credential the rotator made after it, still listed, was
 * promoted less than the window ago (or, only pending or never stored, made or stored less than the
 * window ago), the promotion dated as the revoke guard dates it: by the time Redis recorded for the
 * rotation whose version is AWSCURRENT, else by the first check that found that version current
 * without that record (recorded then), else now (after a Redis loss the rotator cannot tell which
 * later credential replaced it, when, nor whether it was ever current, so the latest one counts,
 * by the later bound); or it was made before a recreation from a lost secret, or for a secret of another name
 * (before a rename), and is left for a person. Every
 * other one is `unexplained`: the rotator left a working credential nobody needs.
 */
export interface LiveCensus {
  live: number;
  held: number;
  windowed: number;
  beforeRecreation: number;
  /** Made for a secret of another name (this credential before its secret was renamed): left for a person. */
  otherSecret: number;
  /** Generation names (never values) of live credentials no rule explains. */
  unexplained: string[];
}

const PURE_PROVIDER_METHODS = new Set(['parseSecret', 'serializeSecret', 'refOf', 'expiryOf', 'missingSecret', 'hasCredential']);
/** Secret-store calls that change no stage; every other one is followed by a fresh look at the stages. */
const READS = /^(read|list|describe|get)/i;

/** Every function property of `target`, called through `around` (name, the call). */
function wrapCalls<T extends object>(
  target: T,
  skip: ReadonlySet<string>,
  around: (name: string, args: unknown[], call: () => Promise<unknown>) => Promise<unknown>,
): T {
  const out = { ...target } as Record<string, unknown>;
  for (const [name, value] of Object.entries(target)) {
    if (typeof value !== 'function' || skip.has(name)) continue;
    const fn = value as (...args: unknown[]) => Promise<unknown>;
    out[name] = (...args: unknown[]) => around(name, args, () => fn.apply(target, args));
  }
  return out as T;
}

function keyOrUndefined(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** A secret store whose version dates are read on `clock` (the emulator dates them by the real clock). */
function onClock(store: SecretStore, clock: VirtualClock): SecretStore {
  return {
    ...store,
    versionCreatedAt: async (secretId, versionId) => {
      const date = await store.versionCreatedAt(secretId, versionId);
      return date && new Date(clock.fromReal(date.getTime()));
    },
    listVersions: async (secretId, options) =>
      (await store.listVersions(secretId, options)).map((v) => (v.createdAt ? { ...v, createdAt: new Date(clock.fromReal(v.createdAt.getTime())) } : v)),
  };
}

export async function createWorld(fake: CredlyFake, redis: Redis, options: WorldOptions): Promise<World> {
  const run = randomUUID().slice(0, 8);
  const clock = options.clock;
  const now = () => clock?.now() ?? Date.now();
  const another = options.anotherDeploymentOf;
  const real = createSecretStore(createSecretsManagerClient(another?.region ? { region: another.region } : {}));
  const store = clock ? onClock(real, clock) : real;
  const organizationId = another?.of.organizationId ?? fake.state.addOrganization(`Holders ${run}`);
  const managerId = `manager-${run}`;
  const credentialId = another?.of.credentialId ?? (options.kind === 'credly-authorization-token' ? `token-${run}` : `app-${run}`);
  let secretId = another?.secretId ?? `test/holders/${run}/${options.kind === 'credly-authorization-token' ? 'token' : 'app'}`;
  const prefix = another?.prefix ?? `{holders-${run}}`;
  /** Digests of every secret this deployment stored the credential in (its name now, and any before a rename). */
  const digests = new Set([secretDigest(secretId)]);
  // Made by this deployment: its scope, one of its secrets. Markers without a deployment (legacy)
  // may be another deployment's; another deployment's name another scope, or another secret.
  const madeHere = (marker: RotatorMarker | undefined): marker is RotatorMarker =>
    marker?.credentialId === credentialId && marker.scope === prefix && (marker.secret === undefined || digests.has(marker.secret));
  const isOurs = (description: string | null) => madeHere(parseMarker(description));
  /** Every credential the rotator ever made for this credential, dead ones included. */
  const madeEver = (): Array<{ key: string; createdAt: number; marker: RotatorMarker; live: boolean }> => {
    const records =
      options.kind === 'credly-authorization-token'
        ? fake.state.tokens(organizationId).map((t) => ({ key: t.token, createdAt: t.createdAt, description: t.description, live: fake.state.isTokenLive(t) }))
        : fake.state.applicationsEver(organizationId).map((a) => ({ key: a.uid, createdAt: a.createdAt, description: a.description, live: !a.deleted }));
    return records.flatMap(({ key, createdAt, description, live }) => {
      const marker = parseMarker(description);
      return madeHere(marker) ? [{ key, createdAt: createdAt.getTime(), marker, live }] : [];
    });
  };

  /** Creation times of the credentials of `alive` the rotator made for this credential and secret after `key`, by another rotation. */
  const madeAfter = (key: string, alive: ReadonlySet<string>, find: (key: string) => { createdAt: Date; description: string | null } | undefined) => {
    const x = find(key);
    if (!x) return [];
    const ofX = parseMarker(x.description);
    return [...alive].flatMap((k) => {
      const y = k === key ? undefined : find(k);
      const m = y && parseMarker(y.description);
      if (!y || !m || m.credentialId !== credentialId || m.scope !== prefix || y.createdAt.getTime() <= x.createdAt.getTime()) return [];
      if ((m.secret !== undefined && m.secret !== secretDigest(secretId)) || m.rotationId === ofX?.rotationId) return [];
      return [y.createdAt.getTime()];
    });
  };
  let probe: CredentialProbe;
  let managerLines = '';
  /** The first credential, stored by a person. */
  let originalKey: string;
  const isLive = (key: string) => probe.liveKeys().has(key);
  if (options.kind === 'credly-authorization-token') {
    const original = fake.state.addToken(organizationId, {
      description: another ? 'made by hand (another deployment)' : 'made by hand',
      createdAt: new Date(now() - (options.tokenAgeDays ?? 100) * DAY),
    });
    await store.putCurrent(secretId, JSON.stringify({ token: original.token, tokenId: original.id }));
    originalKey = original.token;
    probe = {
      keyOf: (s) => keyOrUndefined(() => parseSecretValue('credly-authorization-token', s).token),
      liveKeys: () => new Set(fake.state.liveTokens(organizationId).map((t) => t.token)),
      createdAt: (key) => fake.state.tokenByValue(key)?.createdAt.getTime(),
      madeAfter: (key, alive) => madeAfter(key, alive, (k) => fake.state.tokenByValue(k)),
    };
  } else {
    const manager = fake.state.addToken(organizationId, { description: 'management token (by hand)' });
    const managerSecret = `test/holders/${run}/manager`;
    await store.putCurrent(managerSecret, JSON.stringify({ token: manager.token, tokenId: manager.id }));
    const original = fake.state.createApplication(organizationId, { name: 'LMS badge sync' });
    await store.putCurrent(secretId, JSON.stringify({ clientId: original.uid, clientSecret: original.secret, applicationId: original.id }));
    originalKey = original.uid;
    probe = {
      keyOf: (s) => keyOrUndefined(() => parseSecretValue('credly-oauth-application', s).clientId),
      liveKeys: () => new Set(fake.state.applications(organizationId).map((a) => a.uid)),
      createdAt: (key) => fake.state.findClient(key)?.createdAt.getTime(),
      madeAfter: (key, alive) => madeAfter(key, alive, (k) => fake.state.applicationsEver(organizationId).find((a) => a.uid === k)),
    };
    managerLines = `  - id: ${managerId}
    kind: credly-authorization-token
    secretId: ${managerSecret}
    organizationId: ${organizationId}
    environment: production
    endpoints: { apiBase: "${fake.apiBase}" }
`;
  }
  const inventoryFor = (id: string): Inventory<CredentialConfig> =>
    parseInventory(`version: 1
defaults:
  revokePreviousAfter: 0s
  forceCooldown: 0s
credentials:
${managerLines}  - id: ${credentialId}
    kind: ${options.kind}
    secretId: ${id}
    organizationId: ${organizationId}
    environment: production
    revokePreviousAfter: ${options.window}
${
  options.kind === 'credly-authorization-token'
    ? `    endpoints: { apiBase: "${fake.apiBase}" }`
    : `    managedBy: ${managerId}
    applicationName: LMS badge sync
    scopes: [issued_badges]
    endpoints: { apiBase: "${fake.apiBase}", tokenUrl: "${fake.tokenUrl}" }`
}
`);
  let inventory = inventoryFor(secretId);
  const monitor = createInvariantMonitor({ store, probe, windowMs: options.windowMs, now });
  monitor.watchSecret(secretId);
  await monitor.refresh();
  const queue: Queue = createQueue(redis, prefix);
  const { logger, lines: logs } = captureLogger();

  return {
    kind: options.kind,
    window: options.window,
    lockDurationMs: options.lockDurationMs,
    credentialId,
    organizationId,
    prefix,
    clock,
    get secretId() {
      return secretId;
    },
    store,
    monitor,
    logs,
    logger,
    liveMadeByRotator: () =>
      options.kind === 'credly-authorization-token'
        ? fake.state.liveTokens(organizationId).filter((t) => isOurs(t.description)).length
        : fake.state.applications(organizationId).filter((a) => isOurs(a.description)).length,
    liveKeys: () => probe.liveKeys(),
    ownKeys: () => new Set([...(isLive(originalKey) ? [originalKey] : []), ...madeEver().flatMap((x) => (x.live ? [x.key] : []))]),
    async liveCensus() {
      await monitor.refresh();
      const made = madeEver();
      const at = now();
      const census: LiveCensus = { live: 0, held: 0, windowed: 0, beforeRecreation: 0, otherSecret: 0, unexplained: [] };
      // null: never stored.
      const storedAt = async (rotationId: string) => (await store.versionCreatedAt(secretId, rotationId).catch(() => null))?.getTime() ?? null;
      // A window runs from the latest replacement's promotion. Secrets Manager dates no label move:
      // while AWSCURRENT is the version of the rotation Redis names last, every promotion happened by
      // the time it recorded; otherwise (Redis lost, a rollback) by now at the latest.
      const versions = await store.listVersions(secretId).catch(() => []);
      const labels = new Map(versions.map((v) => [v.versionId, v.stages]));
      const status = await redis.hgetall(statusKey(prefix, credentialId));
      const currentVersion = versions.find((v) => v.stages.includes('AWSCURRENT'))?.versionId;
      // Or by the time a check first found that version current without such a record.
      const promotedBy =
        currentVersion !== undefined && currentVersion === status.lastRotationId && status.lastRotatedAt
          ? Date.parse(status.lastRotatedAt)
          : currentVersion !== undefined && currentVersion === status.currentSeenVersion && status.currentSeenAt
            ? Math.min(Date.parse(status.currentSeenAt), at)
            : at;
      const replacedAt = async (later: { createdAt: number; marker: RotatorMarker }) => {
        const stored = await storedAt(later.marker.rotationId);
        if (stored === null) return later.createdAt;
        const stages = labels.get(later.marker.rotationId) ?? [];
        const pending = stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT') && !stages.includes('AWSPREVIOUS');
        return Math.max(later.createdAt, stored, pending ? 0 : promotedBy);
      };
      for (const x of made.filter((m) => m.live)) {
        census.live += 1;
        if (monitor.stagesOf(x.key).length) {
          census.held += 1;
          continue;
        }
        let until = 0;
        if (options.windowMs > 0)
          for (const later of made.filter((y) => y.live && y.createdAt > x.createdAt)) until = Math.max(until, (await replacedAt(later)) + options.windowMs);
        if (until > at) {
          census.windowed += 1;
          continue;
        }
        if (made.some((r) => r.marker.replaces === '' && r.createdAt > x.createdAt)) {
          census.beforeRecreation += 1;
          continue;
        }
        if (x.marker.secret !== undefined && x.marker.secret !== secretDigest(secretId)) {
          census.otherSecret += 1;
          continue;
        }
        census.unexplained.push(monitor.nameOf(x.key));
      }
      return census;
    },
    secretValues: () => [...fake.state.tokens(organizationId).map((t) => t.token), ...fake.state.applications(organizationId).map((a) => a.secret)],
    holder(gate = OPEN_GATE, holderOptions = {}) {
      // A refused application secret is asked again after a short delay here (the default waits seconds).
      const kinds = createKinds({ inventory, secrets: store, requestTimeoutMs: 3_000, recheckDelayMs: 100 });
      const lockDurationMs = holderOptions.lockDurationMs ?? options.lockDurationMs ?? 30_000;
      const base = createJobDependencies({
        inventory,
        secrets: store,
        redis,
        queue,
        prefix,
        lockDurationMs,
        kinds,
        ...(clock ? { now: () => clock.date() } : {}),
      });
      // The lock over a connection the test can cut (HolderLease), and the lock it holds, once acquired.
      let cut = false;
      const lockRedis = new Proxy(redis, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) =>
            cut && (property === 'eval' || property === 'set')
              ? Promise.reject(new Error('this holder is cut off from Redis'))
              : (value as (...a: unknown[]) => unknown).apply(target, args);
        },
      });
      const realLock = createCredentialLock(lockRedis, { prefix, ttlMs: lockDurationMs });
      let held: HeldLock | undefined;
      const lock: CredentialLock = {
        async acquire(id) {
          const got = await realLock.acquire(id);
          if (id === credentialId && got) held = got;
          return got;
        },
      };
      const lease: HolderLease = {
        cut: () => void (cut = true),
        heal: () => void (cut = false),
        async lostWithin(deadlineMs) {
          const signal = held?.signal;
          if (!signal) return false;
          if (signal.aborted) return true;
          return new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), deadlineMs);
            signal.addEventListener(
              'abort',
              () => {
                clearTimeout(timer);
                resolve(true);
              },
              { once: true },
            );
          });
        },
      };
      // Every write a lock holder makes under its token must be refused once the lock is no longer its
      // own (the compare in one script): the monitor records any that was accepted. The rotation
      // record's writes are pause points too, like the provider and Secrets Manager calls.
      const state = base.rotation.state;
      const underToken = async <T>(name: string, token: string, call: () => Promise<T>): Promise<T> => {
        const owned = (await redis.get(lockKey(prefix, credentialId))) === token;
        const result = await call();
        if (!owned) monitor.violations.push(`state.${name}: a write under a lock token that no longer holds the lock was accepted`);
        return result;
      };
      const fencedState: RotationStateStore = {
        ...state,
        async save(record, token) {
          await gate.before('state.save');
          return underToken('save', token, () => state.save(record, token));
        },
        async clear(id, rotationId, token) {
          await gate.before('state.clear');
          return underToken('clear', token, () => state.clear(id, rotationId, token));
        },
        async addRotationJob(id, jobId, rotationId) {
          await gate.before('state.addRotationJob');
          return state.addRotationJob(id, jobId, rotationId);
        },
        updateStatus: (id, fields, token) =>
          token === undefined ? state.updateStatus(id, fields) : underToken('updateStatus', token, () => state.updateStatus(id, fields, token)),
      };
      const guardProvider = <P extends object>(provider: P): P =>
        wrapCalls(provider, PURE_PROVIDER_METHODS, async (name, _args, call) => {
          await gate.before(`provider.${name}`);
          return monitor.guard(`provider.${name}`, call);
        });
      const deps: JobDependencies = {
        ...base,
        rotation: { ...base.rotation, state: fencedState, lock },
        secrets: wrapCalls(base.secrets, new Set(), async (name, args, call) => {
          await gate.before(`secrets.${name}`);
          if (name === 'promote') return monitor.promoting(String(args[0]), call, String(args[1]));
          if (READS.test(name)) return call();
          try {
            const result = await call();
            // A secret created by a rotation (kinds that start from nothing): its first version is current.
            if (name === 'create') monitor.notePromoted(String(args[1]));
            return result;
          } finally {
            await monitor.refresh();
          }
        }),
        // Every rotation provider's calls pass the gate and the monitor.
        kinds: new Map(
          [...base.kinds].map(([kind, runtime]) => [kind, runtime.mode === 'rotate' ? { ...runtime, rotator: guardProvider(runtime.rotator) } : runtime]),
        ),
      };
      return {
        deps,
        async run(name, payload, jobId = randomUUID()) {
          const definition = jobRegistry[name];
          const parsed = definition.schema.parse(payload) as never;
          return definition.handle(deps, parsed, { jobId, attempt: 1, logger: logger.child({ jobId }) });
        },
        lease,
      };
    },
    renameSecret(id) {
      // What the rotator made for the secret of the old name is another secret's from now on: never
      // deleted, whatever happens after (docs/design.md, "What stays alive").
      const oldDigest = secretDigest(secretId);
      for (const x of madeEver())
        if (x.live && x.marker.secret === oldDigest) monitor.protect(x.key, `its marker names the secret ${secretId}, renamed since (another secret's)`, true);
      secretId = id;
      digests.add(secretDigest(id));
      inventory = inventoryFor(id);
      monitor.watchSecret(id);
    },
    async close() {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
}
