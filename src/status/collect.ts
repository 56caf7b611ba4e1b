import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { nextTick, type CredentialBase } from '../config/index.ts';
import { FORCE_REFUSED, GOOD_RESULTS, daysToExpiryOf, type CredentialStatus, type RotationStateStore } from '../state/rotation-state.ts';
import { previousStateClass } from '../rotation/previous-state.ts';
import { unprovenRefs, unrevokedRefs } from '../rotation/unrevoked.ts';

export interface CredentialView {
  id: string;
  kind: string;
  /** `ok`, `failing`, `rotating (<step>)`, `cooldown` (a forced rotation was refused; not a failure), or `unknown` (never checked). */
  state: string;
  lastResult: string | null;
  /** The last message: shown only to the dashboard's users (see public-view.ts). */
  lastSummary: string | null;
  /** While failing: the failure's class (`ProviderAuthError`, `invalid-credential`…), never its text. */
  errorClass: string | null;
  lastCheckAt: string | null;
  /** The last check that ended well. */
  lastSuccessAt: string | null;
  expiresAt: string | null;
  /** Whole days from now to `expiresAt` (negative once expired). */
  daysToExpiry: number | null;
  lastRotatedAt: string | null;
  /**
   * What became of the replaced credential. With messages: the text (`revoke failed: …` quotes the
   * provider or AWS). Without (public-view.ts): its class, as `previousStateClass`.
   */
  previousState: string | null;
  /** The class of `previousState`: revoked, already-gone, nothing-to-revoke, left-to-expire, not-revoked, kept, scheduled, revoke-failed (other: a text of an older version). */
  previousStateClass: string | null;
  /** Provider ids of replaced credentials still valid at the provider: revoke them by hand. */
  unrevoked: string[];
  /** Provider ids of credentials the secret names that are not provably its own: never deleted, for a person to check. */
  unproven: string[];
  /**
   * Provider ids of credentials the rotator made for this credential and leaves for a person (made
   * before a recreation from a lost secret, for a secret of another name, or before markers named a
   * deployment and a secret): never reaped; delete them by hand once nothing uses them.
   */
  leftAlone: string[];
  nextRunAt: string | null;
}

export interface StatusView {
  generatedAt: string;
  credentials: CredentialView[];
  queue: Record<string, number>;
  /**
   * Set by the worker's status page (`lastKnownStatus`, public-view.ts): `reachable` when the view
   * was read just now; `unreachable` when Redis did not answer within the wait, so the view is the
   * last one read, as of `readAt`.
   */
  redis?: 'reachable' | 'unreachable';
  /** When the view's values were read from Redis (with `redis`). */
  readAt?: string;
}

/** Credential views computed between two turns of the event loop. */
const VIEW_CHUNK = 250;

/** The tick node-cron fires next (src/config/cron.ts): the same computation as the firing. */
export function nextRun(schedule: string, now: Date): string | null {
  try {
    return nextTick(schedule, now).toISOString();
  } catch {
    return null;
  }
}

function view(credential: CredentialBase, status: CredentialStatus, rotating: string | undefined, next: string | null, now: Date): CredentialView {
  const result = status.lastResult ?? null;
  const state = rotating
    ? `rotating (${rotating})`
    : result === null
      ? 'unknown'
      : GOOD_RESULTS.has(result)
        ? 'ok'
        : result === FORCE_REFUSED
          ? 'cooldown'
          : 'failing';
  return {
    id: credential.id,
    kind: credential.kind,
    state,
    lastResult: result,
    lastSummary: status.lastSummary ?? null,
    // A validation records its class as the result; a failed job names its error's class.
    errorClass: state === 'failing' ? status.lastErrorClass || result : null,
    lastCheckAt: status.lastCheckAt ?? null,
    lastSuccessAt: status.lastSuccessAt ?? null,
    expiresAt: status.expiresAt || null,
    daysToExpiry: daysToExpiryOf(status, now) ?? null,
    lastRotatedAt: status.lastRotatedAt ?? null,
    previousState: status.previousState || null,
    previousStateClass: status.previousState ? previousStateClass(status.previousState) : null,
    unrevoked: unrevokedRefs(status),
    unproven: unprovenRefs(status),
    leftAlone: (status.leftAlone ?? '').split(' ').filter(Boolean),
    nextRunAt: next,
  };
}

/** Everything `rotator status` and the status page show, read from Redis: ids, states and dates only. */
export async function collectStatus(options: {
  credentials: readonly CredentialBase[];
  state: Pick<RotationStateStore, 'readOverview'>;
  queue: Pick<Queue, 'getJobCounts'>;
  now?: Date;
}): Promise<StatusView> {
  const now = options.now ?? new Date();
  // Most credentials share a few schedules: each is computed once.
  const nextRuns = new Map<string, string | null>();
  const nextOf = (schedule: string) => {
    if (!nextRuns.has(schedule)) nextRuns.set(schedule, nextRun(schedule, now));
    return nextRuns.get(schedule) ?? null;
  };
  const overview = await options.state.readOverview(options.credentials.map((c) => c.id));
  // A few hundred views between two turns of the event loop: thousands of credentials never hold it long.
  const credentials: CredentialView[] = [];
  for (let i = 0; i < options.credentials.length; i += 1) {
    if (i > 0 && i % VIEW_CHUNK === 0) await nextTurn();
    const c = options.credentials[i]!;
    credentials.push(view(c, overview[i]!.status, overview[i]!.step, nextOf(c.schedule), now));
  }
  const queue = await options.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
  return { generatedAt: now.toISOString(), credentials, queue };
}
