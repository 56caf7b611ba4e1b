import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connection.ts';
import { LeaseLostError } from './fence.ts';
import type { Fence } from './fence.ts';

/**
 * One lock per credential in Redis, so that exactly one rotation of a credential runs at a time
 * however many replicas run and however the job arrived (docs/design.md, invariant 4).
 *
 * The lock expires on its own (`ttlMs`) and is renewed while held, so a holder killed with
 * SIGKILL frees it within one TTL and another worker resumes the rotation. Release and renewal
 * act only on the holder's own token, so a holder that lost its lock cannot free someone else's.
 *
 * Fencing: the holder counts its lease from the moment it sent the last renewal Redis accepted.
 * Once that is older than half the TTL (renewals failing, hanging, or the event loop stalled), or
 * a renewal finds the key gone or someone else's, the lease is no longer proven: the signal aborts
 * and `assertHeld` throws. The other half of the TTL is the margin in which the holder's in-flight
 * calls are aborted before another worker can take the lock.
 *
 * The lease is timed on the monotonic clock (`performance.now()`), never the wall clock: a step of
 * the system time (NTP, a person, a VM resumed) neither extends a lease nor cuts it short.
 */
export interface CredentialLock {
  /** Holds the lock for `credentialId` and returns a handle, or undefined when another holder has it. */
  acquire(credentialId: string): Promise<HeldLock | undefined>;
}

export interface HeldLock extends Fence {
  /** The holder's token: rotation state writes are compare-and-set against it. */
  readonly token: string;
  release(): Promise<void>;
}

export interface CredentialLockOptions {
  /** Key prefix, normally the queue prefix (hash-tagged for Redis Cluster). */
  prefix: string;
  /** Lifetime of an unrenewed lock, in milliseconds. Default 30000. */
  ttlMs?: number;
}

/** Share of the TTL after the last accepted renewal beyond which the lease counts as unproven. */
export const SAFE_LEASE_FRACTION = 0.5;
/** Renewals per TTL: a renewal may land up to a quarter TTL late before the lease is unproven. */
const RENEWALS_PER_TTL = 4;

// Compare-and-act: only the holder's token may renew or delete the key.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function lockKey(prefix: string, credentialId: string): string {
  return `${prefix}:lock:${credentialId}`;
}

export function createCredentialLock(redis: RedisClient, options: CredentialLockOptions): CredentialLock {
  const ttlMs = options.ttlMs ?? 30_000;
  const safeMs = Math.floor(ttlMs * SAFE_LEASE_FRACTION);
  return {
    async acquire(credentialId) {
      const key = lockKey(options.prefix, credentialId);
      const token = randomUUID();
      const sentAt = performance.now();
      const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
      if (ok !== 'OK') return undefined;
      let provenAt = sentAt;
      const controller = new AbortController();
      const lose = (why: string) => {
        if (!controller.signal.aborted) controller.abort(new LeaseLostError(credentialId, why));
      };
      const unproven = () => `no renewal accepted for ${performance.now() - provenAt} ms (lease ${ttlMs} ms, proven for ${safeMs} ms)`;
      // Fires when the lease stops being proven without any renewal saying so (Redis unreachable or paused).
      let watchdog: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => lose(unproven()), Math.max(0, provenAt + safeMs - performance.now()));
        watchdog.unref();
      };
      arm();
      let renewing = false;
      const timer = setInterval(
        () => {
          // One renewal at a time: a hanging one is not joined by more behind it.
          if (renewing || controller.signal.aborted) return;
          renewing = true;
          const sent = performance.now();
          redis.eval(RENEW, 1, key, token, String(ttlMs)).then(
            (renewed) => {
              renewing = false;
              if (renewed !== 1) return lose('the lock expired or another holder took it');
              provenAt = sent;
              arm();
            },
            () => {
              renewing = false;
            },
          );
        },
        Math.max(50, Math.floor(ttlMs / RENEWALS_PER_TTL)),
      );
      timer.unref();
      return {
        token,
        signal: controller.signal,
        assertHeld() {
          // Judged on the clock, not only on the timers: after an event-loop stall no timer has run yet.
          if (!controller.signal.aborted && performance.now() - provenAt > safeMs) lose(unproven());
          controller.signal.throwIfAborted();
        },
        async release() {
          clearInterval(timer);
          clearTimeout(watchdog);
          await redis.eval(RELEASE, 1, key, token);
        },
      };
    },
  };
}
