import { AsyncLocalStorage } from 'node:async_hooks';
import { RotatorError } from '../errors/rotator-error.ts';

/**
 * The lease a lock holder must be able to prove before each call it makes. Every provider request
 * and every Secrets Manager call made inside `runFenced` checks the fence first and carries its
 * signal, so a holder whose lease lapsed stops before its next write and an in-flight write is
 * aborted at the socket. The context travels with the async call chain: providers need no
 * parameter for it, and calls made outside a lock (validation, the CLI) are not fenced.
 */
export interface Fence {
  /** Aborted, with the reason, once the lease can no longer be proven. */
  readonly signal: AbortSignal;
  /** Throws (the signal's reason) unless the lease is proven right now. */
  assertHeld(): void;
}

const storage = new AsyncLocalStorage<Fence>();

export function runFenced<T>(fence: Fence, fn: () => Promise<T>): Promise<T> {
  return storage.run(fence, fn);
}

/** The fence of the lock the current call chain holds, if any. */
export function currentFence(): Fence | undefined {
  return storage.getStore();
}

/**
 * The holder of a credential's lock cannot prove its lease any more (renewals failing or late,
 * or another holder has the lock): it stops before its next write. Transient: the job is retried,
 * and then waits for the lock or finds the rotation continued by the new holder.
 */
export class LeaseLostError extends RotatorError {
  readonly credentialId: string;
  constructor(credentialId: string, why: string) {
    super(`credential "${credentialId}": lock lease not proven (${why}); stopped before the next write`);
    this.credentialId = credentialId;
  }
}
