import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createQueue, enqueue, InvalidJobPayloadError, jobOptions } from '../../src/queue/producer.ts';
import { RETRY_BACKOFF_TYPE } from '../../src/queue/retry-delay.ts';
import { dumpRedis } from '../support/redis-dump.ts';

const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const prefix = `{enqueue-${randomUUID().slice(0, 8)}}`;
const queue = createQueue(redis, prefix, jobOptions({ jobAttempts: 7, jobBackoffMs: 2_000 }));
afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  redis.disconnect();
});

describe('enqueue (real Redis)', () => {
  it('refuses a malformed payload before it reaches Redis, naming the field and never its value', async () => {
    const secretish = `credlytoken_${randomUUID()}`;
    const attempts: Array<[unknown, string]> = [
      [{ credentialId: 'Bad Id!', trigger: 'manual' }, 'refused to enqueue check-credential: credentialId: must be a credential id from the inventory'],
      [{ credentialId: 'credly-main', trigger: 'manual', token: secretish }, 'refused to enqueue check-credential: (payload): Unrecognized key: "token"'],
      [{ credentialId: 'credly-main', trigger: 'cron' }, 'refused to enqueue check-credential: trigger:'],
      [{ credentialId: 'credly-main', rotationId: 'not-a-uuid', previousRef: 'x' }, 'refused to enqueue revoke-previous: rotationId:'],
    ];
    for (const [index, [payload, message]] of attempts.entries()) {
      const name = index === 3 ? 'revoke-previous' : 'check-credential';
      const error = await enqueue(queue, name, payload).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(InvalidJobPayloadError);
      expect((error as Error).message).toContain(message);
      expect((error as Error).message).not.toContain(secretish);
    }
    expect((await dumpRedis(redis, `${prefix}*`)).text).not.toContain(secretish);
    expect(await queue.count()).toBe(0);
  });

  it('gives jobs the configured attempts and exponential backoff with jitter (that honours Retry-After: retry-after.test.ts)', async () => {
    const job = await enqueue(queue, 'check-credential', { credentialId: 'credly-main', trigger: 'manual' });
    expect(job.opts).toMatchObject({ attempts: 7, backoff: { type: RETRY_BACKOFF_TYPE, delay: 2_000, jitter: 0.5 } });
    expect(job.data).toEqual({ credentialId: 'credly-main', trigger: 'manual', force: false });
  });
});
