import { expect, it } from 'vitest';
import { clock, inOffset } from './clock.ts';
import { missed, runScenario } from './context.ts';

it('writes a time in another UTC offset that parses back to the same instant', () => {
  const at = new Date('2026-06-01T12:00:00.000Z');
  expect(inOffset(at, '+05:30')).toBe('2026-06-01T17:30:00.000+05:30');
  expect(inOffset(at, '-08:00')).toBe('2026-06-01T04:00:00.000-08:00');
  expect(inOffset(at, 'Z')).toBe('2026-06-01T12:00:00.000Z');
  for (const offset of ['+05:30', '-08:00', '+14:00', '-12:00', '+09:45']) expect(Date.parse(inOffset(at, offset))).toBe(at.getTime());
});

it('clock (short): expiry decisions under offsets and skew are all correct', async () => {
  const rows = await runScenario(clock, 'short', process.env.SOAK_VERBOSE ? (line) => console.log(line) : undefined);
  if (process.env.SOAK_VERBOSE) for (const r of rows) console.log(`ROW ${r.scenario} | ${r.figure} | ${r.value} | ${r.target} | ${r.ok ? 'ok' : 'MISSED'}`);
  expect(missed(rows)).toEqual([]);
  expect(rows.map((r) => r.figure)).toEqual(['expiry decisions checked', 'wrong decisions', 'crashes']);
  // 26 fixed cases and 8 random ones from the seed.
  expect(rows[0]!.value).toBe('34');
}, 120_000);
