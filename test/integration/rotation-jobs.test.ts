import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRotationStateStore, ROTATION_JOBS_KEPT, rotationJobsKey, rotationOfJobKey } from '../../src/state/rotation-state.ts';

const redis = new Redis(process.env.REDIS_URL!);
afterAll(() => redis.disconnect());

describe('the jobs that took part in a rotation, with its id (real Redis)', () => {
  it('keeps the rotation id of the last jobs, forgetting the oldest from both keys together', async () => {
    const prefix = `{jobs-${randomUUID().slice(0, 8)}}`;
    const state = createRotationStateStore(redis, prefix);
    const rotations = Array.from({ length: ROTATION_JOBS_KEPT + 5 }, () => randomUUID());
    for (const [i, rotationId] of rotations.entries()) await state.addRotationJob('credly-main', `job-${i}`, rotationId);
    // A job that resumes another rotation later says so: the latest rotation it took part in.
    await state.addRotationJob('credly-main', `job-${ROTATION_JOBS_KEPT + 4}`, 'resumed-rotation');

    expect(await state.rotationOfJob('credly-main', 'job-0')).toBeUndefined();
    expect(await state.rotationOfJob('credly-main', 'job-4')).toBeUndefined();
    expect(await state.rotationOfJob('credly-main', 'job-5')).toBe(rotations[5]);
    expect(await state.rotationOfJob('credly-main', `job-${ROTATION_JOBS_KEPT + 4}`)).toBe('resumed-rotation');
    expect(await state.rotationOfJob('credly-other', 'job-5')).toBeUndefined();
    expect(await redis.zcard(rotationJobsKey(prefix, 'credly-main'))).toBe(ROTATION_JOBS_KEPT);
    expect(await redis.hlen(rotationOfJobKey(prefix, 'credly-main'))).toBe(ROTATION_JOBS_KEPT);
  });
});
