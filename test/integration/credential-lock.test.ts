import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createCredentialLock, lockKey } from '../../src/lease/credential-lock.ts';

const redis = new Redis(process.env.REDIS_URL!);
afterAll(() => redis.disconnect());

describe('credential lock (real Redis)', () => {
  it('lets one holder in at a time, per credential, until it releases', async () => {
    const prefix = `{lock-${randomUUID().slice(0, 8)}}`;
    const lock = createCredentialLock(redis, { prefix, ttlMs: 5_000 });
    const held = await lock.acquire('credly-main');
    expect(held).toBeDefined();
    expect(await lock.acquire('credly-main')).toBeUndefined();
    const other = await lock.acquire('credly-other');
    expect(other).toBeDefined();
    await held!.release();
    const again = await lock.acquire('credly-main');
    expect(again).toBeDefined();
    await Promise.all([again!.release(), other!.release()]);
  });

  it('renews itself while held, and lapses within its TTL when the holder stops renewing (a killed worker)', async () => {
    const prefix = `{lock-${randomUUID().slice(0, 8)}}`;
    const lock = createCredentialLock(redis, { prefix, ttlMs: 600 });
    const held = await lock.acquire('credly-main');
    await sleep(1_500);
    expect(await lock.acquire('credly-main')).toBeUndefined();
    await held!.release();
    // A holder that died: the key was set but nothing renews it.
    await redis.set(lockKey(prefix, 'credly-dead'), 'someone', 'PX', 600);
    expect(await lock.acquire('credly-dead')).toBeUndefined();
    await sleep(800);
    const taken = await lock.acquire('credly-dead');
    expect(taken).toBeDefined();
    await taken!.release();
  });

  it('never releases a lock another holder took over, and tells the old holder it lost it', async () => {
    const prefix = `{lock-${randomUUID().slice(0, 8)}}`;
    const lock = createCredentialLock(redis, { prefix, ttlMs: 600 });
    const held = await lock.acquire('credly-main');
    // Someone else holds it now (the old holder's lock lapsed during a long pause).
    await redis.set(lockKey(prefix, 'credly-main'), 'new-holder', 'PX', 10_000);
    await expect.poll(() => held!.signal.aborted, { timeout: 2_000 }).toBe(true);
    await held!.release();
    expect(await redis.get(lockKey(prefix, 'credly-main'))).toBe('new-holder');
  });
});
