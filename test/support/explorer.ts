import type { Redis } from 'ioredis';
import { lockKey } from '../../src/lease/credential-lock.ts';
import type { CredlyFake } from '../fakes/credly.fake.ts';
import { createWorld, Pauser, type World, type WorldOptions } from './holders.ts';

/**
 * The deterministic interleaving explorer: two holders of one credential. Holder A (a forced
 * rotation) is paused before its i-th provider or Secrets Manager call, and its lock is taken from
 * it there (the key deleted, as when renewals fail and the lease lapses while A still works; A's
 * own renewal timer does not fire during the run, the worst case). Holder B (another forced
 * rotation, another job) then starts and is paused before its j-th call; A resumes and runs to its
 * end, then B does. Every i of A's calls is tried with every j of B's calls, and B running to its
 * end before A resumes (with a stride, a regular sample of the j). A scheduled check by a third holder settles, and after each pair the
 * invariant must hold: AWSCURRENT works at the fake, and the monitor saw nothing revoked while a
 * stage held it or inside its window.
 */
export interface ExploreResult {
  /** Labels of A's calls in a run on its own: its step boundaries. */
  boundariesA: string[];
  pairs: number;
  /** One line per pair that broke the invariant (calls named by label and position, never a value). */
  failures: string[];
  /** The most credentials made by the rotator alive at once after a pair, and the bound. */
  maxLiveMade: number;
}

/** Live credentials the rotator made, at most, after two forced rotations and a check. */
export const LIVE_MADE_BOUND = 3;

const settle = (p: Promise<unknown>) =>
  p.then(
    () => 'completed',
    (error: unknown) => `failed: ${(error as Error).message.split('\n')[0] ?? ''}`,
  );

async function checkAfter(world: World, label: string): Promise<string[]> {
  await world.monitor.sweep(`${label}, at the end`);
  await world.monitor.checkCurrentWorks(world.secretId, `${label}, at the end`);
  return [...world.monitor.violations];
}

export interface ExploreOptions extends WorldOptions {
  /** Pairs run at once, each with a credential of its own; default 3. */
  concurrency?: number;
  /**
   * 1 (default): every pair. n > 1: for each call i of A, every n-th call of B, starting at
   * (i + offset) mod n, so every call of A and every call of B is still a pause point (npm test).
   */
  stride?: number;
  offset?: number;
  /**
   * How A loses its lock at its pause. `deleted` (default): the key is deleted and A's own renewal
   * does not fire during the pair, the worst case for the record writes and the fresh reads.
   * `lapsed`: A's renewals fail (its lock's Redis calls are cut), and A's lock code must count its
   * lease lost within the lock's lifetime (LAPSING_LOCK_MS) — its signal aborts — before the key, as
   * if expired, is deleted and B starts.
   */
  lease?: 'deleted' | 'lapsed';
}

/** A's lock lifetime when its lease lapses: its lease is unproven half of it after the last renewal. */
export const LAPSING_LOCK_MS = 2_000;

export async function explore(fake: CredlyFake, redis: Redis, options: ExploreOptions): Promise<ExploreResult> {
  const force = (world: World) => ({ credentialId: world.credentialId, trigger: 'manual', force: true });
  const reference = await createWorld(fake, redis, options);
  const solo = new Pauser();
  try {
    await reference.holder(solo).run('check-credential', force(reference));
  } finally {
    await reference.close();
  }
  const boundariesA = [...solo.calls];
  const failures: string[] = [];
  let pairs = 0;
  let maxLiveMade = 0;

  /** One pair; resolves whether B reached its j-th call (so there are more j to try). */
  async function pair(i: number, j: number): Promise<boolean> {
    const world = await createWorld(fake, redis, options);
    try {
      const a = new Pauser();
      const b = new Pauser();
      const aAt = a.pauseAt(i);
      const lapsed = options.lease === 'lapsed';
      const aHolder = world.holder(a, lapsed ? { lockDurationMs: LAPSING_LOCK_MS } : {});
      const aRun = settle(aHolder.run('check-credential', force(world)));
      const aLabel = await Promise.race([aAt, aRun.then((end) => Promise.reject(new Error(`A ended before call ${i}: ${end}`)))]);
      const leaseFailures: string[] = [];
      if (lapsed) {
        aHolder.lease.cut();
        if (!(await aHolder.lease.lostWithin(LAPSING_LOCK_MS)))
          leaseFailures.push(`A paused before call ${i} (${aLabel}): its renewals failed for ${LAPSING_LOCK_MS} ms and it still counted its lease held`);
      }
      // The key is gone: expired after A's renewals stopped, or taken from A.
      await redis.del(lockKey(world.prefix, world.credentialId));
      const bAt = b.pauseAt(j);
      const bRun = settle(world.holder(b).run('check-credential', force(world)));
      const bLabel = await Promise.race([bAt, bRun.then(() => undefined)]);
      aHolder.lease.heal();
      a.resume();
      const aEnd = await aRun;
      b.resume();
      const bEnd = await bRun;
      const cEnd = await settle(world.holder().run('check-credential', { credentialId: world.credentialId, trigger: 'schedule' }));
      const label = `A paused before call ${i} (${aLabel}), B ${bLabel ? `paused before call ${j} (${bLabel})` : 'ran to its end'}`;
      const violations = [...leaseFailures, ...(await checkAfter(world, label))];
      const live = world.liveMadeByRotator();
      maxLiveMade = Math.max(maxLiveMade, live);
      if (live > LIVE_MADE_BOUND) violations.push(`${label}: ${live} live credentials made by the rotator (bound ${LIVE_MADE_BOUND})`);
      if (violations.length) failures.push(`${violations.join('; ')} [A ${aEnd}; B ${bEnd}; check ${cEnd}]`);
      pairs += 1;
      return bLabel !== undefined;
    } catch (error) {
      failures.push(`A at ${i}, B at ${j}: ${(error as Error).message.split('\n')[0] ?? ''}`);
      pairs += 1;
      return false;
    } finally {
      await world.close();
    }
  }

  const columns = boundariesA.map((_, i) => i);
  const lanes = Array.from({ length: options.concurrency ?? 3 }, async () => {
    const stride = options.stride ?? 1;
    for (let i = columns.shift(); i !== undefined; i = columns.shift()) {
      for (let j = (i + (options.offset ?? 0)) % stride; await pair(i, j); j += stride);
    }
  });
  await Promise.all(lanes);
  return { boundariesA, pairs, failures, maxLiveMade };
}
