import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * One lock per credential in Redis, so that exactly one rotation of a credential runs at a time
 * however many replicas run and however the job arrived (docs/design.md, invariant 4).
 *
 * The lock expires on its own (`ttlMs`) and is renewed while held, so a holder killed with
 * SIGKILL frees it within one TTL and another worker resumes the rotation. Release and renewal
 * act only on the holder's own token, so a holder that lost its lock cannot free someone else's.
 */
export interface CredentialLock {
  /** Holds the lock for `credentialId` and returns a handle, or undefined when another holder has it. */
  acquire(credentialId: string): Promise<HeldLock | undefined>;
}

export interface HeldLock {
  /** Aborted when renewal finds the lock lost: the holder must stop before its next write. */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

export interface CredentialLockOptions {
  /** Key prefix, normally the queue prefix (hash-tagged for Redis Cluster). */
  prefix: string;
  /** Lifetime of an unrenewed lock, in milliseconds. Default 30000. */
  ttlMs?: number;
}

// Compare-and-act: only the holder's token may renew or delete the key.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function lockKey(prefix: string, credentialId: string): string {
  return `${prefix}:lock:${credentialId}`;
}

export function createCredentialLock(redis: Redis, options: CredentialLockOptions): CredentialLock {
  const ttlMs = options.ttlMs ?? 30_000;
  return {
    async acquire(credentialId) {
      const key = lockKey(options.prefix, credentialId);
      const token = randomUUID();
      const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
      if (ok !== 'OK') return undefined;
      const controller = new AbortController();
      // Renew at a third of the TTL: two renewals may fail (a Redis blip) before the lock lapses.
      const timer = setInterval(() => {
        redis.eval(RENEW, 1, key, token, String(ttlMs)).then(
          (renewed) => {
            if (renewed !== 1) controller.abort(new Error(`lock on credential "${credentialId}" was lost`));
          },
          () => undefined,
        );
      }, Math.max(100, Math.floor(ttlMs / 3)));
      timer.unref();
      return {
        signal: controller.signal,
        async release() {
          clearInterval(timer);
          await redis.eval(RELEASE, 1, key, token);
        },
      };
    },
  };
}
