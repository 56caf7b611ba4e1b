import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createProviderHttp } from '../../src/provider-http/http.ts';
import { createCredentialLock, lockKey } from '../../src/lease/credential-lock.ts';
import { LeaseLostError } from '../../src/rotation/errors.ts';
import { runFenced } from '../../src/lease/fence.ts';
import { createRotationStateStore, rotationKey, type RotationRecord } from '../../src/state/rotation-state.ts';
import { createSecretStore, createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { useRotationScenarios, type Scenario } from '../support/rotation-harness.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { credlyToken, inventoryYaml, seedSecrets, store as directStore } from '../support/credentials.ts';
import { parseInventory } from '../../src/kinds/registry.ts';
import { rotatorDescription } from '../../src/kinds/credly/marker.ts';
import { createCredlyClient } from '../../src/kinds/credly/token-client.ts';
import { createCredlyTokenProvider } from '../../src/kinds/credly/authorization-token/provider.ts';
import type { CredlyTokenConfig } from '../../src/kinds/credly/authorization-token/schema.ts';
import { reap, settle } from '../../src/rotation/retire.ts';
import { recheckUnrevoked } from '../../src/rotation/unrevoked.ts';
import { startTcpPauseProxy } from '../support/tcp-pause-proxy.ts';

const redis = new Redis(process.env.REDIS_URL!);
const cleanups: Array<() => Promise<unknown>> = [];
// Registered first, so it runs after the harness has cleared the faults (after-hooks run last-registered first).
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
const { hosts, scenario } = useRotationScenarios();
afterAll(() => redis.disconnect());

const newPrefix = () => `{fence-${randomUUID().slice(0, 8)}}`;

function record(credentialId: string, step: RotationRecord['step']): RotationRecord {
  return {
    credentialId,
    rotationId: randomUUID(),
    jobId: `job-${step}`,
    step,
    startedAt: new Date().toISOString(),
    previousRef: 'old-token-id',
    forced: false,
    trigger: 'schedule',
  };
}

describe('fencing: a lock holder that cannot prove its lease stops (real Redis)', () => {
  it('a holder whose Redis stops answering aborts itself at half the lease, before the lock can lapse', async () => {
    const proxy = await startTcpPauseProxy(Number(new URL(process.env.REDIS_URL!).port));
    const viaProxy = new Redis({ host: '127.0.0.1', port: proxy.port, maxRetriesPerRequest: null });
    cleanups.push(async () => {
      viaProxy.disconnect();
      await proxy.close();
    });
    const prefix = newPrefix();
    const ttlMs = 2_000;
    const before = Date.now();
    const held = (await createCredentialLock(viaProxy, { prefix, ttlMs }).acquire('credly-main'))!;
    let abortedAt = 0;
    held.signal.addEventListener('abort', () => (abortedAt = Date.now()));
    // Renewals now hang: the connection stays open, nothing comes back.
    proxy.pause();
    await expect.poll(() => held.signal.aborted, { timeout: 5_000 }).toBe(true);
    // The lock set at `before` or later stands until before + ttl: the holder stopped inside it.
    expect(abortedAt - before).toBeLessThan(ttlMs);
    expect(abortedAt - before).toBeGreaterThanOrEqual(ttlMs / 2);
    expect(held.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(() => held.assertHeld()).toThrow(/lock lease not proven \(no renewal accepted/);
    proxy.resume();
  });

  it('after an event-loop stall longer than half the lease, the very next check refuses, before any timer has run', async () => {
    const held = (await createCredentialLock(redis, { prefix: newPrefix(), ttlMs: 1_000 }).acquire('credly-main'))!;
    cleanups.push(() => held.release());
    expect(() => held.assertHeld()).not.toThrow();
    const stallUntil = Date.now() + 700;
    while (Date.now() < stallUntil) {
      // A synchronous stall: no renewal, no watchdog, no I/O can run.
    }
    expect(() => held.assertHeld()).toThrow(LeaseLostError);
    expect(held.signal.aborted).toBe(true);
  });

  it('a wall clock stepped back during an event-loop stall does not extend the lease: the next check still refuses', async () => {
    const held = (await createCredentialLock(redis, { prefix: newPrefix(), ttlMs: 1_000 }).acquire('credly-main'))!;
    cleanups.push(() => held.release());
    vi.useFakeTimers({ toFake: ['Date'] });
    cleanups.push(async () => vi.useRealTimers());
    const stallUntil = performance.now() + 700;
    while (performance.now() < stallUntil) {
      // A synchronous stall, during which the system time is stepped back an hour (NTP, a person).
    }
    vi.setSystemTime(Date.now() - 3_600_000);
    expect(() => held.assertHeld()).toThrow(LeaseLostError);
  });

  it('a wall clock stepped back while a renewal is in flight does not extend the lease: it is lost on time once renewals stop', async () => {
    // Renewals are held here until the test lets them through; the first is let through after the step.
    let sent: (() => void) | undefined;
    const renewalSent = new Promise<void>((resolve) => (sent = resolve));
    let letFirstThrough: (() => void) | undefined;
    const firstThrough = new Promise<void>((resolve) => (letFirstThrough = resolve));
    let renewals = 0;
    const hanging = new Promise<never>(() => undefined);
    const gated = new Proxy(redis, {
      get(target, property) {
        if (property !== 'eval') return Reflect.get(target, property, target) as unknown;
        return async (...args: Parameters<Redis['eval']>) => {
          if (!String(args[0]).includes('pexpire')) return target.eval(...args);
          renewals += 1;
          if (renewals > 1) return hanging;
          sent!();
          await firstThrough;
          return target.eval(...args);
        };
      },
    });
    const ttlMs = 2_000;
    const held = (await createCredentialLock(gated, { prefix: newPrefix(), ttlMs }).acquire('credly-main'))!;
    cleanups.push(() => held.release());
    await renewalSent;
    vi.useFakeTimers({ toFake: ['Date'] });
    cleanups.push(async () => vi.useRealTimers());
    vi.setSystemTime(Date.now() - 3_600_000);
    const stepped = performance.now();
    letFirstThrough!();
    // Accepted after the step, then no renewal is ever answered again: unproven within half a lease
    // of that renewal's sending, by the watchdog, without any call to assertHeld.
    await expect.poll(() => held.signal.aborted, { timeout: ttlMs * 2, interval: 50 }).toBe(true);
    expect(performance.now() - stepped).toBeLessThan(ttlMs);
    expect(() => held.assertHeld()).toThrow(LeaseLostError);
  });

  it('a stale holder cannot write, end or annotate a rotation a newer holder recorded', async () => {
    const prefix = newPrefix();
    const lock = createCredentialLock(redis, { prefix, ttlMs: 10_000 });
    const state = createRotationStateStore(redis, prefix);
    const a = (await lock.acquire('credly-main'))!;
    const recordA = record('credly-main', 'create');
    await state.save(recordA, a.token);
    expect(await state.get('credly-main')).toEqual(recordA);

    // A's lock lapsed (a long pause) and B took it and recorded its own rotation.
    await redis.del(lockKey(prefix, 'credly-main'));
    const b = (await lock.acquire('credly-main'))!;
    cleanups.push(async () => {
      await b.release();
      await a.release();
    });
    await state.clear('credly-main', recordA.rotationId, b.token);
    const recordB = record('credly-main', 'test');
    await state.save(recordB, b.token);

    await expect(state.save({ ...recordA, step: 'finish' }, a.token)).rejects.toThrow(LeaseLostError);
    await expect(state.clear('credly-main', recordB.rotationId, a.token)).rejects.toThrow(LeaseLostError);
    await expect(state.updateStatus('credly-main', { lastResult: 'rotated', lastRotationId: recordA.rotationId }, a.token)).rejects.toThrow(LeaseLostError);
    expect(await state.get('credly-main')).toEqual(recordB);
    expect(await state.readStatus('credly-main')).toEqual({});
    // The holder's own writes go through, fields set and cleared in one script.
    await state.updateStatus('credly-main', { lastResult: 'rotated', lastSummary: 'x' }, b.token);
    await state.updateStatus('credly-main', { lastSummary: '' }, b.token);
    // A good result stamps the last success too (no check time given: now).
    expect(await state.readStatus('credly-main')).toEqual({ lastResult: 'rotated', lastSuccessAt: expect.any(String) });
    expect(await redis.hget(rotationKey(prefix, 'credly-main'), 'step')).toBe('test');
  });

  it('a provider request in flight is aborted at the socket when the lease is lost, and none is sent after', async () => {
    const prefix = newPrefix();
    const held = (await createCredentialLock(redis, { prefix, ttlMs: 10_000 }).acquire('credly-main'))!;
    cleanups.push(() => held.release());
    const org = hosts.credly.state.addOrganization('Fenced');
    hosts.credly.faults.add({ match: { method: 'GET', path: `/organizations/${org}` }, fault: { kind: 'latency', ms: 8_000 } });
    const http = createProviderHttp({ provider: 'credly', requestTimeoutMs: 20_000, backoffMs: 10 });
    const get = () =>
      runFenced(held, () => http.request({ operation: 'get-organization', method: 'GET', url: `${hosts.credly.apiBase}/organizations/${org}` }));
    const started = Date.now();
    const call = get();
    // Another holder has the lock now; the next renewal (every quarter TTL) finds out.
    await redis.set(lockKey(prefix, 'credly-main'), 'second-holder', 'PX', 20_000);
    await expect(call).rejects.toThrow(LeaseLostError);
    expect(Date.now() - started).toBeLessThan(8_000);
    const sent = hosts.credly.requests.length;
    await expect(get()).rejects.toThrow(LeaseLostError);
    expect(hosts.credly.requests.length).toBe(sent);
  });

  it('a wait for Retry-After between attempts is cut short when the lease is lost', async () => {
    const prefix = newPrefix();
    const held = (await createCredentialLock(redis, { prefix, ttlMs: 10_000 }).acquire('credly-main'))!;
    cleanups.push(() => held.release());
    const org = hosts.credly.state.addOrganization('Fenced wait');
    hosts.credly.faults.add({ match: { method: 'GET', path: `/organizations/${org}` }, fault: { kind: 'status', status: 503, retryAfter: 30 } });
    const http = createProviderHttp({ provider: 'credly', requestTimeoutMs: 5_000 });
    const started = Date.now();
    const call = runFenced(held, () => http.request({ operation: 'get-organization', method: 'GET', url: `${hosts.credly.apiBase}/organizations/${org}` }));
    await expect.poll(() => hosts.credly.requests.filter((r) => r.path.endsWith(org)).length, { timeout: 5_000 }).toBe(1);
    await redis.set(lockKey(prefix, 'credly-main'), 'second-holder', 'PX', 20_000);
    await expect(call).rejects.toThrow(LeaseLostError);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(hosts.credly.requests.filter((r) => r.path.endsWith(org))).toHaveLength(1);
  });

  it("a Secrets Manager write in flight is aborted through the SDK's abortSignal when the lease is lost", async () => {
    const prefix = newPrefix();
    const held = (await createCredentialLock(redis, { prefix, ttlMs: 10_000 }).acquire('credly-main'))!;
    cleanups.push(() => held.release());
    const store = createSecretStore(createSecretsManagerClient({ endpoint: hosts.sm.url, maxAttempts: 1, requestTimeoutMs: 20_000 }));
    const secretId = `test/fence/${randomUUID().slice(0, 8)}`;
    await store.putCurrent(secretId, JSON.stringify({ token: 'current-value-1' }));
    hosts.sm.add({ operation: 'PutSecretValue', fault: { kind: 'hang' } });
    const rotationId = randomUUID();
    const started = Date.now();
    const put = runFenced(held, () => store.putPending(secretId, rotationId, JSON.stringify({ token: 'new-value-1' })));
    await hosts.sm.waitFor('PutSecretValue', 10_000).catch(() => undefined);
    await redis.set(lockKey(prefix, 'credly-main'), 'second-holder', 'PX', 20_000);
    await expect(put).rejects.toThrow(LeaseLostError);
    expect(Date.now() - started).toBeLessThan(10_000);
    hosts.sm.clear();
    expect((await store.listVersions(secretId)).flatMap((v) => v.stages)).not.toContain('AWSPENDING');
    const calls = hosts.sm.seen.length;
    await expect(runFenced(held, () => store.readCurrent(secretId))).rejects.toThrow(LeaseLostError);
    expect(hosts.sm.seen.length).toBe(calls);
  });
});

describe('fencing inside a rotation (real Redis, moto, the Credly fake over HTTP)', () => {
  it('a holder that loses its lock while creating makes no further write; the rotation is finished once by the next holder', async () => {
    const s: Scenario = await scenario({ requestTimeoutMs: 20_000 });
    // The create is slow: the lock changes hands while it is in flight.
    hosts.credly.faults.add({ match: { method: 'POST', path: /authorization_tokens$/ }, fault: { kind: 'latency', ms: 8_000 } });
    const smCallsBefore = hosts.sm.seen.length;
    const running = s.run();
    await expect.poll(() => redis.hget(rotationKey(s.prefix, s.credentialId), 'step'), { timeout: 10_000 }).toBe('create');
    const recorded = await redis.hgetall(rotationKey(s.prefix, s.credentialId));
    const takenAt = Date.now();
    await redis.set(lockKey(s.prefix, s.credentialId), 'second-holder', 'PX', 12_000);
    await expect.poll(() => s.logs.some((l) => l.includes('LeaseLostError')), { timeout: 10_000 }).toBe(true);
    // It stopped while the create was still held at the fake: the request was aborted, not awaited.
    expect(Date.now() - takenAt).toBeLessThan(8_000);
    // No write after the loss: nothing stored, nothing promoted, the record as it was.
    const smWrites = hosts.sm.seen.slice(smCallsBefore).filter((op) => /Put|Update|Create/.test(op));
    expect(smWrites).toEqual([]);
    expect(await redis.hgetall(rotationKey(s.prefix, s.credentialId))).toEqual(recorded);
    // The other holder goes away; the job, retried, resumes the same rotation and adopts the token
    // the aborted create made at the provider instead of making another.
    const result = await running;
    expect(result.state).toBe('completed');
    const current = await s.current();
    expect(hosts.credly.state.isTokenValid(current.token)).toBe(true);
    expect(
      s
        .rotatorTokens()
        .filter((t) => hosts.credly.state.isTokenLive(t))
        .map((t) => t.id),
    ).toEqual([current.tokenId]);
    expect(s.rotatorTokens().map((t) => t.description)).toEqual([expect.stringContaining(recorded.rotationId!)]);
  }, 60_000);
});

describe('status writes later decisions depend on are fenced (real Redis, moto, the Credly fake over HTTP)', () => {
  it('a holder that lost its lock writes no leftAlone, no revoke-cancelled note and no unrevoked list; the holder writes them', async () => {
    const c = credlyToken(hosts.credly, { folder: 'fence', description: 'made by hand' });
    await seedSecrets([c]);
    const credential = parseInventory(inventoryYaml([c])).credentials[0] as CredlyTokenConfig;
    // Marked before markers named a deployment: the reaper leaves it alone and records so.
    const legacy = hosts.credly.state.addToken(c.organizationId, { description: rotatorDescription(randomUUID(), c.id) });
    const provider = createCredlyTokenProvider(() => createCredlyClient({ apiBase: hosts.credly.apiBase, requestTimeoutMs: 5_000 }));
    const prefix = newPrefix();
    const state = createRotationStateStore(redis, prefix);
    const lock = createCredentialLock(redis, { prefix, ttlMs: 10_000 });
    const deps = { secrets: directStore, state, scope: prefix, now: () => new Date() };
    const acting = { token: c.token.token, tokenId: c.token.id };
    const { logger } = captureLogger();
    const writes = (holder: { token: string; assertHeld(): void }) => [
      () => reap(deps, provider, credential, acting, logger, holder),
      () => settle(deps, c.id, 'replaced-ref', { action: 'cancelled', reason: 'AWSCURRENT holds it' }, logger, holder.token),
      () => settle(deps, c.id, 'replaced-ref', { action: 'revoked', result: { state: 'not-revoked', reason: 'still listed' } }, logger, holder.token),
      () => recheckUnrevoked(state, provider, credential, acting, { unrevoked: 'replaced-ref,gone-ref' }, new Date(), logger, holder.token),
    ];

    const stale = (await lock.acquire(c.id))!;
    cleanups.push(() => stale.release());
    // Its lease lapsed and another holder took the lock.
    await redis.set(lockKey(prefix, c.id), 'another-holder', 'PX', 10_000);
    for (const write of writes(stale)) await expect(write()).rejects.toThrow(LeaseLostError);
    expect(await state.readStatus(c.id)).toEqual({});

    // The other holder is gone; the next holder's writes go through.
    await redis.del(lockKey(prefix, c.id));
    const next = (await lock.acquire(c.id))!;
    cleanups.push(() => next.release());
    const [reaping, cancelled, notRevoked, recheck] = writes(next);
    await reaping!();
    expect((await state.readStatus(c.id)).leftAlone).toBe(legacy.id);
    await cancelled!();
    expect((await state.readStatus(c.id)).revokeCancelled).toMatch(/^replaced-ref: AWSCURRENT holds it \(/);
    await notRevoked!();
    expect((await state.readStatus(c.id)).unrevoked).toBe('replaced-ref');
    // Neither is listed by Credly: the list is emptied.
    expect(await recheck!()).toEqual([]);
    expect((await state.readStatus(c.id)).unrevoked).toBeUndefined();
  });
});
