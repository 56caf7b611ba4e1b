import { fc, test } from '@fast-check/vitest';
import cron, { type ScheduledTask } from 'node-cron';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CRON_TIME_ZONE, cronProblem, nextTick, previousTick } from '../../src/config/index.ts';
import { nextRun } from '../../src/status/collect.ts';

/** One field: `*`, a value, a range, a step over `*` or a range, or a list of those. */
function field(min: number, max: number, names: readonly string[] = []): fc.Arbitrary<string> {
  const value = fc.integer({ min, max });
  const named = names.length ? fc.oneof(value.map(String), fc.constantFrom(...names)) : value.map(String);
  const range = fc.tuple(value, value).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`);
  const step = fc.integer({ min: 1, max: Math.max(1, max - min) });
  const part = fc.oneof(
    { weight: 3, arbitrary: named },
    { weight: 2, arbitrary: range },
    { weight: 1, arbitrary: step.map((s) => `*/${s}`) },
    { weight: 1, arbitrary: fc.tuple(range, step).map(([r, s]) => `${r}/${s}`) },
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant('*') },
    { weight: 3, arbitrary: part },
    { weight: 2, arbitrary: fc.array(part, { minLength: 2, maxLength: 4 }).map((parts) => parts.join(',')) },
  );
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** node-cron's day tokens: last day, nearest weekday, days before the last; last Friday, nth weekday. */
const dayOfMonth = fc.oneof({ weight: 9, arbitrary: field(1, 31) }, { weight: 1, arbitrary: fc.constantFrom('L', 'LW', '15W', '1W', 'L-2') });
const dayOfWeek = fc.oneof({ weight: 9, arbitrary: field(0, 7, DAYS) }, { weight: 1, arbitrary: fc.constantFrom('5L', '1#2', '0#5') });

/** Expressions the inventory accepts: day-of-month and day-of-week never both restricted. */
const expression = fc
  .tuple(field(0, 59), field(0, 23), dayOfMonth, field(1, 12, MONTHS), dayOfWeek, fc.boolean())
  .map(([minute, hour, dom, month, dow, byMonthDay]) => [minute, hour, byMonthDay ? dom : '*', month, byMonthDay ? '*' : dow].join(' '))
  .filter((e) => cronProblem(e) === undefined);

const YEAR_START = Date.UTC(2027, 0, 1);
const YEAR_MS = 365 * 86_400_000;
/** An instant anywhere in 2027, to the millisecond. */
const instant = fc.integer({ min: YEAR_START, max: YEAR_START + YEAR_MS - 1 }).map((ms) => new Date(ms));

/** The firing engine itself: a node-cron task in the scheduler's time zone, never started. */
function firingTask(e: string): ScheduledTask {
  return cron.createTask(e, () => undefined, { timezone: CRON_TIME_ZONE });
}

/** The ticks node-cron fires after `at` (its walk from the clock, the one the runner takes from tick to tick). */
function firedAfter(task: ScheduledTask, at: Date, count: number): Date[] {
  vi.setSystemTime(at);
  return task.getNextRuns(count);
}

describe('one cron semantics: what fires is what status shows and what a catch-up enqueues', () => {
  // node-cron reads the clock for its own walk: only Date is faked, no timer.
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  test.prop([expression, instant], { numRuns: 10_000 })(
    'the next run shown, and the two ticks after it, are node-cron’s; the catch-up tick is the last one node-cron fired',
    (e, at) => {
      const task = firingTask(e);
      try {
        const fired = firedAfter(task, at, 3);
        const shown = nextRun(e, at);
        expect(shown).toBe(fired[0]!.toISOString());
        const first = nextTick(e, at);
        const second = nextTick(e, first);
        expect([first, second, nextTick(e, second)]).toEqual(fired);

        // The latest tick at or before `at` is one node-cron fires, and its next is past `at`.
        const latest = previousTick(e, at);
        expect(latest.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(firedAfter(task, new Date(latest.getTime() - 1_000), 1)).toEqual([latest]);
        expect(firedAfter(task, latest, 1)[0]!.getTime()).toBeGreaterThan(at.getTime());
      } finally {
        void task.destroy();
      }
    },
    600_000,
  );

  it('fires `0 0 1 * *` and `0 0 * * 1` as crontab does, and refuses `0 0 1 * 1`, whose meaning differs between crons', () => {
    const after = new Date('2026-12-07T13:00:00Z');
    expect(nextRun('0 0 1 * *', after)).toBe('2027-01-01T00:00:00.000Z');
    expect(nextRun('0 0 * * 1', after)).toBe('2026-12-14T00:00:00.000Z');
    expect(nextRun('0 0 * * mon', after)).toBe('2026-12-14T00:00:00.000Z');
    expect(previousTick('0 0 * * 1', after).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    // A tick exactly at the moment counts as the latest; the next is strictly after it.
    expect(previousTick('0 0 * * 1', new Date('2026-12-07T00:00:00Z')).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(nextTick('0 0 * * 1', new Date('2026-12-07T00:00:00.400Z')).toISOString()).toBe('2026-12-14T00:00:00.000Z');
    // 29 February, years apart; six fields with seconds first.
    expect(nextRun('0 0 29 2 *', after)).toBe('2028-02-29T00:00:00.000Z');
    expect(previousTick('0 0 29 2 *', after).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(nextRun('30 0 3 * * *', after)).toBe('2026-12-08T03:00:30.000Z');

    for (const ambiguous of ['0 0 1 * 1', '0 0 1-7 * mon', '0 0 */2 * 1-5', '0 0 L * 5']) {
      expect(cronProblem(ambiguous)).toBe(
        `ambiguous cron expression "${ambiguous}": day-of-month (${ambiguous.split(' ')[2]}) and day-of-week (${ambiguous.split(' ')[4]}) are both restricted; ` +
          'crontab runs such a schedule on days that match either, node-cron only on days that match both, so it is refused: ' +
          'leave one of the two "*" (or write two credentials, one per field)',
      );
    }
    expect(cronProblem('0 0 ? * 1')).toBeUndefined();
    expect(cronProblem('0 0 1 * ?')).toBeUndefined();
  });
});
