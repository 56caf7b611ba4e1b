import { AsyncLocalStorage } from 'node:async_hooks';

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
