import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/kinds/registry.ts';
import { createCredentialLock } from '../../src/lease/credential-lock.ts';
import { createRotationStateStore } from '../../src/state/rotation-state.ts';
import { collectStatus } from '../../src/status/collect.ts';

const redis = new Redis(process.env.REDIS_URL!);
afterAll(() => redis.disconnect());

describe('status over many credentials (real Redis)', () => {
  it('reads every credential in pipelined batches, in inventory order, with the step of a rotation under way', async () => {
    const prefix = `{overview-${randomUUID().slice(0, 8)}}`;
    const count = 2_500; // more than two batches
    const lines = ['version: 1', 'credentials:'];
    for (let i = 0; i < count; i += 1) {
      lines.push(
        `  - id: dg-${i}`,
        '    kind: degreed-client-credentials',
        `    secretId: s/dg-${i}`,
        '    environment: production',
        '    dataCenter: US',
        '    scopes: [users:read]',
      );
    }
    const { credentials } = parseInventory(lines.join('\n'));
    const state = createRotationStateStore(redis, prefix);
    for (let i = 0; i < count; i += 3)
      await state.updateStatus(`dg-${i}`, { lastResult: i % 2 ? 'valid' : 'invalid-credential', lastCheckAt: '2026-12-01T03:00:00.000Z' });
    // A record is written only by the holder of the credential's lock.
    const held = await createCredentialLock(redis, { prefix }).acquire('dg-1001');
    await state.save(
      {
        credentialId: 'dg-1001',
        rotationId: randomUUID(),
        jobId: 'j',
        step: 'test',
        startedAt: '2026-12-01T03:00:00.000Z',
        previousRef: 'old',
        forced: false,
        trigger: 'schedule',
      },
      held!.token,
    );
    await held!.release();

    const view = await collectStatus({ credentials, state, queue: { getJobCounts: async () => ({ waiting: 0 }) }, now: new Date('2026-12-02T00:00:00Z') });
    expect(view.credentials.map((c) => c.id)).toEqual(credentials.map((c) => c.id));
    expect(view.credentials[0]).toMatchObject({
      id: 'dg-0',
      state: 'failing',
      lastResult: 'invalid-credential',
      lastCheckAt: '2026-12-01T03:00:00.000Z',
      nextRunAt: '2026-12-02T03:00:00.000Z',
    });
    expect(view.credentials[3]).toMatchObject({ state: 'ok', lastResult: 'valid' });
    expect(view.credentials[1]).toMatchObject({ state: 'unknown', lastResult: null, lastCheckAt: null });
    expect(view.credentials[1001]).toMatchObject({ state: 'rotating (test)' });
    expect(view.credentials[2_498]).toMatchObject({ id: 'dg-2498', state: 'unknown' });
    expect(view.credentials[2_499]).toMatchObject({ id: 'dg-2499', state: 'ok' });
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  });

  it('keeps the last success through later failures, for the last-success metric', async () => {
    const prefix = `{overview-${randomUUID().slice(0, 8)}}`;
    const state = createRotationStateStore(redis, prefix);
    await state.updateStatus('credly-a', { lastResult: 'rotated', lastCheckAt: '2026-12-01T03:00:00.000Z' });
    await state.updateStatus('credly-a', { lastResult: 'failed', lastCheckAt: '2026-12-02T03:00:00.000Z' });
    expect(await state.readStatus('credly-a')).toMatchObject({
      lastResult: 'failed',
      lastCheckAt: '2026-12-02T03:00:00.000Z',
      lastSuccessAt: '2026-12-01T03:00:00.000Z',
    });
    // A good result recorded apart from its check time (not due) is stamped when recorded.
    const before = Date.now();
    await state.updateStatus('credly-a', { lastResult: 'not-due' });
    expect(Date.parse((await state.readStatus('credly-a')).lastSuccessAt!)).toBeGreaterThanOrEqual(before);
    await redis.del(...(await redis.keys(`${prefix}*`)));
  });
});
