import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.ts';
import type { StatusView } from '../../src/status/collect.ts';

const view = (lastCheckAt: string): StatusView => ({
  generatedAt: lastCheckAt,
  credentials: [
    {
      id: 'credly-main',
      kind: 'credly-authorization-token',
      state: 'ok',
      lastResult: 'rotated',
      lastSummary: null,
      errorClass: null,
      lastCheckAt,
      lastSuccessAt: lastCheckAt,
      expiresAt: null,
      daysToExpiry: null,
      lastRotatedAt: null,
      previousState: null,
      previousStateClass: null,
      unrevoked: [],
      unproven: [],
      leftAlone: [],
      nextRunAt: null,
    },
  ],
  queue: { waiting: 2 },
});

const sample = (page: string, series: string) => {
  const line = page.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const CHECK = 'rotator_credential_last_check_timestamp_seconds{credential="credly-main",kind="credly-authorization-token"}';

/** A status source whose reads the test answers, fails or leaves hanging, on a clock the test moves. */
function source() {
  let clock = 1_000_000;
  let connected = true;
  let next: { resolve: (v: StatusView) => void; reject: (e: Error) => void } | undefined;
  let reads = 0;
  return {
    now: () => clock,
    advance: (ms: number) => (clock += ms),
    setConnected: (up: boolean) => (connected = up),
    reads: () => reads,
    answer: (v: StatusView) => next?.resolve(v),
    fail: () => next?.reject(new Error('connect ECONNREFUSED')),
    status: {
      read: () => {
        reads += 1;
        return new Promise<StatusView>((resolve, reject) => (next = { resolve, reject }));
      },
      connected: () => connected,
    },
  };
}

describe('metrics from the last status read, never waiting on Redis for long', () => {
  it('shows the last read with rotator_redis_up 0 when a read fails, hangs past staleMs, or the connection is down', async () => {
    const s = source();
    const metrics = createMetrics(undefined, { waitMs: 20, refreshMs: 1_000, staleMs: 5_000, now: s.now });
    // Before any source: process metrics, Redis down, no per-credential series.
    let page = await metrics.registry.metrics();
    expect(sample(page, 'rotator_redis_up')).toBe(0);
    expect(page).toMatch(/^process_cpu_seconds_total /m);
    expect(page).not.toMatch(/^rotator_credential_/m);

    metrics.readStatusFrom(s.status);
    const first = metrics.registry.metrics();
    s.answer(view('2026-12-01T00:00:00.000Z'));
    page = await first;
    expect(sample(page, 'rotator_redis_up')).toBe(1);
    expect(sample(page, CHECK)).toBe(Date.parse('2026-12-01T00:00:00.000Z') / 1000);
    expect(sample(page, 'rotator_status_read_timestamp_seconds')).toBe(1_000);
    expect(sample(page, 'rotator_queue_jobs{state="waiting"}')).toBe(2);

    // Within refreshMs: no new read.
    await metrics.registry.metrics();
    expect(s.reads()).toBe(1);

    // A failed read: the last values stay, Redis is reported down.
    s.advance(1_000);
    const failing = metrics.registry.metrics();
    s.fail();
    page = await failing;
    expect(sample(page, 'rotator_redis_up')).toBe(0);
    expect(sample(page, CHECK)).toBe(Date.parse('2026-12-01T00:00:00.000Z') / 1000);

    // A read that never answers: the scrape waits waitMs only; Redis is up until the read is staleMs old.
    s.advance(1_000);
    const started = performance.now();
    page = await metrics.registry.metrics();
    expect(performance.now() - started).toBeLessThan(500);
    expect(s.reads()).toBe(3);
    expect(sample(page, CHECK)).toBe(Date.parse('2026-12-01T00:00:00.000Z') / 1000);
    s.advance(6_000);
    page = await metrics.registry.metrics();
    expect(s.reads()).toBe(3);
    expect(sample(page, 'rotator_redis_up')).toBe(0);

    // The hanging read answers at last (Redis back): new values, up again.
    s.answer(view('2026-12-02T00:00:00.000Z'));
    // Its settling runs in the microtasks before the next macrotask.
    await new Promise((resolve) => setImmediate(resolve));
    expect(sample(await metrics.registry.metrics(), CHECK)).toBe(Date.parse('2026-12-02T00:00:00.000Z') / 1000);
    s.advance(1_000);
    const back = metrics.registry.metrics();
    s.answer(view('2026-12-03T00:00:00.000Z'));
    page = await back;
    expect(s.reads()).toBe(4);
    expect(sample(page, 'rotator_redis_up')).toBe(1);
    expect(sample(page, CHECK)).toBe(Date.parse('2026-12-03T00:00:00.000Z') / 1000);

    // The connection is down: no scrape waits for a read, Redis reported down at once.
    s.setConnected(false);
    s.advance(1_000);
    page = await metrics.registry.metrics();
    expect(sample(page, 'rotator_redis_up')).toBe(0);
    expect(sample(page, CHECK)).toBe(Date.parse('2026-12-03T00:00:00.000Z') / 1000);
  });
});
